package deploys

import "github.com/stagegate/stagegate/pipeline"

// DeployAWS is the role a deploy stage acts with when its environment's
// trusted policy names one: the policy the stage's passed gate was
// evaluated with, as for its secrets, so the deployed commit cannot
// choose a more powerful role than the reviewed files give it.
func (g *Gate) DeployAWS(st *pipeline.Stage) *pipeline.AWS {
	pol, ok := g.policies[st.Name]
	if !ok {
		return nil
	}
	return pol.AWS
}

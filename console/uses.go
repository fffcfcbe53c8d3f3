package console

import (
	"fmt"
	"io"

	"github.com/stagegate/stagegate/pipeline"
)

// ExplainUses says what each `uses:` action of the stages that would run
// does, since its name alone does not tell.
func ExplainUses(w io.Writer, p *pipeline.Pipeline, plan pipeline.Plan) {
	integrations := pipeline.NewIntegrations()
	header := false
	for _, sp := range plan.Stages {
		if !sp.Run {
			continue
		}
		for _, a := range append(append([]*pipeline.Action{}, sp.Stage.Actions...), sp.Stage.OnFailure...) {
			if a.Uses == "" {
				continue
			}
			if !header {
				fmt.Fprintln(w, "\nintegrations:")
				header = true
			}
			line := fmt.Sprintf("  %s/%s (%s): %s", sp.Stage.Name, a.Name, a.Uses, integrations.ExplainAction(sp.Stage, a))
			if cfg := pipeline.EffectiveAWS(p, sp.Stage, a); cfg != nil && cfg.Role != "" {
				line += fmt.Sprintf("; as role %s under the App (your own AWS credentials with stagegate run)", cfg.Role)
			}
			fmt.Fprintln(w, line)
		}
	}
}

package console

import (
	"fmt"
	"io"

	"github.com/stagegate/stagegate/pipeline"
)

// ExplainRunners lists the run: actions of the plan's stages that execute
// somewhere other than this machine, such as on AWS CodeBuild.
func ExplainRunners(w io.Writer, p *pipeline.Pipeline, plan pipeline.Plan) {
	header := false
	for _, sp := range plan.Stages {
		if !sp.Run {
			continue
		}
		for _, a := range append(append([]*pipeline.Action{}, sp.Stage.Actions...), sp.Stage.OnFailure...) {
			if a.Uses != "" || pipeline.RunnerName(sp.Stage, a) == "" {
				continue
			}
			if !header {
				fmt.Fprintln(w, "\nrunners:")
				header = true
			}
			line := fmt.Sprintf("  %s/%s runs %s", sp.Stage.Name, a.Name, pipeline.EffectiveRunner(sp.Stage, a).Explain())
			if cfg := pipeline.EffectiveAWS(p, sp.Stage, a); cfg != nil && cfg.Role != "" {
				line += fmt.Sprintf("; as role %s under the App (your own AWS credentials with stagegate run)", cfg.Role)
			}
			fmt.Fprintln(w, line)
		}
	}
}

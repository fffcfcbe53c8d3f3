package engine

import (
	"fmt"
	"strings"

	"github.com/stagegate/stagegate/pipeline"
	"github.com/stagegate/stagegate/pipeline/runner"
)

// runnerFor is the runner of a's attempt n: the engine's own unless the
// action's runner: names another. For another it fills spec.Remote, so
// that the runner can ship the workspace and tell secrets from plain
// variables without knowing the engine.
func (rs *runState) runnerFor(st *pipeline.Stage, a *pipeline.Action, spec *runner.Spec, n int, outFile string) (runner.Runner, error) {
	name := pipeline.RunnerName(st, a)
	if name == "" {
		return rs.e.Runner, nil
	}
	r, ok := rs.e.Runners[name]
	if !ok || r == nil {
		return nil, fmt.Errorf("runner %s is not available here", name)
	}
	secret := map[string]bool{}
	for _, kv := range spec.Env {
		// A value that holds a secret anywhere is one: masking changes it.
		if k, v, _ := strings.Cut(kv, "="); v != "" && rs.masks.mask(v) != v {
			secret[k] = true
		}
	}
	spec.Remote = runner.Remote{
		Runner:     pipeline.EffectiveRunner(st, a),
		AWS:        pipeline.EffectiveAWS(rs.run.Pipeline, st, a),
		RunID:      rs.run.ID,
		Stage:      st.Name,
		Action:     a.Name,
		Attempt:    n,
		Workspace:  rs.workspace,
		Artifacts:  rs.artifactDir,
		OutputFile: outFile,
		Secret:     secret,
	}
	return r, nil
}

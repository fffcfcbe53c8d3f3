//go:build unix

package engine_test

import (
	"fmt"
	"testing"

	"github.com/stagegate/stagegate/pipeline"
	"github.com/stagegate/stagegate/pipeline/engine"
	"github.com/stagegate/stagegate/pipeline/runner/local"
)

// BenchmarkRun measures the engine's own cost around real processes: the
// environment, output files, log writers and events of each action.
func BenchmarkRun(b *testing.B) {
	many := &pipeline.Pipeline{Name: "bench"}
	for s := range 3 {
		st := &pipeline.Stage{Name: fmt.Sprintf("stage%d", s)}
		for a := range 10 {
			st.Actions = append(st.Actions, &pipeline.Action{Name: fmt.Sprintf("a%d", a), Run: "true"})
		}
		many.Stages = append(many.Stages, st)
	}
	one := &pipeline.Pipeline{Name: "bench", Stages: []*pipeline.Stage{
		{Name: "only", Actions: []*pipeline.Action{{Name: "a", Run: "true"}}},
	}}
	for _, bc := range []struct {
		name string
		p    *pipeline.Pipeline
	}{{"3x10", many}, {"1", one}} {
		b.Run(bc.name, func(b *testing.B) {
			e := &engine.Engine{Runner: &local.Runner{}, Observer: engine.ObserverFunc(func(engine.Event) {})}
			r := engine.Run{
				ID:          "bench",
				Pipeline:    bc.p,
				Plan:        planAll(bc.p),
				Workspace:   b.TempDir(),
				ArtifactDir: b.TempDir(),
				TempDir:     b.TempDir(),
			}
			b.ReportAllocs()
			for b.Loop() {
				if res := e.Run(b.Context(), r); res.Status != engine.StatusSuccess {
					b.Fatalf("run %s %q", res.Status, res.Reason)
				}
			}
		})
	}
}

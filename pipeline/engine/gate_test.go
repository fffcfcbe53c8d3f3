//go:build unix

package engine_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stagegate/stagegate/pipeline"
	"github.com/stagegate/stagegate/pipeline/engine"
)

func deployStage(name string, actions ...*pipeline.Action) *pipeline.Stage {
	st := stage(name, actions...)
	st.Environment = "production"
	return st
}

func TestGateGuardsOnlyDeployStages(t *testing.T) {
	tests := []struct {
		name       string
		gateErr    error
		cancel     bool
		wantStatus []engine.Status
		wantReason string
		wantRan    bool
	}{
		{name: "open", wantStatus: []engine.Status{engine.StatusSuccess, engine.StatusSuccess, engine.StatusSuccess}, wantRan: true},
		{name: "refused", gateErr: errors.New("checks failing on abc1234: lint"),
			wantStatus: []engine.Status{engine.StatusSuccess, engine.StatusFailure, engine.StatusSkipped}, wantReason: "checks failing on abc1234: lint"},
		{name: "cancelled while waiting", cancel: true,
			wantStatus: []engine.Status{engine.StatusSuccess, engine.StatusCancelled, engine.StatusCancelled}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var gated []string
			released := 0
			ship := deployStage("ship", act("deploy", "touch shipped"))
			ship.OnFailure = []*pipeline.Action{act("rollback", "touch rolled-back")}
			res := f.run(ctx, pipe(stage("build", act("a", "true")), ship, stage("after", act("b", "true"))), func(r *engine.Run) {
				r.Gate = func(ctx context.Context, st *pipeline.Stage) (func(), error) {
					gated = append(gated, st.Name)
					if tt.cancel {
						cancel()
						<-ctx.Done()
						return nil, ctx.Err()
					}
					return func() { released++ }, tt.gateErr
				}
			})
			if !slices.Equal(gated, []string{"ship"}) {
				t.Errorf("gate called for %v, want only the deploy stage", gated)
			}
			if got := statuses(res); !slices.Equal(got, tt.wantStatus) {
				t.Errorf("statuses = %v, want %v", got, tt.wantStatus)
			}
			if sr := stageResult(t, res, "ship"); tt.wantReason != "" && sr.Reason != tt.wantReason {
				t.Errorf("reason = %q, want %q", sr.Reason, tt.wantReason)
			}
			_, err := os.Stat(filepath.Join(f.workspace, "shipped"))
			if ran := err == nil; ran != tt.wantRan {
				t.Errorf("deploy ran = %v, want %v", ran, tt.wantRan)
			}
			if _, err := os.Stat(filepath.Join(f.workspace, "rolled-back")); err == nil {
				t.Error("a closed gate ran the rollback")
			}
			if tt.gateErr == nil && !tt.cancel && released != 1 {
				t.Errorf("release called %d times, want once", released)
			}
		})
	}
}

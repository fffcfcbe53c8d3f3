//go:build unix

package engine_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
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

// A gate's secrets reach the actions of its deploy stage, rollback
// included, masked, and no other stage's.
func TestGateSecretsOnlyForTheGatedStage(t *testing.T) {
	for _, withhold := range []bool{false, true} {
		f := newFixture(t)
		show := `echo "token=${PROD_TOKEN:-none}"; echo "$PROD_TOKEN" | wc -c`
		ship := deployStage("ship", act("deploy", show+"; exit 1"))
		ship.OnFailure = []*pipeline.Action{act("rollback", show)}
		res := f.run(context.Background(), pipe(stage("build", act("a", show)), ship), func(r *engine.Run) {
			r.WithholdSecrets = withhold
			r.Gate = func(context.Context, *pipeline.Stage) (func(), error) { return nil, nil }
			r.GateSecrets = func(st *pipeline.Stage) map[string]string {
				if st.Name != "ship" {
					t.Errorf("secrets asked for stage %s", st.Name)
				}
				return map[string]string{"PROD_TOKEN": "prod-s3cret"}
			}
		})
		if got := statuses(res); !slices.Equal(got, []engine.Status{engine.StatusSuccess, engine.StatusFailure}) {
			t.Fatalf("statuses = %v", got)
		}
		want := "token=***"
		if withhold {
			want = "token=none"
		}
		for _, a := range [][2]string{{"ship", "deploy"}, {"ship", "rollback"}} {
			if lines := f.rec.lines(a[0], a[1], engine.Stdout); len(lines) == 0 || lines[0] != want {
				t.Errorf("withhold=%v %s/%s printed %q, want %q first", withhold, a[0], a[1], lines, want)
			}
		}
		if lines := f.rec.lines("build", "a", engine.Stdout); len(lines) == 0 || lines[0] != "token=none" {
			t.Errorf("withhold=%v the build stage printed %q", withhold, lines)
		}
		if strings.Contains(f.rec.allText(), "prod-s3cret") {
			t.Error("the secret reached the logs unmasked")
		}
	}
}

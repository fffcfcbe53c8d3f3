package checks

import (
	"context"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/stagegate/stagegate/pipeline"
	"github.com/stagegate/stagegate/pipeline/engine"
)

// summaryIntegration answers every uses: action with a change table, as
// aws/cloudformation does, rows times.
type summaryIntegration struct{ rows int }

func (s summaryIntegration) Run(_ context.Context, c engine.IntegrationCall) (engine.IntegrationResult, error) {
	var b strings.Builder
	b.WriteString("| Change | Logical ID | Type | Replacement |\n| --- | --- | --- | --- |\n")
	for range s.rows {
		b.WriteString("| add | `Queue` | `AWS::SQS::Queue` | |\n")
	}
	c.Log("change set of stack web")
	return engine.IntegrationResult{Summary: b.String()}, nil
}

// An integration's summary shows in its stage's check summary, under the
// actions' table, through the engine's events; many of them stay within
// GitHub's limit of a check's summary.
func TestReporterShowsIntegrationSummary(t *testing.T) {
	for _, tc := range []struct {
		name          string
		actions, rows int
	}{
		{"one table", 1, 2},
		{"tables past the limit", 8, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				api := newFakeAPI(t)
				r := NewReporter(api, testTarget(), Options{Clock: newFakeClock()})
				r.Start(t.Context())
				st := &pipeline.Stage{Name: "infra"}
				for i := range tc.actions {
					st.Actions = append(st.Actions, &pipeline.Action{Name: "stack" + string(rune('a'+i)), Uses: "aws/cloudformation"})
				}
				p := &pipeline.Pipeline{Stages: []*pipeline.Stage{st}}
				ev := pipeline.Event{Kind: pipeline.EventPullRequest, Branch: "feature/x", SHA: testSHA}
				e := &engine.Engine{Runner: scriptRunner{}, Observer: r, Integrations: summaryIntegration{tc.rows}}
				res := e.Run(context.Background(), engine.Run{
					ID: "run-1", Pipeline: p, Plan: pipeline.Decide(p, ev), Event: ev,
					Workspace: t.TempDir(), TempDir: t.TempDir(), LookupEnv: func(string) (string, bool) { return "", false },
				})
				if res.Status != engine.StatusSuccess {
					t.Fatalf("run %s: %s", res.Status, res.Reason)
				}
				if err := r.Close(t.Context()); err != nil {
					t.Fatal(err)
				}
				var final string
				for _, c := range api.recorded() {
					if c.update != nil && c.update.Name == "stagegate/infra" && c.update.Conclusion != nil {
						final = c.update.Output.GetSummary()
					}
				}
				if !strings.Contains(final, "#### `stacka`\n\n| Change | Logical ID | Type | Replacement |\n| --- | --- | --- | --- |\n| add | `Queue` | `AWS::SQS::Queue` | |\n") {
					t.Errorf("the stage's summary lacks the change table:\n%.2000s", final)
				}
				if strings.Index(final, "| Action |") > strings.Index(final, "#### `stacka`") {
					t.Errorf("the summary comes before the actions' table:\n%.2000s", final)
				}
				if len(final) > maxOutputBytes {
					t.Errorf("summary of %d bytes, over GitHub's %d", len(final), maxOutputBytes)
				}
				if tc.rows*tc.actions*40 > maxOutputBytes && !strings.Contains(final, "cut to fit GitHub's size limit") {
					t.Errorf("a summary past the limit does not say it was cut (%d bytes)", len(final))
				}
			})
		})
	}
}

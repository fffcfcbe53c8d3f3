//go:build unix

package engine_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/stagegate/stagegate/pipeline"
	"github.com/stagegate/stagegate/pipeline/engine"
)

// fakeIntegrations records the calls it gets and answers from a table.
type fakeIntegrations struct {
	mu    sync.Mutex
	calls []engine.IntegrationCall
	fail  map[string]error
	// summary answers an action with a Summary.
	summary map[string]string
}

func (f *fakeIntegrations) Run(ctx context.Context, c engine.IntegrationCall) (engine.IntegrationResult, error) {
	f.mu.Lock()
	f.calls = append(f.calls, c)
	f.mu.Unlock()
	c.Log("integration " + c.Action.Uses + " key " + c.Env["AWS_SECRET_ACCESS_KEY"])
	if err := f.fail[c.Action.Name]; err != nil {
		return engine.IntegrationResult{}, err
	}
	if s := f.summary[c.Action.Name]; s != "" {
		return engine.IntegrationResult{Summary: s}, f.fail[c.Action.Name+"-after"]
	}
	if c.Action.Name == "slow" {
		<-ctx.Done()
		return engine.IntegrationResult{}, ctx.Err()
	}
	return engine.IntegrationResult{Outputs: map[string]string{"stack_id": "arn:stack/" + c.Action.Name}}, nil
}

func uses(name, integration string) *pipeline.Action {
	return &pipeline.Action{Name: name, Uses: integration, With: map[string]any{"stack": "web"}}
}

// Before integrations existed a uses: action ran its empty script and
// "succeeded"; without an integration runner it must fail.
func TestUsesWithoutIntegrationsFails(t *testing.T) {
	f := newFixture(t)
	res := f.run(context.Background(), pipe(stage("infra", uses("stack", "aws/cloudformation"))))
	a := actionResult(t, stageResult(t, res, "infra"), "stack")
	if a.Status != engine.StatusFailure || !strings.Contains(a.Reason, "cannot run integrations (uses: aws/cloudformation)") {
		t.Errorf("result %+v, want a failure naming the integration", a)
	}
}

func TestUsesCallsIntegrations(t *testing.T) {
	f := newFixture(t)
	fi := &fakeIntegrations{fail: map[string]error{"broken": errors.New("stack web rolled back")}}
	f.engine.Integrations = fi
	p := pipe(
		stage("plan", uses("stack", "aws/cloudformation")),
		deployStage("prod", uses("stack", "aws/cloudformation")),
		stage("after", act("read", `echo "got $STAGEGATE_OUTPUT_PROD_STACK_ID"`)),
	)
	p.AWS = &pipeline.AWS{Role: "arn:aws:iam::123456789012:role/base", Region: "eu-west-1"}
	p.Stages[1].AWS = &pipeline.AWS{Role: "arn:aws:iam::123456789012:role/prod"}
	res := f.run(context.Background(), p, func(r *engine.Run) {
		r.ActionEnv = func(_ context.Context, st *pipeline.Stage, a *pipeline.Action) (engine.AttemptEnv, error) {
			return engine.AttemptEnv{Secrets: map[string]string{"AWS_SECRET_ACCESS_KEY": "s3cr3t-" + st.Name}}, nil
		}
	})
	if res.Status != engine.StatusSuccess {
		t.Fatalf("run %s: %s", res.Status, res.Reason)
	}
	if len(fi.calls) != 2 {
		t.Fatalf("%d calls, want 2", len(fi.calls))
	}
	plan, prod := fi.calls[0], fi.calls[1]
	if plan.Apply || !prod.Apply {
		t.Errorf("Apply: plan %v, prod %v; want only the deploy stage to apply", plan.Apply, prod.Apply)
	}
	if plan.AWS.Role != "arn:aws:iam::123456789012:role/base" || prod.AWS.Role != "arn:aws:iam::123456789012:role/prod" || prod.AWS.Region != "eu-west-1" {
		t.Errorf("aws: plan %+v, prod %+v", plan.AWS, prod.AWS)
	}
	if prod.Env["AWS_SECRET_ACCESS_KEY"] != "s3cr3t-prod" || prod.Workspace != f.workspace || prod.Dir != f.workspace {
		t.Errorf("call: env key %q, workspace %q, dir %q", prod.Env["AWS_SECRET_ACCESS_KEY"], prod.Workspace, prod.Dir)
	}
	if got := f.rec.lines("prod", "stack", engine.Stdout); len(got) != 1 || got[0] != "integration aws/cloudformation key ***" {
		t.Errorf("integration log %q, want the credential masked", got)
	}
	if got := f.rec.lines("after", "read", engine.Stdout); len(got) != 1 || got[0] != "got arn:stack/stack" {
		t.Errorf("later stage saw %q, want the integration's output", got)
	}
}

func TestUsesFailureAndTimeout(t *testing.T) {
	f := newFixture(t)
	f.engine.Integrations = &fakeIntegrations{fail: map[string]error{"broken": errors.New("stack web rolled back")}}
	slow := uses("slow", "aws/cloudformation")
	slow.Timeout = pipeline.Duration(50_000_000)
	res := f.run(context.Background(), pipe(stage("infra", uses("broken", "aws/cloudformation"), slow)))
	sr := stageResult(t, res, "infra")
	if a := actionResult(t, sr, "broken"); a.Status != engine.StatusFailure || a.Reason != "stack web rolled back" {
		t.Errorf("broken: %+v", a)
	}
	if a := actionResult(t, sr, "slow"); a.Status != engine.StatusTimedOut {
		t.Errorf("slow: %+v, want timed_out", a)
	}
}

// Credentials for an action reach that action alone, masked, and never a
// run that withholds secrets.
func TestActionEnv(t *testing.T) {
	for _, withhold := range []bool{false, true} {
		f := newFixture(t)
		asked := 0
		p := pipe(stage("s",
			act("cloud", `echo "key=$AWS_SECRET_ACCESS_KEY region=$AWS_REGION"`),
			act("other", `echo "key=${AWS_SECRET_ACCESS_KEY:-none}"`, order(2)),
		))
		f.run(context.Background(), p, func(r *engine.Run) {
			r.WithholdSecrets = withhold
			r.ActionEnv = func(_ context.Context, _ *pipeline.Stage, a *pipeline.Action) (engine.AttemptEnv, error) {
				asked++
				if a.Name != "cloud" {
					return engine.AttemptEnv{}, nil
				}
				return engine.AttemptEnv{
					Secrets: map[string]string{"AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI"},
					Plain:   map[string]string{"AWS_REGION": "eu-west-1"},
				}, nil
			}
		})
		wantCloud, wantAsked := "key=*** region=eu-west-1", 2
		if withhold {
			wantCloud, wantAsked = "key= region=", 0
		}
		if got := f.rec.lines("s", "cloud", engine.Stdout); len(got) != 1 || got[0] != wantCloud {
			t.Errorf("withhold=%v: cloud printed %q, want %q", withhold, got, wantCloud)
		}
		if got := f.rec.lines("s", "other", engine.Stdout); len(got) != 1 || got[0] != "key=none" {
			t.Errorf("withhold=%v: other printed %q, want key=none", withhold, got)
		}
		if asked != wantAsked {
			t.Errorf("withhold=%v: asked %d times, want %d", withhold, asked, wantAsked)
		}
	}
}

func TestActionEnvErrorFailsAttempt(t *testing.T) {
	f := newFixture(t)
	res := f.run(context.Background(), pipe(stage("s", act("cloud", "touch ran"))), func(r *engine.Run) {
		r.ActionEnv = func(context.Context, *pipeline.Stage, *pipeline.Action) (engine.AttemptEnv, error) {
			return engine.AttemptEnv{}, errors.New("assume role: AccessDenied")
		}
	})
	if a := actionResult(t, stageResult(t, res, "s"), "cloud"); a.Status != engine.StatusFailure || a.Reason != "assume role: AccessDenied" {
		t.Errorf("result %+v", a)
	}
}

// An integration's summary reaches the action's result and its
// ActionFinished event, masked and cut to its bound, on success and on
// failure alike.
func TestUsesSummary(t *testing.T) {
	long := strings.Repeat("| add | `Queue` | AWS::SQS::Queue |\n", 1000)
	tests := []struct {
		name, summary string
		fail          error
		want          engine.Status
	}{
		{"table", "| Change | Resource |\n| --- | --- |\n| add | key s3cr3t |\n", nil, engine.StatusSuccess},
		{"failed", "| remove | `Topic` |\n", errors.New("rolled back"), engine.StatusFailure},
		{"long", long, nil, engine.StatusSuccess},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.engine.Integrations = &fakeIntegrations{
				summary: map[string]string{"stack": tt.summary},
				fail:    map[string]error{"stack-after": tt.fail},
			}
			res := f.run(context.Background(), pipe(stage("infra", uses("stack", "aws/cloudformation"))), func(r *engine.Run) {
				r.ActionEnv = func(context.Context, *pipeline.Stage, *pipeline.Action) (engine.AttemptEnv, error) {
					return engine.AttemptEnv{Secrets: map[string]string{"AWS_SECRET_ACCESS_KEY": "s3cr3t"}}, nil
				}
			})
			a := actionResult(t, stageResult(t, res, "infra"), "stack")
			if a.Status != tt.want {
				t.Fatalf("status %s (%s), want %s", a.Status, a.Reason, tt.want)
			}
			if strings.Contains(a.Summary, "s3cr3t") || len(a.Summary) > engine.MaxSummary || a.Summary == "" {
				t.Errorf("summary of %d bytes, want a masked one within %d:\n%.300s", len(a.Summary), engine.MaxSummary, a.Summary)
			}
			if len(tt.summary) > engine.MaxSummary && !strings.HasSuffix(a.Summary, "|\n\n_… cut: the log has it all_\n") {
				t.Errorf("a long summary is not cut at a line's end with a note: ...%q", a.Summary[len(a.Summary)-80:])
			}
			var finished string
			for _, e := range f.rec.events {
				if af, ok := e.(engine.ActionFinished); ok && af.Action == "stack" {
					finished = af.Result.Summary
				}
			}
			if finished != a.Summary {
				t.Errorf("ActionFinished carries %.80q, want the result's summary", finished)
			}
		})
	}
}

package checks

import (
	"fmt"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/stagegate/stagegate/pipeline/engine"
)

// gateRun drives a reporter through a run of build then deploy (to
// production), stopping before the deploy stage starts.
type gateRun struct {
	t   *testing.T
	api *fakeAPI
	r   *Reporter
	ids []string
}

func newGateRun(t *testing.T, opts Options) *gateRun {
	g := &gateRun{t: t, api: newFakeAPI(t)}
	opts.Clock = newFakeClock()
	opts.OnCheckRun = func(stage string, id int64) { g.ids = append(g.ids, fmt.Sprintf("%s=%d", stage, id)) }
	g.r = NewReporter(g.api, testTarget(), opts)
	g.r.Start(t.Context())
	p := buildPipeline([]stageSpec{{name: "build", actions: [][2]string{{"compile", ""}}}, {name: "deploy", actions: [][2]string{{"ship", ""}}}})
	p.Stages[1].Environment = "production"
	g.step(engine.RunStarted{RunID: "run-1", Pipeline: p, Plan: planAll(p)},
		engine.StageStarted{Stage: "build"},
		engine.StageFinished{Result: engine.StageResult{Name: "build", Status: engine.StatusSuccess}})
	return g
}

func (g *gateRun) step(events ...engine.Event) {
	for _, e := range events {
		g.r.Observe(e)
	}
	synctest.Wait()
}

func (g *gateRun) show(reqs ...Requirement) {
	g.r.ShowGate(Gate{Stage: "deploy", Environment: "production", SHA: testSHA, Requirements: reqs})
	synctest.Wait()
}

// calls are the recorded calls after the build stage's.
func (g *gateRun) calls() []call { return g.api.recorded()[3:] }

func (g *gateRun) want(want ...string) {
	g.t.Helper()
	wantCalls(g.t, g.api, append([]string{
		"create stagegate in_progress ext=run-1",
		"create stagegate/build in_progress ext=run-1/build",
		"update stagegate/build completed success",
	}, want...)...)
}

func (g *gateRun) finish(status engine.Status, reason string) {
	g.step(engine.StageFinished{Result: engine.StageResult{Name: "deploy", Status: status, Reason: reason}},
		engine.RunFinished{Result: engine.Result{RunID: "run-1", Status: status}})
	if err := g.r.Close(g.t.Context()); err != nil {
		g.t.Fatal(err)
	}
}

var (
	lintRunning = Requirement{Kind: KindCheck, Name: "lint", State: Waiting, Detail: "in progress", URL: "https://github.com/octo/app/runs/7"}
	lintPassed  = Requirement{Kind: KindCheck, Name: "lint", State: Met, Detail: "success", URL: "https://github.com/octo/app/runs/7"}
	lintFailed  = Requirement{Kind: KindCheck, Name: "lint", State: Failed, Detail: "failure", URL: "https://github.com/octo/app/runs/7"}
	unitPassed  = Requirement{Kind: KindCheck, Name: "unit", State: Met, Detail: "success"}
	approval    = Requirement{Kind: KindApproval, State: Waiting, Detail: "a writer or a deployer must approve"}
	approved    = Requirement{Kind: KindApproval, State: Met, Detail: "approved by @alice for abababa"}
	envBusy     = Requirement{Kind: KindEnvironment, Name: "production", State: Waiting, Detail: "deploy of run run-0 in progress"}
)

// TestShowGateWaitApproveStart follows a manual deploy: waiting for a
// check (queued, with the list), then for approval (action_required with
// the Deploy button and the check's own page as details_url), then the
// stage starting on a new check run.
func TestShowGateWaitApproveStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGateRun(t, Options{})
		g.show(unitPassed, lintRunning, approval)
		g.show(unitPassed, lintRunning, approval) // unchanged: nothing sent
		g.want("create stagegate/deploy queued ext=run-1/deploy")
		first := g.calls()[0].create
		if got := first.Output.GetTitle(); got != "deploy: waiting for 1 check and approval" {
			t.Errorf("waiting title = %q", got)
		}
		sum := first.Output.GetSummary()
		for _, want := range []string{
			"⏳ **Waiting** for 1 check and approval before deploying `abababa` to `production`.",
			"- ✅ check `unit` — success\n",
			"- ⏳ check [`lint`](https://github.com/octo/app/runs/7) — in progress\n",
			"- ⏳ approval — a writer or a deployer must approve\n",
		} {
			if !strings.Contains(sum, want) {
				t.Errorf("waiting summary lacks %q:\n%s", want, sum)
			}
		}
		if first.DetailsURL != nil || len(first.Actions) != 0 {
			t.Errorf("a waiting check has a details_url or buttons: %+v", first)
		}

		g.show(unitPassed, lintPassed, approval)
		g.show(unitPassed, lintPassed, approval)
		g.want("create stagegate/deploy queued ext=run-1/deploy", "update stagegate/deploy completed action_required")
		up := g.calls()[1].update
		gateID := g.calls()[1].id
		if got := up.GetDetailsURL(); got != fmt.Sprintf("https://github.com/octo/app/runs/%d", gateID) {
			t.Errorf("details_url = %q, want the check's own page", got)
		}
		if len(up.Actions) != 1 || up.Actions[0].Identifier != DeployActionID || up.Actions[0].Label != "Deploy" {
			t.Errorf("actions = %+v", up.Actions)
		}
		if got := up.Output.GetTitle(); got != "deploy: waiting for approval" {
			t.Errorf("approval title = %q", got)
		}
		if !strings.Contains(up.Output.GetSummary(), "**Deploy** button") {
			t.Errorf("approval summary does not say how to approve:\n%s", up.Output.GetSummary())
		}

		// Approved: the gate proceeds (nothing to write), the stage starts.
		g.show(unitPassed, lintPassed, approved)
		g.step(engine.StageStarted{Stage: "deploy"})
		g.show(unitPassed, lintRunning, approval) // too late: ignored
		g.finish(engine.StatusSuccess, "")
		g.want(
			"create stagegate/deploy queued ext=run-1/deploy",
			"update stagegate/deploy completed action_required",
			"create stagegate/deploy in_progress ext=run-1/deploy",
			"update stagegate/deploy completed success",
			"update stagegate completed success",
		)
		calls := g.calls()
		stageID := calls[2].id
		if stageID == gateID || calls[3].id != stageID {
			t.Errorf("the stage ran on check %d, its end went to %d; the approval check was %d", stageID, calls[3].id, gateID)
		}
		if want := fmt.Sprintf("deploy=%d,deploy=%d", gateID, stageID); !strings.HasSuffix(strings.Join(g.ids, ","), want) {
			t.Errorf("OnCheckRun got %v, want it to end with %s", g.ids, want)
		}
		if got := g.api.check("stagegate/deploy"); got == nil {
			t.Fatal("no deploy check")
		}
		final := calls[3].update.Output.GetSummary()
		if !strings.Contains(final, "**Deploy gate** for `production` on `ababab") || !strings.Contains(final, "approved by @alice") {
			t.Errorf("the final summary does not show the gate:\n%s", final)
		}
	})
}

// TestShowGateApprovalFirst shows an approval with Options.GateDetailsURL
// straight away (one create), then a wait for the environment after the
// approval (a new queued check, since the approval's is completed), then
// the stage starting on that queued check.
func TestShowGateApprovalFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGateRun(t, Options{GateDetailsURL: func(stage string) string { return "https://stagegate.example.com/approve/run-1/" + stage }})
		g.show(lintPassed, approval)
		g.show(lintPassed, approved, envBusy)
		g.show(lintPassed, approved, envBusy)
		g.step(engine.StageStarted{Stage: "deploy"})
		g.finish(engine.StatusSuccess, "")
		g.want(
			"create stagegate/deploy completed action_required ext=run-1/deploy",
			"create stagegate/deploy queued ext=run-1/deploy",
			"update stagegate/deploy in_progress",
			"update stagegate/deploy completed success",
			"update stagegate completed success",
		)
		calls := g.calls()
		if got := calls[0].create.GetDetailsURL(); got != "https://stagegate.example.com/approve/run-1/deploy" {
			t.Errorf("details_url = %q", got)
		}
		if got := calls[1].create.Output.GetTitle(); got != "deploy: waiting for environment production" {
			t.Errorf("title = %q", got)
		}
		if calls[2].id != calls[1].id || calls[3].id != calls[1].id {
			t.Errorf("the stage did not run on the queued gate check: %d, %d, %d", calls[1].id, calls[2].id, calls[3].id)
		}
	})
}

// TestShowGateRefused ends a stage its gate refused: the engine reports
// the failure, and the check shows the refusal and the list.
func TestShowGateRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGateRun(t, Options{})
		g.show(unitPassed, lintRunning)
		refused := Gate{Stage: "deploy", Environment: "production", SHA: testSHA, Requirements: []Requirement{unitPassed, lintFailed}}
		g.r.ShowGate(refused)
		synctest.Wait()
		g.finish(engine.StatusFailure, refused.Refusal())
		g.want(
			"create stagegate/deploy queued ext=run-1/deploy",
			"update stagegate/deploy completed failure",
			"update stagegate completed failure",
		)
		out := g.calls()[1].update.Output
		if got := out.GetTitle(); got != "deploy: checks failing on abababa: lint" {
			t.Errorf("refused title = %q", got)
		}
		if !strings.Contains(out.GetSummary(), "- ❌ check [`lint`](https://github.com/octo/app/runs/7) — failure") {
			t.Errorf("refused summary lacks the failing check:\n%s", out.GetSummary())
		}
		if !strings.Contains(g.calls()[2].update.Output.GetSummary(), "checks failing on ababab") {
			t.Errorf("the run's summary does not say why:\n%s", g.calls()[2].update.Output.GetSummary())
		}
	})
}

// TestShowGateCancelledWhileAwaitingApproval leaves no Deploy button on
// the check GitHub shows: the cancelled stage gets a new check run.
func TestShowGateCancelledWhileAwaitingApproval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGateRun(t, Options{DetailsURL: func(stage string) string { return "https://ci.example.com/run-1#" + stage }})
		g.show(lintPassed, approval)
		if err := g.r.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
		g.want(
			"create stagegate/deploy completed action_required ext=run-1/deploy",
			"create stagegate/deploy completed cancelled ext=run-1/deploy",
			"update stagegate completed cancelled",
		)
		if got := g.calls()[0].create.GetDetailsURL(); got != "https://ci.example.com/run-1#deploy" {
			t.Errorf("details_url = %q, want DetailsURL's", got)
		}
	})
}

// TestShowGateSummaryNote shows what a gated stage waits for in the run's
// summary, on its next progress update.
func TestShowGateSummaryNote(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clk := newFakeClock()
		api := newFakeAPI(t)
		r := NewReporter(api, testTarget(), Options{Clock: clk})
		r.Start(t.Context())
		p := buildPipeline([]stageSpec{{name: "deploy", actions: [][2]string{{"ship", ""}}}})
		r.Observe(engine.RunStarted{RunID: "run-1", Pipeline: p, Plan: planAll(p)})
		synctest.Wait()
		r.ShowGate(Gate{Stage: "deploy", SHA: testSHA, Requirements: []Requirement{envBusy}})
		synctest.Wait()
		clk.Advance(DefaultThrottle)
		synctest.Wait()
		wantCalls(t, api, "create stagegate in_progress ext=run-1", "create stagegate/deploy queued ext=run-1/deploy", "update stagegate output")
		if got := api.recorded()[2].update.Output.GetSummary(); !strings.Contains(got, "waiting for environment production") {
			t.Errorf("summary lacks the gate's note:\n%s", got)
		}
		if err := r.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
	})
}

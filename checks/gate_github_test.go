package checks

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/stagegate/stagegate/pipeline/engine"
)

// TestLoadChecks reads a commit with more check runs and statuses than
// fit a page, another App's re-run, and stagegate's own checks.
func TestLoadChecks(t *testing.T) {
	f := newGHFixture(t)
	actions := f.srv.AddApp("github-actions")
	actions.AddInstallation("acme", "widgets")
	for i := range 130 {
		f.srv.CreateCheckRunAs(actions, "acme", "widgets", f.sha, fmt.Sprintf("job-%03d", i), "completed", "success")
	}
	f.srv.CreateCheckRunAs(actions, "acme", "widgets", f.sha, "unit", "completed", "failure")
	f.srv.CreateCheckRunAs(actions, "acme", "widgets", f.sha, "unit", "completed", "success") // re-run
	f.srv.CreateCheckRunAs(actions, "acme", "widgets", f.sha, "lint", "completed", "failure")
	for i := range 105 {
		f.srv.CreateStatus("acme", "widgets", f.sha, fmt.Sprintf("ctx-%03d", i), "success")
	}
	f.srv.CreateStatus("acme", "widgets", f.sha, "ci/legacy", "pending")
	for _, name := range []string{"stagegate", "stagegate/deploy"} {
		if _, _, err := f.gh.Checks.CreateCheckRun(t.Context(), "acme", "widgets", github.CreateCheckRunOptions{
			Name: name, HeadSHA: f.sha, Status: github.String("in_progress"),
		}); err != nil {
			t.Fatal(err)
		}
	}
	opts := CheckOptions{OwnAppID: f.srv.AppID(), Exclude: OwnCheck}
	reqs, err := LoadChecks(t.Context(), f.gh.Checks, f.gh.Repositories, "acme", "widgets", f.sha, opts)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Requirement{}
	for _, r := range reqs {
		byName[r.Name] = r
	}
	if len(reqs) != 132+106 || len(byName) != len(reqs) {
		t.Errorf("%d requirements (%d names), want 238", len(reqs), len(byName))
	}
	if byName["unit"].State != Met || byName["lint"].State != Failed || byName["ci/legacy"].State != Waiting ||
		byName["job-129"].State != Met || byName["ctx-104"].State != Met {
		t.Errorf("unit %+v, lint %+v, ci/legacy %+v", byName["unit"], byName["lint"], byName["ci/legacy"])
	}
	if _, ok := byName["stagegate/deploy"]; ok {
		t.Error("stagegate's own check counted")
	}
	if !strings.HasPrefix(byName["lint"].URL, f.srv.URL+"/acme/widgets/runs/") {
		t.Errorf("lint's URL = %q", byName["lint"].URL)
	}
	g := Gate{Stage: "deploy", SHA: f.sha, Requirements: reqs}
	if g.Decide() != Refuse || g.Refusal() != "checks failing on "+ShortSHA(f.sha)+": lint" {
		t.Errorf("%v: %q", g.Decide(), g.Refusal())
	}

	opts.Require = []string{"unit", "ci/legacy", "e2e"}
	reqs, err = LoadChecks(t.Context(), f.gh.Checks, f.gh.Repositories, "acme", "widgets", f.sha, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(brief(reqs), ", "); got != "check unit met, status ci/legacy waiting, check e2e waiting" {
		t.Errorf("required: %s", got)
	}

	if _, err := LoadChecks(t.Context(), f.gh.Checks, f.gh.Repositories, "acme", "widgets", strings.Repeat("0", 40), opts); err == nil {
		t.Error("no error for an unknown commit")
	}
}

// TestReporterDeploysAgainstGitHub runs a manual deploy that fails and
// rolls back, against the fake GitHub: every check run write passes its
// validation, and the tracked deployment follows the stage.
func TestReporterDeploysAgainstGitHub(t *testing.T) {
	f := newGHFixture(t)
	f.failingCommit()
	ctx := t.Context()
	r := NewReporter(f.gh.Checks, f.target(), Options{Throttle: -1})
	r.Start(ctx)
	p := buildPipeline([]stageSpec{{name: "build", actions: [][2]string{{"compile", ""}}}, {name: "deploy", actions: [][2]string{{"ship", ""}}}})
	p.Stages[1].Environment = "production"
	for _, e := range []engine.Event{
		engine.RunStarted{RunID: "run-1", Pipeline: p, Plan: planAll(p)},
		engine.StageStarted{Stage: "build"},
		engine.StageFinished{Result: engine.StageResult{Name: "build", Status: engine.StatusSuccess}},
	} {
		r.Observe(e)
	}
	gate := Gate{Stage: "deploy", Environment: "production", SHA: f.sha, Requirements: []Requirement{lintPassed, approval}}
	r.ShowGate(gate)
	// Someone presses Deploy once the button shows.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if runs := f.srv.CheckRuns("acme", "widgets"); len(runs) > 0 && runs[len(runs)-1].Conclusion == "action_required" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the Deploy button never showed")
		}
	}
	gate.Requirements = []Requirement{lintPassed, approved}
	r.ShowGate(gate)
	d, err := StartDeployment(ctx, f.gh.Repositories, f.target(), DeploymentInfo{Environment: "production", Stage: "deploy", Approver: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	r.TrackDeployment("deploy", d)
	ship := engine.ActionResult{Name: "ship", Status: engine.StatusFailure, ExitCode: 1, Attempts: 1}
	undo := engine.ActionResult{Name: "undo", Status: engine.StatusSuccess, Attempts: 1, Rollback: true}
	for _, e := range []engine.Event{
		engine.StageStarted{Stage: "deploy"},
		engine.StageFinished{Result: engine.StageResult{Name: "deploy", Status: engine.StatusFailure, Reason: "action ship: exit code 1",
			Actions: []engine.ActionResult{ship}, Rollback: []engine.ActionResult{undo}}},
		engine.RunFinished{Result: engine.Result{RunID: "run-1", Status: engine.StatusFailure}},
	} {
		r.Observe(e)
	}
	closeCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := r.Close(closeCtx); err != nil {
		t.Fatal(err)
	}

	var deployChecks []string
	var lastURL string
	for _, cr := range f.srv.CheckRuns("acme", "widgets") {
		if cr.Name != "stagegate/deploy" {
			continue
		}
		deployChecks = append(deployChecks, cr.Status+" "+cr.Conclusion)
		url := fmt.Sprintf("%s/acme/widgets/runs/%d", f.srv.URL, cr.ID)
		if cr.Conclusion == "action_required" && (cr.DetailsURL != url || len(cr.Actions) != 1 || cr.Actions[0].Identifier != DeployActionID) {
			t.Errorf("approval check: details %q (own %q), actions %+v", cr.DetailsURL, url, cr.Actions)
		}
		lastURL = url
	}
	if got := strings.Join(deployChecks, ", "); got != "completed action_required, completed failure" {
		t.Errorf("deploy checks: %s", got)
	}
	dep := f.srv.Deployments("acme", "widgets")[0]
	if got := strings.Join(states(dep), ","); got != "queued,in_progress,failure" {
		t.Fatalf("deployment statuses %s", got)
	}
	if dep.Statuses[1].LogURL != lastURL || dep.Statuses[2].LogURL != lastURL {
		t.Errorf("log_url %q, %q; want the stage's check %q", dep.Statuses[1].LogURL, dep.Statuses[2].LogURL, lastURL)
	}
	if got := dep.Statuses[2].Description; got != "Failed: action ship: exit code 1; rolled back" {
		t.Errorf("failure description = %q", got)
	}
}

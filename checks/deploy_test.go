package checks

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v60/github"

	"github.com/stagegate/stagegate/internal/githubtest"
	"github.com/stagegate/stagegate/pipeline/engine"
)

// ghFixture is a fake GitHub with one repository, one commit and
// stagegate's App installed, and a client authenticated as it.
type ghFixture struct {
	srv *githubtest.Server
	gh  *github.Client
	sha string
}

func newGHFixture(t *testing.T) *ghFixture {
	t.Helper()
	srv := githubtest.New(t)
	repo := srv.AddRepo("acme", "widgets")
	sha := repo.Commit("main", map[string]string{"README.md": "# widgets\n"}, "initial commit")
	inst := srv.AddInstallation("acme", "widgets")
	itr, err := ghinstallation.New(http.DefaultTransport, srv.AppID(), inst, srv.PrivateKeyPEM())
	if err != nil {
		t.Fatal(err)
	}
	itr.BaseURL = srv.URL + "/api/v3"
	gh, err := github.NewClient(&http.Client{Transport: itr}).WithEnterpriseURLs(srv.APIURL(), srv.APIURL())
	if err != nil {
		t.Fatal(err)
	}
	return &ghFixture{srv: srv, gh: gh, sha: sha}
}

func (f *ghFixture) target() Target {
	return Target{Owner: "acme", Repo: "widgets", HeadSHA: f.sha, RunID: "run-1"}
}

// failingCommit gives the commit a failing check of another App and a
// pending status: GitHub refuses a deployment that checks them.
func (f *ghFixture) failingCommit() {
	actions := f.srv.AddApp("github-actions")
	actions.AddInstallation("acme", "widgets")
	f.srv.CreateCheckRunAs(actions, "acme", "widgets", f.sha, "lint", "completed", "failure")
	f.srv.CreateStatus("acme", "widgets", f.sha, "ci/legacy", "pending")
}

func states(d githubtest.Deployment) []string {
	var out []string
	for _, s := range d.Statuses {
		out = append(out, s.State)
	}
	return out
}

func TestDeploymentLifecycle(t *testing.T) {
	f := newGHFixture(t)
	f.failingCommit()
	// What StartDeployment guards against: GitHub's own status check.
	if _, resp, err := f.gh.Repositories.CreateDeployment(t.Context(), "acme", "widgets", &github.DeploymentRequest{
		Ref: github.String(f.sha), AutoMerge: github.Bool(false),
	}); err == nil || resp == nil || resp.StatusCode != http.StatusConflict {
		t.Fatalf("a deployment without required_contexts: %v", err)
	}

	d, err := StartDeployment(t.Context(), f.gh.Repositories, f.target(), DeploymentInfo{
		Environment: "staging", URL: "https://staging.example.com", Stage: "deploy-staging", Approver: "@alice",
	})
	if err != nil {
		t.Fatal(err)
	}
	d.SetLogURL("https://github.com/acme/widgets/runs/77")
	if err := d.InProgress(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := d.Finish(t.Context(), engine.StatusSuccess, false, ""); err != nil {
		t.Fatal(err)
	}
	// Done: later calls change nothing.
	if err := d.InProgress(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := d.Finish(t.Context(), engine.StatusFailure, false, "late"); err != nil {
		t.Fatal(err)
	}

	deps := f.srv.Deployments("acme", "widgets")
	if len(deps) != 1 {
		t.Fatalf("%d deployments", len(deps))
	}
	dep := deps[0]
	if dep.ID != d.ID || dep.SHA != f.sha || dep.Ref != f.sha || dep.Environment != "staging" || dep.Task != "deploy" ||
		dep.TransientEnvironment || dep.ProductionEnvironment {
		t.Errorf("deployment = %+v", dep)
	}
	var req map[string]any
	if err := json.Unmarshal(dep.Request, &req); err != nil {
		t.Fatal(err)
	}
	if req["auto_merge"] != false || fmt.Sprint(req["required_contexts"]) != "[]" || req["transient_environment"] != false {
		t.Errorf("request = %s", dep.Request)
	}
	if _, set := req["production_environment"]; set {
		t.Errorf("production_environment is GitHub's to decide: %s", dep.Request)
	}
	if got := string(dep.Payload); got != `{"approver":"alice","run_id":"run-1","stage":"deploy-staging"}` {
		t.Errorf("payload = %s", got)
	}
	if dep.Description != "stagegate run run-1, stage deploy-staging, approved by @alice" {
		t.Errorf("description = %q", dep.Description)
	}
	if got := strings.Join(states(dep), ","); got != "queued,in_progress,success" {
		t.Fatalf("statuses %s", got)
	}
	for i, s := range dep.Statuses {
		if s.EnvironmentURL != "https://staging.example.com" {
			t.Errorf("status %d environment_url = %q", i, s.EnvironmentURL)
		}
		if wantLog := i > 0; (s.LogURL == "https://github.com/acme/widgets/runs/77") != wantLog {
			t.Errorf("status %d log_url = %q", i, s.LogURL)
		}
	}
	if got := dep.Statuses[0].Description; got != "Cleared to deploy "+ShortSHA(f.sha)+", approved by @alice" {
		t.Errorf("queued description = %q", got)
	}
	if got := dep.Statuses[2].Description; got != "Deployed "+ShortSHA(f.sha) {
		t.Errorf("success description = %q", got)
	}
}

func TestDeploymentFailureRolledBack(t *testing.T) {
	f := newGHFixture(t)
	d, err := StartDeployment(t.Context(), f.gh.Repositories, f.target(), DeploymentInfo{Environment: "production", Stage: "deploy",
		LogURL: "https://github.com/acme/widgets/runs/5"})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.InProgress(t.Context()); err != nil {
		t.Fatal(err)
	}
	reason := "action migrate: exit code 1: " + strings.Repeat("very long output ", 20)
	if err := d.Finish(t.Context(), engine.StatusFailure, true, reason); err != nil {
		t.Fatal(err)
	}
	dep := f.srv.Deployments("acme", "widgets")[0]
	if !dep.ProductionEnvironment {
		t.Error("GitHub's default makes production a production environment")
	}
	if got := strings.Join(states(dep), ","); got != "queued,in_progress,failure" {
		t.Fatalf("statuses %s", got)
	}
	last := dep.Statuses[2]
	if !strings.HasPrefix(last.Description, "Failed: action migrate: exit code 1") || !strings.HasSuffix(last.Description, "; rolled back") ||
		utf8.RuneCountInString(last.Description) > maxDeployDescription {
		t.Errorf("failure description = %q", last.Description)
	}
	if last.LogURL != "https://github.com/acme/widgets/runs/5" || last.EnvironmentURL != "" {
		t.Errorf("failure status = %+v", last)
	}
}

func TestFinalStatus(t *testing.T) {
	sha := "0123456789abcdef0123456789abcdef01234567"
	for _, tc := range []struct {
		status     engine.Status
		rolledBack bool
		reason     string
		state      string
		desc       string
	}{
		{engine.StatusSuccess, false, "", "success", "Deployed 0123456"},
		{engine.StatusFailure, false, "action ship: exit code 2", "failure", "Failed: action ship: exit code 2"},
		{engine.StatusFailure, true, "action ship: exit code 2", "failure", "Failed: action ship: exit code 2; rolled back"},
		{engine.StatusFailure, true, "", "failure", "Failed; rolled back"},
		{engine.StatusTimedOut, false, "action ship: timed out after 5m0s", "failure", "Timed out: action ship: timed out after 5m0s"},
		{engine.StatusCancelled, false, "cancelled: superseded by run-2", "error", "Cancelled: superseded by run-2"},
		{engine.StatusCancelled, true, "cancelled", "error", "Cancelled"},
		{engine.StatusSkipped, false, "skipped: the run ended before reaching this stage", "error", "Not deployed: skipped: the run ended before reaching this stage"},
		{"exploded", false, "", "error", "Not deployed"},
	} {
		state, desc := finalStatus(sha, tc.status, tc.rolledBack, tc.reason)
		if state != tc.state || desc != tc.desc {
			t.Errorf("%s %v %q: got %s %q, want %s %q", tc.status, tc.rolledBack, tc.reason, state, desc, tc.state, tc.desc)
		}
	}
}

func TestStartDeploymentErrors(t *testing.T) {
	f := newGHFixture(t)
	if _, err := StartDeployment(t.Context(), f.gh.Repositories, f.target(), DeploymentInfo{Stage: "deploy"}); err == nil {
		t.Error("a deployment without an environment was started")
	}
	tg := f.target()
	tg.HeadSHA = strings.Repeat("f", 40)
	d, err := StartDeployment(t.Context(), f.gh.Repositories, tg, DeploymentInfo{Environment: "production"})
	if err == nil || d != nil || !strings.Contains(err.Error(), "No ref found") {
		t.Errorf("unknown commit: %v, %v", d, err)
	}
}

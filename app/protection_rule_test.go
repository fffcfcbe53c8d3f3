package app_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stagegate/stagegate/internal/githubtest"
)

const protectedPipeline = `stages:
  - { name: build, actions: [{ name: compile, run: 'true' }] }
  - name: ship
    environment: production
    actions: [{ name: ship, run: 'true' }]
`

// waitAnswers waits for n answers to protection rules.
func waitAnswers(t *testing.T, gh *githubtest.Server, n int) []githubtest.ProtectionAnswer {
	t.Helper()
	waitFor(t, func() bool { return len(gh.ProtectionAnswers()) >= n })
	return gh.ProtectionAnswers()
}

// TestProtectionRuleWaitsForChecksThenApproves: a GitHub Actions job
// deploying to production waits on stagegate's rule while another CI's
// check runs on the commit; when that check passes, stagegate approves
// through the callback. The workflow's own waiting job does not count.
func TestProtectionRuleWaitsForChecksThenApproves(t *testing.T) {
	h := newHarness(t, map[string]string{".stagegate.yml": protectedPipeline})
	actions := h.gh.AddApp("github-actions")
	actions.AddInstallation("acme", "web")
	ci := h.gh.AddApp("other-ci")
	ci.AddInstallation("acme", "web")
	sha := h.repo.Head("main")
	e2e := h.gh.CreateCheckRunAs(ci, "acme", "web", sha, "e2e", "in_progress", "")

	runID, body := h.repo.RequestDeploymentProtection(actions, h.gh.App(), sha, "deploy", "production")
	if result := h.sendAndWait("deployment_protection_rule", body); !strings.Contains(result, "waits") || !strings.Contains(result, "e2e") {
		t.Errorf("result %q, want a wait for e2e", result)
	}
	if a := h.gh.ProtectionAnswers(); len(a) != 0 {
		t.Fatalf("answered while e2e still ran: %+v", a)
	}
	h.gh.CompleteCheckRunAs(ci, e2e, "success")
	h.sendAndWait("check_run", h.gh.CheckRunCompletedWebhook(e2e))
	got := waitAnswers(t, h.gh, 1)
	if len(got) != 1 || got[0].State != "approved" || got[0].RunID != runID || got[0].Environment != "production" {
		t.Fatalf("answers = %+v", got)
	}
	// Another check event answers nothing more. (The same delivery body
	// again would be refused as a duplicate.)
	lint := h.gh.CreateCheckRunAs(ci, "acme", "web", sha, "lint", "completed", "success")
	h.sendAndWait("check_run", h.gh.CheckRunCompletedWebhook(lint))
	if n := len(h.gh.ProtectionAnswers()); n != 1 {
		t.Errorf("%d answers, want 1", n)
	}
}

// TestProtectionRuleRejectsNamingTheFailure: a failing check on the
// commit rejects the deployment with a comment that names it.
func TestProtectionRuleRejectsNamingTheFailure(t *testing.T) {
	h := newHarness(t, map[string]string{".stagegate.yml": protectedPipeline})
	actions := h.gh.AddApp("github-actions")
	actions.AddInstallation("acme", "web")
	ci := h.gh.AddApp("other-ci")
	ci.AddInstallation("acme", "web")
	sha := h.repo.Head("main")
	h.gh.CreateCheckRunAs(ci, "acme", "web", sha, "lint", "completed", "failure")
	_, body := h.repo.RequestDeploymentProtection(actions, h.gh.App(), sha, "deploy", "production")
	h.sendAndWait("deployment_protection_rule", body)
	got := waitAnswers(t, h.gh, 1)
	if got[0].State != "rejected" || !strings.Contains(got[0].Comment, "lint") {
		t.Errorf("answer %+v, want rejected naming lint", got[0])
	}
}

// TestProtectionRuleCallbackElsewhereIsRefused: the installation token
// goes only to the review endpoint of the configured GitHub; a payload
// whose callback points elsewhere is ignored and nothing is sent there.
func TestProtectionRuleCallbackElsewhereIsRefused(t *testing.T) {
	var hits atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(elsewhere.Close)
	h := newHarness(t, map[string]string{".stagegate.yml": protectedPipeline})
	actions := h.gh.AddApp("github-actions")
	actions.AddInstallation("acme", "web")
	sha := h.repo.Head("main")
	runID, body := h.repo.RequestDeploymentProtection(actions, h.gh.App(), sha, "deploy", "production")
	for _, callback := range []string{
		elsewhere.URL + "/api/v3/repos/acme/web/actions/runs/1/deployment_protection_rule",
		h.gh.URL + "/api/v3/repos/acme/other/actions/runs/1/deployment_protection_rule",
		h.gh.URL + "/api/v3/repos/acme/web/issues/1/comments",
	} {
		edited := strings.Replace(string(body), h.gh.URL+"/api/v3/repos/acme/web/actions/runs/"+strconv.FormatInt(runID, 10)+"/deployment_protection_rule", callback, 1)
		if result := h.sendAndWait("deployment_protection_rule", []byte(edited)); !strings.Contains(result, "callback URL") {
			t.Errorf("callback %s: result %q, want it refused", callback, result)
		}
	}
	// Each delivery was processed to its end: any request would be in.
	if n := hits.Load(); n != 0 {
		t.Errorf("%d requests went to another host", n)
	}
	if a := h.gh.ProtectionAnswers(); len(a) != 0 {
		t.Errorf("answers = %+v", a)
	}
}

// TestProtectionRuleKeepsTheTrustedApproval: the default branch's
// environments: asks for a manual approval of production. A branch whose
// own file has no deploy stage (and so no approval) asks GitHub Actions
// to deploy it to production: stagegate's rule waits for the approval
// instead of approving what no one reviewed.
func TestProtectionRuleKeepsTheTrustedApproval(t *testing.T) {
	h := newHarness(t, map[string]string{".stagegate.yml": strings.Replace(guardedMain, ", branches: [main]", "", 1)})
	actions := h.gh.AddApp("github-actions")
	actions.AddInstallation("acme", "web")
	sha := h.repo.Commit("no-deploy-stage", map[string]string{".stagegate.yml": `stages:
  - { name: build, actions: [{ name: compile, run: 'true' }] }
`}, "drop the deploy stage")
	_, body := h.repo.RequestDeploymentProtection(actions, h.gh.App(), sha, "deploy", "production")
	if result := h.sendAndWait("deployment_protection_rule", body); !strings.Contains(result, "waits") || !strings.Contains(result, "approval") {
		t.Errorf("result %q, want a wait for the approval", result)
	}
	if a := h.gh.ProtectionAnswers(); len(a) != 0 {
		t.Fatalf("answered without the trusted approval: %+v", a)
	}
}

// TestProtectionRuleOfAPullRequestLooksAtItsHead: a workflow on
// pull_request deploys GITHUB_SHA, the pull request's merge commit, which
// carries no check; the checks are on the head commit. A failing check
// there rejects the deployment instead of the empty merge commit
// approving it.
func TestProtectionRuleOfAPullRequestLooksAtItsHead(t *testing.T) {
	h := newHarness(t, map[string]string{".stagegate.yml": protectedPipeline})
	actions := h.gh.AddApp("github-actions")
	actions.AddInstallation("acme", "web")
	ci := h.gh.AddApp("other-ci")
	ci.AddInstallation("acme", "web")
	head := h.repo.Commit("feature", map[string]string{"main.go": "package main\n"}, "change")
	h.gh.AddPullRequest("acme", "web", githubtest.PullRequest{Number: 7, HeadRef: "feature", HeadSHA: head})
	h.gh.CreateCheckRunAs(ci, "acme", "web", head, "lint", "completed", "failure")
	_, body := h.repo.RequestPullRequestDeploymentProtection(actions, h.gh.App(), 7, "deploy", "production")
	h.sendAndWait("deployment_protection_rule", body)
	got := waitAnswers(t, h.gh, 1)
	if got[0].State != "rejected" || !strings.Contains(got[0].Comment, "lint") {
		t.Errorf("answer %+v, want rejected naming lint", got[0])
	}
}

// TestProtectionRuleKeepsTheTrustedBranches: the default branch's
// environments: lets only main deploy to production. A workflow on a push
// to another branch asks to deploy there: the rule rejects it at once,
// naming the rule, whatever the branch's own file says.
func TestProtectionRuleKeepsTheTrustedBranches(t *testing.T) {
	h := newHarness(t, map[string]string{".stagegate.yml": guardedMain})
	actions := h.gh.AddApp("github-actions")
	actions.AddInstallation("acme", "web")
	sha := h.repo.Commit("evil", map[string]string{".stagegate.yml": looseBranch}, "loosen")
	_, body := h.repo.RequestBranchDeploymentProtection(actions, h.gh.App(), "evil", "deploy", "production")
	h.sendAndWait("deployment_protection_rule", body)
	got := waitAnswers(t, h.gh, 1)
	if got[0].State != "rejected" || !containsAll(got[0].Comment, "production", "evil", "main") {
		t.Errorf("answer %+v, want rejected naming the branch rule", got[0])
	}
	if h.repo.Head("evil") != sha {
		t.Fatalf("branch moved")
	}
}

// TestProtectionRuleSameNameInAnotherWorkflow: the deploying workflow's
// own build job is still running and is left out, but another workflow's
// build job of the same name failed, in its own check suite: that
// failure rejects the deployment.
func TestProtectionRuleSameNameInAnotherWorkflow(t *testing.T) {
	h := newHarness(t, map[string]string{".stagegate.yml": protectedPipeline})
	actions := h.gh.AddApp("github-actions")
	actions.AddInstallation("acme", "web")
	sha := h.repo.Head("main")
	_, body := h.repo.RequestDeploymentProtection(actions, h.gh.App(), sha, "deploy", "production")
	h.gh.CreateCheckRunAs(actions, "acme", "web", sha, "build", "in_progress", "")
	other := h.gh.NewCheckSuiteAs(actions, "acme", "web", sha)
	h.gh.CreateCheckRunInSuiteAs(actions, other, "build", "completed", "failure")
	h.sendAndWait("deployment_protection_rule", body)
	got := waitAnswers(t, h.gh, 1)
	if got[0].State != "rejected" || !strings.Contains(got[0].Comment, "build") {
		t.Errorf("answer %+v, want rejected naming the other workflow's build", got[0])
	}
}

// TestProtectionRuleRejectsAFork: a pull_request workflow of a pull
// request from a fork asks to deploy: the fork's code is never approved,
// even from a fork branch called main and with every check passing.
func TestProtectionRuleRejectsAFork(t *testing.T) {
	h := newHarness(t, map[string]string{".stagegate.yml": protectedPipeline})
	actions := h.gh.AddApp("github-actions")
	actions.AddInstallation("acme", "web")
	fork := h.gh.AddFork("acme", "web", "mallory")
	head := fork.Commit("main", map[string]string{"main.go": "package main // mine\n"}, "mine")
	h.gh.AddPullRequest("acme", "web", githubtest.PullRequest{Number: 9, User: "mallory", HeadRepo: "mallory/web", HeadRef: "main", HeadSHA: head})
	_, body := h.repo.RequestPullRequestDeploymentProtection(actions, h.gh.App(), 9, "deploy", "production")
	h.sendAndWait("deployment_protection_rule", body)
	got := waitAnswers(t, h.gh, 1)
	if got[0].State != "rejected" || !strings.Contains(got[0].Comment, "mallory/web") {
		t.Errorf("answer %+v, want rejected naming the fork", got[0])
	}
}

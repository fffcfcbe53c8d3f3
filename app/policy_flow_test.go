package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stagegate/stagegate/internal/githubtest"
)

// An environment's secret reaches the actions of its deploy on the
// default branch once the gate passed, and no other stage's.
func TestEnvironmentSecretsReachOnlyThePassedDeploy(t *testing.T) {
	t.Setenv("STAGEGATE_SECRET_PROD_TOKEN", "prod-secret-value")
	t.Setenv("STAGEGATE_SECRET_NPM_TOKEN", "npm-secret-value")
	file := `secrets: [NPM_TOKEN]
environments:
  production: { branches: [main], secrets: [PROD_TOKEN] }
stages:
  - { name: build, actions: [{ name: compile, run: 'echo "prod=${PROD_TOKEN:-withheld} npm=${NPM_TOKEN:-withheld}"' }] }
  - name: deploy
    environment: production
    actions: [{ name: ship, run: 'echo "prod=${PROD_TOKEN:-withheld} npm=${NPM_TOKEN:-withheld}"' }]
`
	h := newHarness(t, map[string]string{".stagegate.yml": file})
	sha := h.push("main", map[string]string{"a": "1"})
	got := h.waitChecks(sha, 20*time.Second)
	if text := got["stagegate/build"].Output.Text; !strings.Contains(text, "prod=withheld npm=***") {
		t.Errorf("build stage:\n%s", text)
	}
	if text := got["stagegate/deploy"].Output.Text; got["stagegate/deploy"].Conclusion != "success" || !strings.Contains(text, "prod=*** npm=***") {
		t.Errorf("deploy stage %s:\n%s", got["stagegate/deploy"].Conclusion, text)
	}
}

// A pull request that changes environments: says so on its summary
// check; one that does not, does not.
func TestPullRequestChangingEnvironmentsSaysWhenItCounts(t *testing.T) {
	h := newHarness(t, map[string]string{".stagegate.yml": guardedMain})
	changed := strings.Replace(guardedMain, "approval: manual", "approval: none", 1)
	sha := h.openPR(31, "loosen", "", map[string]string{".stagegate.yml": changed})
	summary := h.waitCheck(sha, "stagegate", func(c githubtest.CheckRun) bool { return c.Output.Summary != "" })
	if !containsAll(summary.Output.Summary, "changes `environments:` (production)", "once it is merged into main") {
		t.Errorf("summary:\n%s", summary.Output.Summary)
	}
	same := h.openPR(32, "docs", "", map[string]string{"README.md": "docs\n"})
	summary = h.waitCheck(same, "stagegate", func(c githubtest.CheckRun) bool { return c.Output.Summary != "" })
	if strings.Contains(summary.Output.Summary, "environments") {
		t.Errorf("a pull request that leaves environments alone:\n%s", summary.Output.Summary)
	}
}

// A deploy whose policy is refused for its branch cannot be approved by
// /deploy either, and the reply names the rule.
func TestDeployCommandRefusedOutsideTheBranchPolicy(t *testing.T) {
	h := newHarness(t, map[string]string{".stagegate.yml": strings.Replace(guardedMain, `    if: branch == "main"
`, "", 1)})
	h.gh.SetPermission("acme", "web", "alice", "write")
	sha := h.openPR(33, "feature", "", map[string]string{"a": "1"})
	deploy := h.waitCheck(sha, "stagegate/deploy", func(c githubtest.CheckRun) bool { return c.Status == "completed" })
	if deploy.Conclusion != "failure" {
		t.Fatalf("deploy from a branch the policy refuses: %s %q", deploy.Conclusion, deploy.Output.Summary)
	}
	h.comment(33, "alice", "/deploy")
	if r := h.replies(33); len(r) != 1 || !containsAll(r[0], "@alice cannot deploy to production", "branches [main]", "branch feature") {
		t.Errorf("replies = %q", r)
	}
	if len(h.gh.Deployments("acme", "web")) != 0 {
		t.Error("deployed from a branch the policy refuses")
	}
}

// An approval counts only while its approver may still approve: when
// GitHub's settings come to require reviewers, an earlier /deploy by a
// writer no longer opens the gate.
func TestApprovalRecheckedUnderTheCurrentPolicy(t *testing.T) {
	h := newHarness(t, map[string]string{".stagegate.yml": manualDeploy})
	h.gh.SetPermission("acme", "web", "alice", "write")
	h.gh.SetPermission("acme", "web", "bob", "write")
	ci := h.gh.AddApp("other-ci")
	ci.AddInstallation("acme", "web")
	sha := h.repo.Commit("feature", map[string]string{"a": "1"}, "change")
	e2e := h.gh.CreateCheckRunAs(ci, "acme", "web", sha, "e2e", "in_progress", "")
	h.openPR(34, "feature", "", nil)
	h.waitCheck(sha, "stagegate/deploy", func(c githubtest.CheckRun) bool { return strings.Contains(c.Output.Summary, "e2e") })
	h.comment(34, "alice", "/deploy")
	h.waitCheck(sha, "stagegate/deploy", func(c githubtest.CheckRun) bool { return strings.Contains(c.Output.Summary, "approved by @alice") })

	h.gh.SetEnvironment("acme", "web", githubtest.Environment{Name: "production", Reviewers: []string{"bob"}})
	h.gh.CompleteCheckRunAs(ci, e2e, "success")
	h.sendAndWait("check_run", h.gh.CheckRunCompletedWebhook(e2e))
	gate := h.waitCheck(sha, "stagegate/deploy", func(c githubtest.CheckRun) bool { return c.Status == "completed" || needsApproval(c) })
	if !needsApproval(gate) || !containsAll(gate.Output.Summary, "no longer counts", "required reviewers") || len(h.gh.Deployments("acme", "web")) != 0 {
		t.Fatalf("after reviewers were required: %s %q", gate.Conclusion, gate.Output.Summary)
	}
	h.comment(34, "bob", "/deploy")
	if got := h.waitChecks(sha, 20*time.Second); got["stagegate/deploy"].Conclusion != "success" {
		t.Fatalf("after the reviewer approved:%s", describeChecks(got))
	}
}

// With GitHub's "prevent self-review", whoever started the run cannot
// approve its deploy, even as a required reviewer.
func TestPreventSelfReview(t *testing.T) {
	h := newHarness(t, map[string]string{".stagegate.yml": manualDeploy})
	h.gh.SetPermission("acme", "web", "Codertocat", "write") // the pull request's sender
	h.gh.SetPermission("acme", "web", "alice", "write")
	h.gh.SetEnvironment("acme", "web", githubtest.Environment{Name: "production", Reviewers: []string{"Codertocat", "alice"}, PreventSelfReview: true})
	sha := h.openPR(35, "feature", "", map[string]string{"a": "1"})
	h.waitCheck(sha, "stagegate/deploy", needsApproval)
	h.comment(35, "Codertocat", "/deploy")
	if r := h.replies(35); len(r) != 1 || !strings.Contains(r[0], "@Codertocat cannot deploy to production: GitHub's settings of the environment prevent approving one's own deploy") {
		t.Errorf("replies = %q", r)
	}
	if len(h.gh.Deployments("acme", "web")) != 0 {
		t.Fatal("the run's own actor approved its deploy")
	}
	h.comment(35, "alice", "/deploy")
	if got := h.waitChecks(sha, 20*time.Second); got["stagegate/deploy"].Conclusion != "success" {
		t.Fatalf("after another reviewer approved:%s", describeChecks(got))
	}
}

package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stagegate/stagegate/internal/githubtest"
)

func TestForkPullRequestWaitsForOkToTest(t *testing.T) {
	t.Setenv("STAGEGATE_SECRET_DEPLOY_TOKEN", "s3cret-for-trusted-runs")
	t.Setenv("STAGEGATE_ENV_GOPROXY", "https://proxy.internal")
	h := newHarness(t, map[string]string{".stagegate.yml": `secrets: [DEPLOY_TOKEN]
pass_env: [GOPROXY]
stages:
  - { name: test, actions: [{ name: unit, run: 'echo "token=${DEPLOY_TOKEN:-withheld} proxy=${GOPROXY:-withheld}"' }] }
  - name: ship
    environment: production
    deployers: [mallory]
    actions: [{ name: deploy, run: 'echo shipped' }]
`})
	h.gh.SetPermission("acme", "web", "alice", "write")
	h.gh.SetPermission("acme", "web", "mallory", "read")
	h.gh.AddFork("acme", "web", "mallory")
	sha := h.openPR(10, "evil", "mallory/web", map[string]string{"a": "1"})

	wait := h.waitCheck(sha, "stagegate", func(c githubtest.CheckRun) bool { return c.Status == "completed" })
	// neutral would satisfy a required check and let the unreviewed pull
	// request merge; action_required blocks it, as GitHub Actions does
	// for a fork's workflows awaiting approval.
	if wait.Conclusion != "action_required" || !strings.Contains(wait.Output.Title, "/ok-to-test") ||
		wait.DetailsURL != h.repo.HTMLURL()+"/pull/10" {
		t.Fatalf("a fork's pull request shows %s %q (details %q), want action_required waiting for /ok-to-test, linking the pull request",
			wait.Conclusion, wait.Output.Title, wait.DetailsURL)
	}
	if h.gh.RequiredCheckPasses("acme", "web", sha, "stagegate") {
		t.Fatal("the wait for /ok-to-test satisfies a required stagegate check: the fork's pull request could merge untested")
	}
	if n := len(h.checks(sha)); n != 1 {
		t.Fatalf("a fork's code ran before /ok-to-test:%s", describeChecks(h.checks(sha)))
	}
	h.gh.Advance(2 * time.Second) // alice reviews the commit before she comments
	h.comment(10, "mallory", "/ok-to-test")
	if r := h.replies(10); len(r) != 1 || !strings.Contains(r[0], "@mallory cannot approve a fork's pull request for testing") {
		t.Errorf("replies = %q", r)
	}
	h.comment(10, "alice", "/ok-to-test")
	got := h.waitCheck(sha, "stagegate/test", func(c githubtest.CheckRun) bool { return c.Status == "completed" })
	if got.Conclusion != "success" || !strings.Contains(got.Output.Text, "token=withheld proxy=withheld") || strings.Contains(got.Output.Text, "s3cret") {
		t.Errorf("fork run: %s, log:\n%s", got.Conclusion, got.Output.Text)
	}
	// The fork's file names its author a deployer; its deploy stage
	// still does not run.
	ship := h.waitCheck(sha, "stagegate/ship", func(c githubtest.CheckRun) bool { return c.Status == "completed" })
	if ship.Conclusion != "skipped" || !strings.Contains(ship.Output.Summary, "forks") || len(h.gh.Deployments("acme", "web")) != 0 {
		t.Errorf("a fork's deploy stage: %s %q", ship.Conclusion, ship.Output.Summary)
	}
}

// autoDeploy deploys on every push to main, without approval, and its
// ship action waits until the file named in it exists.
func autoDeploy(release string) string {
	return `stages:
  - { name: build, actions: [{ name: compile, run: 'true' }] }
  - name: deploy
    environment: production
    actions: [{ name: ship, run: 'while [ ! -f ` + release + ` ]; do sleep 0.02; done; echo shipped' }]
    on_failure: [{ name: rollback, run: 'echo rolling back' }]
`
}

func TestDeploysToOneEnvironmentQueue(t *testing.T) {
	release := t.TempDir() + "/release"
	h := newHarness(t, map[string]string{".stagegate.yml": strings.Replace(autoDeploy(release), "stages:", "mode: parallel\nstages:", 1)})
	first := h.push("main", map[string]string{"a": "1"})
	h.waitStatus(first, "stagegate/deploy", "in_progress")
	second := h.push("main", map[string]string{"a": "2"})
	waiting := h.waitCheck(second, "stagegate/deploy", func(c githubtest.CheckRun) bool {
		return strings.Contains(c.Output.Summary, "environment `production`") && strings.Contains(c.Output.Summary, "in progress")
	})
	if waiting.Status == "completed" {
		t.Fatalf("the second deploy did not wait for the environment: %s", waiting.Conclusion)
	}
	writeFile(t, release)
	a, b := h.waitChecks(first, 20*time.Second), h.waitChecks(second, 20*time.Second)
	if a["stagegate/deploy"].Conclusion != "success" || b["stagegate/deploy"].Conclusion != "success" {
		t.Fatalf("deploys: %s and %s", a["stagegate/deploy"].Conclusion, b["stagegate/deploy"].Conclusion)
	}
	deps := h.gh.Deployments("acme", "web")
	if len(deps) != 2 {
		t.Fatalf("%d deployments, want 2", len(deps))
	}
	firstDone, secondStarted := time.Time{}, time.Time{}
	for _, d := range deps {
		for _, s := range d.Statuses {
			if d.SHA == first && s.State == "success" {
				firstDone = s.CreatedAt
			}
			if d.SHA == second && s.State == "in_progress" {
				secondStarted = s.CreatedAt
			}
		}
	}
	if firstDone.IsZero() || secondStarted.Before(firstDone) {
		t.Errorf("the second deploy started at %v, before the first ended at %v", secondStarted, firstDone)
	}
}

func TestDeployWaitsForAPendingExternalCheck(t *testing.T) {
	release := t.TempDir() + "/release"
	writeFile(t, release)
	h := newHarness(t, map[string]string{".stagegate.yml": autoDeploy(release)})
	ci := h.gh.AddApp("other-ci")
	ci.AddInstallation("acme", "web")
	sha := h.repo.Commit("main", map[string]string{"a": "1"}, "change")
	e2e := h.gh.CreateCheckRunAs(ci, "acme", "web", sha, "e2e", "in_progress", "")
	body := h.repo.Webhook("push", func(p map[string]any) {
		githubtest.SetPath(p, "ref", "refs/heads/main")
		githubtest.SetPath(p, "after", sha)
		githubtest.SetPath(p, "created", false)
	})
	h.sendAndWait("push", body)
	h.waitCheck(sha, "stagegate/deploy", func(c githubtest.CheckRun) bool {
		return strings.Contains(c.Output.Summary, "e2e") && c.Status != "completed"
	})
	if len(h.gh.Deployments("acme", "web")) != 0 {
		t.Fatal("deployed while a check was still running")
	}
	h.gh.CompleteCheckRunAs(ci, e2e, "success")
	h.sendAndWait("check_run", h.gh.CheckRunCompletedWebhook(e2e))
	if got := h.waitChecks(sha, 20*time.Second); got["stagegate/deploy"].Conclusion != "success" {
		t.Fatalf("after e2e passed:%s", describeChecks(got))
	}
	if d := h.deploymentStates(sha); len(d) != 1 || strings.Join(d[0], ",") != "queued,in_progress,success" {
		t.Errorf("deployment statuses = %v", d)
	}
}

func TestFailedDeployRollsBack(t *testing.T) {
	h := newHarness(t, map[string]string{".stagegate.yml": `stages:
  - name: deploy
    environment: staging
    actions: [{ name: ship, run: 'echo half shipped; exit 1' }]
    on_failure: [{ name: rollback, run: 'echo rolling back' }]
`})
	sha := h.push("main", map[string]string{"a": "1"})
	got := h.waitChecks(sha, 20*time.Second)
	c := got["stagegate/deploy"]
	if c.Conclusion != "failure" || !strings.Contains(c.Output.Text, "rolling back") || !strings.Contains(c.Output.Summary, "rollback") {
		t.Errorf("deploy check: %s\nsummary: %s\ntext: %s", c.Conclusion, c.Output.Summary, c.Output.Text)
	}
	deps := h.gh.Deployments("acme", "web")
	if len(deps) != 1 {
		t.Fatalf("%d deployments, want 1", len(deps))
	}
	last := deps[0].Statuses[len(deps[0].Statuses)-1]
	if last.State != "failure" || !strings.Contains(last.Description, "rolled back") {
		t.Errorf("final deployment status: %s %q", last.State, last.Description)
	}
}

func TestOkToTestIsForTheHeadTheApproverSaw(t *testing.T) {
	h := newHarness(t, map[string]string{".stagegate.yml": "stages: [{ name: test, actions: [{ name: unit, run: 'true' }] }]\n"})
	h.gh.SetPermission("acme", "web", "alice", "write")
	fork := h.gh.AddFork("acme", "web", "mallory")
	first := h.openPR(13, "evil", "mallory/web", map[string]string{"a": "1"})
	h.waitCheck(first, "stagegate", func(c githubtest.CheckRun) bool { return c.Conclusion == "action_required" })

	// alice reviews the first commit and writes /ok-to-test; before the
	// comment is processed, the fork pushes another commit.
	h.gh.Advance(2 * time.Second)
	id := h.gh.AddComment("acme", "web", 13, "alice", "/ok-to-test")
	h.gh.Advance(2 * time.Second) // the new commit comes after the comment
	second := fork.Commit("evil", map[string]string{"a": "2"}, "unreviewed")
	h.gh.PushToPullRequest("acme", "web", 13, second)
	h.sendAndWait("pull_request", h.syncPR(13))
	h.sendAndWait("issue_comment", h.gh.IssueCommentWebhook(id))
	if r := h.replies(13); len(r) != 1 || !containsAll(r[0], short(first), short(second), "pushed after your comment") {
		t.Errorf("replies = %q", r)
	}
	if got := h.checks(second); len(got) != 1 || got["stagegate"].Conclusion != "action_required" {
		t.Errorf("the unreviewed commit ran:%s", describeChecks(got))
	}
}

package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stagegate/stagegate/checks"
	"github.com/stagegate/stagegate/internal/githubtest"
)

// onePerCommit says which event ran it; its push runs take a while.
const onePerCommit = `stages:
  - name: build
    actions: [{ name: compile, run: 'echo "event=$STAGEGATE_EVENT pr=$STAGEGATE_PR"; if [ "$STAGEGATE_EVENT" = push ] && [ -f slow ]; then sleep 30; fi' }]
  - name: deploy
    environment: production
    approval: manual
    actions: [{ name: ship, run: 'echo shipped by $STAGEGATE_EVENT' }]
`

// runOf is the run a check belongs to, from its external id.
func runOf(c githubtest.CheckRun) string {
	id, _ := checks.ParseExternalID(c.ExternalID)
	return id
}

// oneRunOwns asserts that every latest stagegate check on sha belongs to
// one run, and returns it.
func oneRunOwns(t *testing.T, got map[string]githubtest.CheckRun) string {
	t.Helper()
	owner := ""
	for name, c := range got {
		if name != checks.SummaryName && !strings.HasPrefix(name, checks.SummaryName+"/") {
			continue
		}
		if owner == "" {
			owner = runOf(c)
		}
		if runOf(c) != owner {
			t.Fatalf("the commit's checks come from two runs (%s and %s):%s", owner, runOf(c), describeChecks(got))
		}
	}
	return owner
}

// A push to a pull request's branch after the pull request's run started
// starts no second run: /deploy, the Deploy button and "Re-run all" act
// on the pull request's run, and the commit's checks all say one thing.
func TestPushToAPullRequestBranchStartsNoSecondRun(t *testing.T) {
	h := newHarness(t, map[string]string{".stagegate.yml": onePerCommit})
	h.gh.SetPermission("acme", "web", "alice", "write")
	sha := h.openPR(7, "feature", "", map[string]string{"a": "1"})
	h.waitCheck(sha, "stagegate/deploy", needsApproval)

	result := h.sendAndWait("push", h.repo.PushWebhook("feature", ""))
	if !strings.Contains(result, "pull request #7 runs") {
		t.Fatalf("the push to the pull request's branch: %q; want no second run", result)
	}
	if n := h.app.RunsForSHA(t.Context(), "acme/web", sha); n != 1 {
		t.Fatalf("%d runs of the commit, want 1", n)
	}

	h.comment(7, "alice", "/deploy")
	got := h.waitChecks(sha, 30*time.Second)
	owner := oneRunOwns(t, got)
	if got["stagegate/deploy"].Conclusion != "success" || !strings.Contains(got["stagegate/deploy"].Output.Text, "shipped by pull_request") ||
		!strings.Contains(got["stagegate/build"].Output.Text, "event=pull_request pr=7") {
		t.Fatalf("after /deploy:%s\n%s", describeChecks(got), got["stagegate/deploy"].Output.Text)
	}
	if deps := h.gh.Deployments("acme", "web"); len(deps) != 1 {
		t.Fatalf("%d deployments of one commit, want 1", len(deps))
	}

	// "Re-run all" runs the pull request's event again.
	h.sendAndWait("check_suite", h.repo.Webhook("check_suite.rerequested", func(p map[string]any) {
		githubtest.SetPath(p, "check_suite.head_sha", sha)
		githubtest.SetPath(p, "check_suite.head_branch", "feature")
	}))
	build := h.waitCheck(sha, "stagegate/build", func(c githubtest.CheckRun) bool {
		return runOf(c) != owner && c.Status == "completed"
	})
	if !strings.Contains(build.Output.Text, "event=pull_request pr=7") {
		t.Errorf("Re-run all ran the push event:\n%s", build.Output.Text)
	}
}

// A pull request opened on a commit whose push run is still going takes
// the commit over: the push run ends cancelled, saying so, and the
// pull request's run reports the commit's checks.
func TestPullRequestTakesOverThePushRunOfItsCommit(t *testing.T) {
	h := newHarness(t, map[string]string{".stagegate.yml": onePerCommit})
	h.repo.Commit("feature", map[string]string{"slow": "1"}, "slow")
	sha := h.repo.Head("feature")
	h.sendAndWait("push", h.repo.PushWebhook("feature", ""))
	h.waitStatus(sha, "stagegate/build", "in_progress")
	pushCheck := h.checks(sha)["stagegate/build"]

	h.openPR(8, "feature", "", nil)
	build := h.waitCheck(sha, "stagegate/build", func(c githubtest.CheckRun) bool {
		return runOf(c) != runOf(pushCheck) && c.Status == "completed"
	})
	if build.Conclusion != "success" || !strings.Contains(build.Output.Text, "event=pull_request pr=8") {
		t.Fatalf("the pull request's build: %s\n%s", build.Conclusion, build.Output.Text)
	}
	waitFor(t, func() bool {
		c, _ := h.gh.CheckRun(pushCheck.ID)
		return c.Status == "completed"
	})
	c, _ := h.gh.CheckRun(pushCheck.ID)
	if c.Conclusion != "cancelled" || !strings.Contains(c.Output.Summary+c.Output.Text+c.Output.Title, "pull request #8") {
		t.Errorf("the push run's build: %s %q %q", c.Conclusion, c.Output.Title, c.Output.Summary)
	}
	h.waitCheck(sha, "stagegate/deploy", needsApproval)
	got := h.checks(sha)
	if owner := oneRunOwns(t, got); owner != runOf(build) {
		t.Errorf("the commit's checks belong to run %s, not the pull request's %s", owner, runOf(build))
	}
}

// A fork's pull request whose head is the same commit as a branch of the
// repository (a fork starts with the parent's branches) must not take
// over, or cancel, the trusted push run of that commit.
func TestForkPullRequestDoesNotTakeOverAPushRun(t *testing.T) {
	release := t.TempDir() + "/release"
	h := newHarness(t, map[string]string{".stagegate.yml": `stages:
  - name: build
    actions: [{ name: compile, run: 'echo "event=$STAGEGATE_EVENT"; if [ "$STAGEGATE_EVENT" = push ]; then while [ ! -f ` + release + ` ]; do sleep 0.02; done; fi' }]
`})
	h.gh.SetPermission("acme", "web", "alice", "write")
	sha := h.repo.Commit("feature", map[string]string{"a": "1"}, "feature")
	h.sendAndWait("push", h.repo.PushWebhook("feature", ""))
	h.waitStatus(sha, "stagegate/build", "in_progress")
	pushBuild := h.checks(sha)["stagegate/build"]

	h.gh.AddFork("acme", "web", "mallory")
	if got := h.openPR(9, "feature", "mallory/web", nil); got != sha {
		t.Fatalf("the fork's head %s is not the pushed commit %s", got, sha)
	}
	// The commit's checks are the trusted run's: the fork's wait for
	// /ok-to-test must not put a newer "stagegate" over its summary.
	if s := h.checks(sha)["stagegate"]; runOf(s) != runOf(pushBuild) {
		t.Fatalf("the fork's pull request replaced the trusted run's summary: %s %q", s.Conclusion, s.Output.Title)
	}
	h.gh.Advance(2 * time.Second)
	h.comment(9, "alice", "/ok-to-test")
	forkBuild := h.waitCheck(sha, "stagegate/build", func(c githubtest.CheckRun) bool {
		return runOf(c) != runOf(pushBuild) && c.Status == "completed"
	})
	if !strings.Contains(forkBuild.Output.Text, "event=pull_request") {
		t.Fatalf("the fork's run:\n%s", forkBuild.Output.Text)
	}
	if c, _ := h.gh.CheckRun(pushBuild.ID); c.Status != "in_progress" {
		t.Fatalf("the fork's pull request stopped the trusted push run: %s/%s %q", c.Status, c.Conclusion, c.Output.Summary)
	}
	writeFile(t, release)
	waitFor(t, func() bool {
		c, _ := h.gh.CheckRun(pushBuild.ID)
		return c.Conclusion == "success"
	})
}

// Nor does a fork's run of a commit keep the trusted push of that commit
// from running.
func TestForkRunDoesNotStopAPushOfTheSameCommit(t *testing.T) {
	h := newHarness(t, map[string]string{".stagegate.yml": "stages: [{ name: build, actions: [{ name: compile, run: 'echo event=$STAGEGATE_EVENT' }] }]\n"})
	h.gh.SetPermission("acme", "web", "alice", "write")
	sha := h.repo.Commit("feature", map[string]string{"a": "1"}, "feature")
	h.gh.AddFork("acme", "web", "mallory")
	h.openPR(9, "feature", "mallory/web", nil)
	h.gh.Advance(2 * time.Second)
	h.comment(9, "alice", "/ok-to-test")
	h.waitCheck(sha, "stagegate/build", func(c githubtest.CheckRun) bool { return c.Status == "completed" })
	if result := h.sendAndWait("push", h.repo.PushWebhook("feature", "")); !strings.Contains(result, "queued") {
		t.Fatalf("the trusted push after a fork's run of its commit: %q; want a run", result)
	}
}

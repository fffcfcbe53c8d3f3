package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stagegate/stagegate/internal/githubtest"
)

// syncPR is the pull_request.synchronize delivery GitHub sends after a
// push moved pull request number's head, built from the fake's record.
func (h *harness) syncPR(number int) []byte {
	h.t.Helper()
	var pr githubtest.PullRequest
	for _, p := range h.gh.PullRequests("acme", "web") {
		if p.Number == number {
			pr = p
		}
	}
	return h.repo.Webhook("pull_request.synchronize", func(p map[string]any) {
		githubtest.SetPath(p, "number", number)
		githubtest.SetPath(p, "pull_request.number", number)
		githubtest.SetPath(p, "pull_request.head.ref", pr.HeadRef)
		githubtest.SetPath(p, "pull_request.head.sha", pr.HeadSHA)
		githubtest.SetPath(p, "pull_request.head.repo.full_name", pr.HeadRepo)
		githubtest.SetPath(p, "pull_request.base.ref", pr.BaseRef)
		githubtest.SetPath(p, "pull_request.base.sha", pr.BaseSHA)
		githubtest.SetPath(p, "pull_request.created_at", pr.CreatedAt.Format(time.RFC3339))
		githubtest.SetPath(p, "pull_request.updated_at", pr.UpdatedAt.Format(time.RFC3339))
	})
}

const oneTestStage = "stages: [{ name: test, actions: [{ name: unit, run: 'true' }] }]\n"

// waitingForReview is the fork's check while it waits for /ok-to-test.
func waitingForReview(c githubtest.CheckRun) bool { return c.Conclusion == "action_required" }

// A fork opens at B, force-pushes a harmless A, a maintainer approves A,
// and the fork force-pushes B back before the comment is processed. GitHub
// may deliver the comment before or after the push's synchronize: either
// way B must not run.
func TestOkToTestIsForTheHeadWhenTheCommentWasWritten(t *testing.T) {
	for _, commentFirst := range []bool{true, false} {
		name := map[bool]string{true: "comment delivered first", false: "synchronize delivered first"}[commentFirst]
		t.Run(name, func(t *testing.T) { okToTestRace(t, commentFirst) })
	}
}

func okToTestRace(t *testing.T, commentFirst bool) {
	h := newHarness(t, map[string]string{".stagegate.yml": oneTestStage})
	h.gh.SetPermission("acme", "web", "alice", "write")
	fork := h.gh.AddFork("acme", "web", "mallory")
	b := h.openPR(13, "evil", "mallory/web", map[string]string{"payload": "steal secrets"})
	h.waitCheck(b, "stagegate", waitingForReview)

	a := fork.CommitChanges("harmless", "fix a typo", githubtest.Change{Path: "README", Content: "typo fixed"})
	h.gh.PushToPullRequest("acme", "web", 13, a)
	h.sendAndWait("pull_request", h.syncPR(13))
	h.waitCheck(a, "stagegate", waitingForReview)
	h.gh.Advance(2 * time.Second)
	id := h.gh.AddComment("acme", "web", 13, "alice", "/ok-to-test") // alice looked at A
	h.gh.Advance(2 * time.Second)
	h.gh.PushToPullRequest("acme", "web", 13, b)
	if commentFirst {
		h.sendAndWait("issue_comment", h.gh.IssueCommentWebhook(id))
		h.sendAndWait("pull_request", h.syncPR(13))
	} else {
		h.sendAndWait("pull_request", h.syncPR(13))
		h.sendAndWait("issue_comment", h.gh.IssueCommentWebhook(id))
	}

	r := h.replies(13)
	if len(r) != 1 || !containsAll(r[0], "@alice", short(a), short(b), "/ok-to-test") {
		t.Fatalf("replies = %q, want one naming %s and %s", r, short(a), short(b))
	}
	if got := h.checks(b); len(got) != 1 || got["stagegate"].Conclusion != "action_required" {
		t.Fatalf("the commit alice never saw ran:%s", describeChecks(got))
	}
	if got := h.checks(a); len(got) != 1 {
		t.Fatalf("the commit that is no longer the head ran:%s", describeChecks(got))
	}

	// Naming a commit that is not the head is refused too.
	h.comment(13, "alice", "/ok-to-test "+a[:9])
	if r := h.replies(13); len(r) != 2 || !containsAll(r[1], short(a), short(b)) {
		t.Fatalf("replies = %q", r)
	}
	// Naming the head approves it, whenever it was pushed.
	h.comment(13, "alice", "/ok-to-test "+b)
	if got := h.waitCheck(b, "stagegate/test", func(c githubtest.CheckRun) bool { return c.Status == "completed" }); got.Conclusion != "success" {
		t.Fatalf("after /ok-to-test %s: %s", short(b), got.Conclusion)
	}
}

// A fast-forward push lands between a /deploy and its delivery: the new
// commit carries its own dates, so only when GitHub told stagegate about
// the push can show that it came after the comment.
func TestDeployIsForTheHeadWhenTheCommentWasWritten(t *testing.T) {
	h := newHarness(t, map[string]string{".stagegate.yml": manualDeploy})
	h.gh.SetPermission("acme", "web", "alice", "write")
	a := h.openPR(21, "feature", "", map[string]string{"a": "1"})
	h.waitCheck(a, "stagegate/deploy", needsApproval)
	id := h.gh.AddComment("acme", "web", 21, "alice", "/deploy") // alice looked at A
	h.gh.Advance(2 * time.Second)
	b := h.repo.Commit("feature", map[string]string{"a": "2"}, "unreviewed")
	h.gh.PushToPullRequest("acme", "web", 21, b)
	h.sendAndWait("pull_request", h.syncPR(21))
	h.waitCheck(b, "stagegate/deploy", needsApproval)
	h.sendAndWait("issue_comment", h.gh.IssueCommentWebhook(id))

	if r := h.replies(21); len(r) != 1 || !containsAll(r[0], "@alice", short(a), short(b), "/deploy") {
		t.Fatalf("replies = %q, want one naming %s and %s", r, short(a), short(b))
	}
	if d := h.gh.Deployments("acme", "web"); len(d) != 0 {
		t.Fatalf("a /deploy written while %s was the head deployed %s", short(a), short(d[0].SHA))
	}
	if c := h.checks(b)["stagegate/deploy"]; !needsApproval(c) {
		t.Fatalf("the deploy of %s: %s %s", short(b), c.Status, c.Conclusion)
	}
}

func TestDeployOfANamedCommit(t *testing.T) {
	h := newHarness(t, map[string]string{".stagegate.yml": manualDeploy})
	h.gh.SetPermission("acme", "web", "alice", "write")
	a := h.openPR(22, "feature", "", map[string]string{"a": "1"})
	h.waitCheck(a, "stagegate/deploy", needsApproval)
	b := h.repo.Commit("feature", map[string]string{"a": "2"}, "newer")
	h.gh.PushToPullRequest("acme", "web", 22, b)
	h.sendAndWait("pull_request", h.syncPR(22))
	h.waitCheck(b, "stagegate/deploy", needsApproval)
	h.gh.Advance(2 * time.Second)

	h.comment(22, "alice", "/deploy production "+a[:10])
	if r := h.replies(22); len(r) != 1 || !containsAll(r[0], short(a), short(b)) {
		t.Fatalf("replies = %q, want a refusal naming %s and %s", r, short(a), short(b))
	}
	if d := h.gh.Deployments("acme", "web"); len(d) != 0 {
		t.Fatalf("a /deploy of an older commit deployed %s", short(d[0].SHA))
	}
	h.comment(22, "alice", "/deploy production "+strings.ToUpper(b[:7]))
	if got := h.waitChecks(b, 20*time.Second); got["stagegate/deploy"].Conclusion != "success" {
		t.Fatalf("after /deploy production %s:%s", short(b), describeChecks(got))
	}
	if d := h.deploymentStates(b); len(d) != 1 {
		t.Errorf("deployments of %s = %v", short(b), d)
	}
}

// What stagegate saw of one pull request says nothing of another: a
// commit that was the head of a second pull request before the comment,
// then pushed (fast-forward) to the approved one after it, is refused.
func TestOkToTestIgnoresAnotherPullRequestsHead(t *testing.T) {
	h := newHarness(t, map[string]string{".stagegate.yml": oneTestStage})
	h.gh.SetPermission("acme", "web", "alice", "write")
	fork := h.gh.AddFork("acme", "web", "mallory")
	a := h.openPR(31, "one", "mallory/web", map[string]string{"x": "harmless"})
	h.waitCheck(a, "stagegate", waitingForReview)
	// mallory builds E on A and opens a second pull request with it.
	e := fork.Commit("one", map[string]string{"x": "evil"}, "evil")
	h.gh.AddPullRequest("acme", "web", githubtest.PullRequest{Number: 32, User: "mallory", HeadRepo: "mallory/web", HeadRef: "two", HeadSHA: e})
	h.sendAndWait("pull_request", h.syncPR(32))
	h.waitCheck(e, "stagegate", waitingForReview)
	h.gh.Advance(2 * time.Second)
	id := h.gh.AddComment("acme", "web", 31, "alice", "/ok-to-test") // alice looked at A
	h.gh.Advance(2 * time.Second)
	h.gh.PushToPullRequest("acme", "web", 31, e)
	h.sendAndWait("issue_comment", h.gh.IssueCommentWebhook(id))
	h.sendAndWait("pull_request", h.syncPR(31))

	if r := h.replies(31); len(r) != 1 || !containsAll(r[0], "@alice", short(a), short(e)) {
		t.Fatalf("replies = %q, want one naming %s and %s", r, short(a), short(e))
	}
	if got := h.checks(e); len(got) != 1 || got["stagegate"].Conclusion != "action_required" {
		t.Fatalf("the commit alice never saw on #31 ran:%s", describeChecks(got))
	}
}

package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stagegate/stagegate/internal/githubtest"
)

// openPullRequest commits files on a new branch from main and delivers
// the pull_request webhook of the action for it.
func (h *harness) openPullRequest(action, branch string, number int, files map[string]string) string {
	h.t.Helper()
	base := h.repo.Head("main")
	if h.repo.Head(branch) == "" {
		h.repo.Commit(branch, map[string]string{}, "branch")
	}
	head := h.repo.Commit(branch, files, "change")
	body := h.repo.Webhook("pull_request."+action, func(p map[string]any) {
		githubtest.SetPath(p, "number", number)
		githubtest.SetPath(p, "pull_request.number", number)
		githubtest.SetPath(p, "pull_request.head.ref", branch)
		githubtest.SetPath(p, "pull_request.head.sha", head)
		githubtest.SetPath(p, "pull_request.base.ref", "main")
		githubtest.SetPath(p, "pull_request.base.sha", base)
	})
	h.sendAndWait("pull_request", body)
	return head
}

func TestPullRequestPathFilters(t *testing.T) {
	h := newHarness(t, map[string]string{".stagegate.yml": `on:
  pull_request: { branches: [main], paths: ["src/**", "!**/*.md"] }
stages:
  - { name: test, actions: [{ name: unit, run: 'echo "$STAGEGATE_EVENT #$STAGEGATE_PR $STAGEGATE_BRANCH -> $STAGEGATE_BASE_BRANCH"' }] }
`, "src/app.go": "package app\n"})

	docs := h.openPullRequest("opened", "docs", 1, map[string]string{"src/README.md": "docs only\n"})
	code := h.openPullRequest("opened", "feature", 2, map[string]string{"src/app.go": "package app // changed\n"})
	got := h.waitChecks(code, 20*time.Second)
	if c := got["stagegate/test"]; c.Conclusion != "success" {
		t.Fatalf("pull request run: %s", describeChecks(got))
	}
	if text := got["stagegate/test"].Output.Text; !containsAll(text, "pull_request #2 feature -> main") {
		t.Errorf("the run did not see the pull request event:\n%s", text)
	}
	// The documentation-only pull request was processed first and
	// started nothing.
	if n := len(h.checks(docs)); n != 0 {
		t.Errorf("a pull request changing only markdown started %d checks", n)
	}
	compares := 0
	for _, c := range h.gh.Calls() {
		if strings.HasPrefix(c.Route, "GET /repos/{owner}/{repo}/compare/") {
			compares++
		}
	}
	if compares != 2 {
		t.Errorf("%d compare calls for two pull requests with a paths filter, want 2", compares)
	}
}

func TestClosingAPullRequestCancelsItsRun(t *testing.T) {
	h := newHarness(t, map[string]string{".stagegate.yml": slowPipeline("superseded")})
	sha := h.openPullRequest("opened", "feature", 9, map[string]string{"slow": "1"})
	h.waitStatus(sha, "stagegate/work", "in_progress")
	body := h.repo.Webhook("pull_request.closed", func(p map[string]any) {
		githubtest.SetPath(p, "number", 9)
		githubtest.SetPath(p, "pull_request.number", 9)
		githubtest.SetPath(p, "pull_request.head.sha", sha)
	})
	if code, text := h.send("pull_request", githubtest.NewDeliveryID(), body); code != 202 {
		t.Fatalf("closed webhook: %d %s", code, text)
	}
	got := h.waitChecks(sha, 20*time.Second)
	if got["stagegate"].Conclusion != "cancelled" || got["stagegate/work"].Conclusion != "cancelled" {
		t.Errorf("closing the pull request did not cancel its run:%s", describeChecks(got))
	}
}

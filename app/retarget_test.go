package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stagegate/stagegate/internal/githubtest"
)

// on.pull_request.branches filters on the base branch, so changing a
// pull request's base (pull_request "edited" with changes.base) decides
// again, on the new base.
func TestRetargetedPullRequestRunsOnItsNewBase(t *testing.T) {
	h := newHarness(t, map[string]string{".stagegate.yml": `on:
  pull_request: { branches: ["release/**"] }
stages:
  - { name: test, actions: [{ name: unit, run: 'echo "base=$STAGEGATE_BASE_BRANCH"' }] }
`})
	h.repo.Commit("release/2.0", map[string]string{"VERSION": "2.0\n"}, "release branch")
	sha := h.openPR(21, "fix", "", map[string]string{"fix.go": "package fix\n"})
	if n := len(h.checks(sha)); n != 0 {
		t.Fatalf("a pull request into main ran with a release/** filter: %s", describeChecks(h.checks(sha)))
	}

	// A title edit decides nothing.
	title := h.repo.Webhook("pull_request.synchronize", func(p map[string]any) {
		githubtest.DeletePath(p, "before")
		githubtest.DeletePath(p, "after")
		githubtest.SetPath(p, "action", "edited")
		githubtest.SetPath(p, "number", 21)
		githubtest.SetPath(p, "pull_request.number", 21)
		githubtest.SetPath(p, "pull_request.head.sha", sha)
		githubtest.SetPath(p, "changes", map[string]any{"title": map[string]any{"from": "old title"}})
	})
	if result := h.sendAndWait("pull_request", title); strings.Contains(result, "queued") {
		t.Fatalf("a title edit started a run: %q", result)
	}

	result := h.sendAndWait("pull_request", h.gh.RetargetPullRequest("acme", "web", 21, "release/2.0"))
	if !strings.Contains(result, "queued") {
		t.Fatalf("retargeting to release/2.0 started no run: %q", result)
	}
	got := h.waitChecks(sha, 30*time.Second)
	if c := got["stagegate/test"]; c.Conclusion != "success" || !strings.Contains(c.Output.Text, "base=release/2.0") {
		t.Fatalf("run on the new base:%s\n%s", describeChecks(got), c.Output.Text)
	}

	// Back to main: the filter stops it.
	if result := h.sendAndWait("pull_request", h.gh.RetargetPullRequest("acme", "web", 21, "main")); strings.Contains(result, "queued") {
		t.Errorf("retargeting to main started a run: %q", result)
	}
}

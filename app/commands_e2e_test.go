package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stagegate/stagegate/internal/githubtest"
)

func TestRetryCancelAndHelpCommands(t *testing.T) {
	release := t.TempDir() + "/release"
	h := newHarness(t, map[string]string{".stagegate.yml": `stages:
  - { name: build, actions: [{ name: compile, run: 'true' }] }
  - { name: test, actions: [{ name: flaky, run: 'test -f ` + release + `' }] }
`})
	h.gh.SetPermission("acme", "web", "alice", "write")
	sha := h.openPR(11, "feature", "", map[string]string{"a": "1"})
	if got := h.waitChecks(sha, 20*time.Second); got["stagegate/test"].Conclusion != "failure" {
		t.Fatalf("first run:%s", describeChecks(got))
	}
	first := h.checks(sha)

	writeFile(t, release)
	id := h.comment(11, "alice", "/retry")
	if r := h.gh.Reactions(id); !hasReaction(r, "rocket") {
		t.Fatalf("/retry reactions = %v, replies %q", r, h.replies(11))
	}
	got := h.waitCheck(sha, "stagegate", func(c githubtest.CheckRun) bool { return c.ID != first["stagegate"].ID && c.Status == "completed" })
	// The summary check concludes a moment before the run is recorded
	// finished; the commands below need the run over.
	waitFor(t, func() bool { return h.runFinished(sha) })
	latest := h.checks(sha)
	if got.Conclusion != "success" || latest["stagegate/test"].ID == first["stagegate/test"].ID {
		t.Errorf("/retry did not run the failed stage again:%s", describeChecks(latest))
	}
	if !strings.Contains(latest["stagegate/build"].Output.Summary, "reused") {
		t.Errorf("/retry ran the passed build again: %q", latest["stagegate/build"].Output.Summary)
	}

	h.comment(11, "alice", "/retry")
	h.comment(11, "alice", "/cancel")
	h.comment(11, "alice", "/help")
	h.comment(11, "alice", "/deplyo")
	replies := h.replies(11)
	for _, want := range []string{"nothing failed in run", "no run of this pull request is going", "`/ok-to-test [commit]`", "unknown command /deplyo — did you mean /deploy?"} {
		found := false
		for _, r := range replies {
			found = found || strings.Contains(r, want)
		}
		if !found {
			t.Errorf("no reply contains %q; replies:\n%s", want, strings.Join(replies, "\n---\n"))
		}
	}
}

func TestCancelCommandStopsTheRun(t *testing.T) {
	h := newHarness(t, map[string]string{".stagegate.yml": slowPipeline("superseded")})
	h.gh.SetPermission("acme", "web", "alice", "write")
	sha := h.openPR(12, "feature", "", map[string]string{"slow": "1"})
	h.waitStatus(sha, "stagegate/work", "in_progress")
	h.comment(12, "alice", "/cancel")
	got := h.waitChecks(sha, 20*time.Second)
	if got["stagegate/work"].Conclusion != "cancelled" || !strings.Contains(got["stagegate/work"].Output.Summary, "cancelled by @alice") {
		t.Errorf("after /cancel:%s", describeChecks(got))
	}
}

package app_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestConclusionsGitHubMissedAreSentAgain: GitHub fails the last check
// updates of a run (writes are not retried blindly); the checks are
// concluded later from the store, so none stays in progress.
func TestConclusionsGitHubMissedAreSentAgain(t *testing.T) {
	release := t.TempDir() + "/release"
	h := newHarness(t, map[string]string{".stagegate.yml": `stages:
  - { name: build, actions: [{ name: wait, run: 'while [ ! -f ` + release + ` ]; do sleep 0.02; done' }] }
`})
	sha := h.push("main", map[string]string{"a": "1"})
	h.waitStatus(sha, "stagegate/build", "in_progress")
	restore := h.gh.Outage(http.MethodPatch, "/repos/{owner}/{repo}/check-runs/{check_run_id}", http.StatusBadGateway)
	writeFile(t, release)
	deadline := time.Now().Add(20 * time.Second)
	for !h.runFinished(sha) {
		if time.Now().After(deadline) {
			t.Fatal("the run did not finish")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if c := h.checks(sha)["stagegate"]; c.Status == "completed" {
		t.Fatalf("the outage did not stop the final update: %s", c.Conclusion)
	}
	restore()
	if err := h.app.ResendConclusions(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := h.checks(sha)
	for _, name := range []string{"stagegate", "stagegate/build"} {
		if got[name].Status != "completed" || got[name].Conclusion != "success" || !strings.Contains(got[name].Output.Summary, "sent this conclusion again") {
			t.Errorf("%s after resending: %s/%s %q", name, got[name].Status, got[name].Conclusion, got[name].Output.Summary)
		}
	}
	// Sent once: a second pass has nothing to do.
	h.gh.ResetCalls()
	if err := h.app.ResendConclusions(context.Background()); err != nil || len(h.gh.Calls()) != 0 {
		t.Errorf("second pass: %v, %d calls", err, len(h.gh.Calls()))
	}
}

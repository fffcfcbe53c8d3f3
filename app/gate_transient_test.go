package app_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stagegate/stagegate/internal/githubtest"
)

// TestGateWaitsThroughGitHubErrors: while the deploy gate reads the
// commit's checks, GitHub answers 5xx (an incident) for longer than the
// client retries. That says nothing about the checks: the gate shows that it could
// not read them, waits, looks again, and deploys once GitHub answers.
func TestGateWaitsThroughGitHubErrors(t *testing.T) {
	for _, status := range []int{http.StatusServiceUnavailable, http.StatusBadGateway, http.StatusInternalServerError} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			release := t.TempDir() + "/release"
			writeFile(t, release)
			h := newHarness(t, map[string]string{".stagegate.yml": autoDeploy(release)})
			restore := h.gh.Outage(http.MethodGet, "/repos/{owner}/{repo}/commits/{rest...}", status)
			sha := h.push("main", map[string]string{"a": "1"})
			h.waitCheck(sha, "stagegate/deploy", func(c githubtest.CheckRun) bool {
				return strings.Contains(c.Output.Summary, "could not read") && c.Status != "completed"
			})
			if len(h.gh.Deployments("acme", "web")) != 0 {
				t.Fatal("deployed without reading the checks")
			}
			restore()
			if got := h.waitChecks(sha, 30*time.Second); got["stagegate/deploy"].Conclusion != "success" {
				t.Fatalf("after GitHub answered again:%s", describeChecks(got))
			}
			if d := h.deploymentStates(sha); len(d) != 1 {
				t.Errorf("deployments = %v", d)
			}
		})
	}
}

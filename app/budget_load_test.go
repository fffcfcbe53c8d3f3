package app_test

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/stagegate/stagegate/app"
	"github.com/stagegate/stagegate/app/ghclient"
	"github.com/stagegate/stagegate/internal/githubtest"
)

// TestHundredConcurrentRunsStayWithinGitHubsLimits runs 100 pipelines of
// three stages at once on one installation, against a fake GitHub that
// enforces the primary and secondary rate limits with time compressed:
// an "hour" of 12s and a "minute" of 200ms, so that
// content creation (500 an hour, 80 a minute), points per endpoint (900
// a minute, a PATCH costs 5) and a primary budget of 2,000 requests an
// "hour" all bind. Each stage prints for a while, which makes progress
// updates. GitHub must refuse nothing: every check is concluded, and
// every deploy decided as its commit's other checks say (one in ten
// commits carries another CI's failing check, and must not deploy).
func TestHundredConcurrentRunsStayWithinGitHubsLimits(t *testing.T) {
	const (
		runs   = 100
		hour   = 12 * time.Second
		minute = hour / 60
	)
	gh := githubtest.New(t, githubtest.WithRateLimits(githubtest.RateLimits{PerHour: 2000, Minute: minute, Hour: hour}))
	repo := gh.AddRepo("acme", "web")
	pipeline := `mode: parallel
stages:
  - name: build
    actions: [{ name: compile, run: 'for i in 1 2 3 4 5 6 7 8 9 10; do echo "compiling $i"; sleep 0.1; done' }]
  - name: test
    actions: [{ name: unit, run: 'for i in 1 2 3 4 5 6 7 8 9 10; do echo "testing $i"; sleep 0.1; done' }]
  - name: deploy
    environment: production
    actions: [{ name: ship, run: 'echo shipped' }]
`
	repo.Commit("main", map[string]string{".stagegate.yml": pipeline}, "initial")
	h := &harness{t: t, gh: gh, repo: repo, inst: gh.AddInstallation("acme", "web"), level: zerolog.WarnLevel}
	h.cfg = app.Config{
		Addr: "127.0.0.1:0", AppID: gh.AppID(), PrivateKey: gh.PrivateKeyPEM(), WebhookSecret: []byte(webhookSecret),
		GitHubURL: gh.APIURL(), Database: "sqlite://" + filepath.Join(t.TempDir(), "stagegate.db"), DataDir: t.TempDir(),
	}
	h.opts = app.Options{
		MaxRuns:       runs,
		ProgressEvery: 250 * time.Millisecond,
		GitHubLimits: ghclient.Limits{
			Minute: minute, Hour: hour, WriteSpacing: minute / 60,
			ProgressWait: 2 * minute,
		},
	}
	h.start()

	ci := gh.AddApp("other-ci")
	ci.AddInstallation("acme", "web")
	shas := make([]string, runs)
	bad := map[string]bool{}
	bodies := make([][]byte, runs)
	for i := range runs {
		branch := fmt.Sprintf("feature-%d", i)
		sha, body := h.pushBody(branch, map[string]string{"n.txt": fmt.Sprint(i)})
		shas[i], bodies[i] = sha, body
		if i%10 == 3 {
			gh.CreateCheckRunAs(ci, "acme", "web", sha, "e2e", "completed", "failure")
			bad[sha] = true
		}
	}
	var wg sync.WaitGroup
	for i := range runs {
		wg.Go(func() {
			if code, text := h.send("push", githubtest.NewDeliveryID(), bodies[i]); code != http.StatusAccepted {
				t.Errorf("push %d: %d %s", i, code, text)
			}
		})
	}
	wg.Wait()

	deadline := time.Now().Add(3 * time.Minute)
	for _, sha := range shas {
		for !h.runFinished(sha) {
			if time.Now().After(deadline) {
				t.Fatalf("run of %s not finished: %s", sha[:7], describeChecks(h.checks(sha)))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	if n := gh.RateLimited(); n != 0 {
		t.Errorf("GitHub refused %d requests for a rate limit", n)
	}
	progress := 0
	for _, c := range gh.Calls() {
		if c.Status == http.StatusForbidden || c.Status == http.StatusTooManyRequests {
			t.Errorf("GitHub answered %d to %s %s", c.Status, c.Method, c.Path)
		}
		if c.Route == "PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}" && c.Status == http.StatusOK {
			progress++
		}
	}
	deployed := map[string]bool{}
	for _, d := range gh.Deployments("acme", "web") {
		deployed[d.SHA] = true
	}
	for _, sha := range shas {
		cs := h.checks(sha)
		for _, name := range []string{"stagegate", "stagegate/build", "stagegate/test", "stagegate/deploy"} {
			if c, ok := cs[name]; !ok || c.Status != "completed" {
				t.Errorf("%s on %s not concluded:%s", name, sha[:7], describeChecks(cs))
			}
		}
		for _, name := range []string{"stagegate/build", "stagegate/test"} {
			if c := cs[name]; c.Conclusion != "success" {
				t.Errorf("%s on %s: %s", name, sha[:7], c.Conclusion)
			}
		}
		deploy := cs["stagegate/deploy"]
		switch {
		case bad[sha] && (deployed[sha] || deploy.Conclusion == "success" || !strings.Contains(deploy.Output.Summary, "e2e")):
			t.Errorf("%s has a failing e2e check but its deploy is %s (deployed %v):\n%s", sha[:7], deploy.Conclusion, deployed[sha], deploy.Output.Summary)
		case !bad[sha] && (!deployed[sha] || deploy.Conclusion != "success"):
			t.Errorf("%s should have deployed: %s (deployed %v):\n%s", sha[:7], deploy.Conclusion, deployed[sha], deploy.Output.Summary)
		}
	}
	t.Logf("%d API calls, %d check-run updates, %d deployments", len(gh.Calls()), progress, len(deployed))
	// Conclusions alone are 3 updates a run; more means progress was shown.
	if progress <= 3*runs {
		t.Errorf("%d check-run updates for %d runs: no progress was shown", progress, runs)
	}
}

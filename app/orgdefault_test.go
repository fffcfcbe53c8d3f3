package app_test

import (
	"bytes"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/stagegate/stagegate/app"
	"github.com/stagegate/stagegate/internal/githubtest"
)

// lockedBuffer collects a log written from several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestUnreadableOrgDefaultIsToldApart: the installation covers only
// acme/web, and acme keeps its default pipeline in a private acme/.github
// outside the selection, which GitHub answers 404 for, as for a
// repository that does not exist. stagegate says so at start, and on the
// stagegate check of a push to a repository without a file of its own,
// instead of ignoring the push as a repository without a pipeline. Once
// .github is added to the installation the default runs.
func TestUnreadableOrgDefaultIsToldApart(t *testing.T) {
	gh := githubtest.New(t)
	repo := gh.AddRepo("acme", "web")
	repo.Commit("main", map[string]string{"README.md": "web"}, "initial")
	gh.AddRepo("acme", ".github").Commit("main", map[string]string{".stagegate.yml": "stages:\n  - name: lint\n    actions:\n      - name: ok\n        run: 'true'\n"}, "default")
	logs := &lockedBuffer{}
	h := &harness{t: t, gh: gh, repo: repo, inst: gh.AddInstallation("acme", "web"), level: zerolog.InfoLevel, logTo: logs}
	h.cfg = app.Config{
		Addr: "127.0.0.1:0", AppID: gh.AppID(), PrivateKey: gh.PrivateKeyPEM(), WebhookSecret: []byte(webhookSecret),
		GitHubURL: gh.APIURL(), Database: "sqlite://" + filepath.Join(t.TempDir(), "stagegate.db"), DataDir: t.TempDir(),
	}
	h.start()

	waitFor(t, func() bool { return strings.Contains(logs.String(), "acme/.github") })
	if log := logs.String(); !strings.Contains(log, "cannot read") {
		t.Errorf("the start log does not say acme/.github cannot be read:\n%s", log)
	}

	sha := h.push("main", map[string]string{"a.txt": "a"})
	var check githubtest.CheckRun
	waitFor(t, func() bool {
		c, ok := h.checks(sha)["stagegate"]
		check = c
		return ok && c.Status == "completed"
	})
	if check.Conclusion != "neutral" || !containsAll(check.Output.Summary, "acme/.github", ".stagegate.yml") {
		t.Errorf("stagegate check: %s %q\n%s", check.Conclusion, check.Output.Title, check.Output.Summary)
	}
	if n := len(h.checks(sha)); n != 1 {
		t.Errorf("%d checks, want only the stagegate note: %s", n, describeChecks(h.checks(sha)))
	}

	// With .github among the installation's repositories the default runs.
	gh.AddInstallationRepos(h.inst, ".github")
	sha = h.push("main", map[string]string{"b.txt": "b"})
	cs := h.waitChecks(sha, 30*time.Second)
	if cs["stagegate/lint"].Conclusion != "success" || cs["stagegate"].Conclusion != "success" {
		t.Errorf("org default did not run: %s", describeChecks(cs))
	}
}

// TestVisibleOrgRepoWithoutDefaultStaysQuiet: a .github the installation
// can read that has no .stagegate.yml means the repository does not use
// stagegate: no check.
func TestVisibleOrgRepoWithoutDefaultStaysQuiet(t *testing.T) {
	h := newHarness(t, map[string]string{"README.md": "web"})
	h.gh.AddRepo("acme", ".github").Commit("main", map[string]string{"README.md": "org"}, "org")
	h.gh.AddInstallationRepos(h.inst, ".github")
	sha, body := h.pushBody("main", map[string]string{"a.txt": "a"})
	if result := h.sendAndWait("push", body); !strings.Contains(result, "uses no pipeline") {
		t.Errorf("result %q, want the push ignored", result)
	}
	if cs := h.checks(sha); len(cs) != 0 {
		t.Errorf("checks on a repository without a pipeline: %s", describeChecks(cs))
	}
}

package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/stagegate/stagegate/app"
	"github.com/stagegate/stagegate/app/ghclient"
	"github.com/stagegate/stagegate/internal/githubtest"
	"github.com/stagegate/stagegate/pipeline/runner"
)

const webhookSecret = "it's a secret to everybody"

// harness is a real App, with its SQLite database and River queue,
// talking to the fake GitHub and fetching from its git server, and
// receiving signed webhooks over HTTP.
type harness struct {
	t    testing.TB
	gh   *githubtest.Server
	repo *githubtest.Repo
	inst int64
	app  *app.App
	srv  *httptest.Server
	cfg  app.Config
	// level is the app's log level.
	level zerolog.Level
	// options, when set, adjusts the app's options.
	options func(*app.Options)
	// runner, when set, runs the actions instead of the App's default.
	runner runner.Runner
	// logTo also receives the app's log, when set.
	logTo io.Writer
	// opts are the app's options (the logger is the harness's).
	opts app.Options
}

func newHarness(t testing.TB, files map[string]string) *harness {
	return newHarnessLogging(t, files, zerolog.InfoLevel)
}

// newBenchHarness is a harness with a pipeline file that logs only
// warnings, for benchmarks.
// newBenchHarness is a harness for benchmarks. It measures stagegate
// itself: the pacing that keeps an installation under GitHub's secondary
// limits would otherwise set the pace of back-to-back iterations (it is
// tested under load by TestHundredConcurrentRunsStayWithinGitHubsLimits).
func newBenchHarness(b *testing.B, pipeline string) *harness {
	h := buildHarness(b, map[string]string{".stagegate.yml": pipeline}, zerolog.WarnLevel, nil)
	const unpaced = 1 << 30
	h.opts.GitHubLimits = ghclient.Limits{WriteBurst: unpaced, CreatesPerMinute: unpaced, CreatesPerHour: unpaced}
	h.start()
	return h
}

func newHarnessLogging(t testing.TB, files map[string]string, level zerolog.Level) *harness {
	t.Helper()
	return newHarnessRunner(t, files, level, nil)
}

// newHarnessRunner is a harness whose App runs actions with r (nil: the
// App's default).
func newHarnessRunner(t testing.TB, files map[string]string, level zerolog.Level, r runner.Runner) *harness {
	t.Helper()
	h := buildHarness(t, files, level, r)
	h.start()
	return h
}

// buildHarness is a harness whose App is not started yet.
func buildHarness(t testing.TB, files map[string]string, level zerolog.Level, r runner.Runner) *harness {
	t.Helper()
	gh := githubtest.New(t)
	repo := gh.AddRepo("acme", "web")
	repo.Commit("main", files, "initial")
	h := &harness{t: t, gh: gh, repo: repo, inst: gh.AddInstallation("acme", "web"), level: level, runner: r}
	h.cfg = app.Config{
		Addr: "127.0.0.1:0", AppID: gh.AppID(), PrivateKey: gh.PrivateKeyPEM(), WebhookSecret: []byte(webhookSecret),
		GitHubURL: gh.APIURL(), Database: harnessDatabase(t), DataDir: t.TempDir(),
	}
	return h
}

// start runs the app on the harness's database; restart calls it again.
func (h *harness) start() {
	h.t.Helper()
	ctx := context.Background()
	var out io.Writer = zerolog.NewTestWriter(h.t)
	if h.logTo != nil {
		out = io.MultiWriter(out, h.logTo)
	}
	log := zerolog.New(out).Level(h.level).With().Timestamp().Logger()
	opts := h.opts
	opts.Logger = log
	if opts.ShutdownGrace == 0 {
		opts.ShutdownGrace = 5 * time.Second
	}
	if h.runner != nil {
		opts.Runner = h.runner
	}
	if h.options != nil {
		h.options(&opts)
	}
	a, err := app.New(ctx, h.cfg, opts)
	if err != nil {
		h.t.Fatal(err)
	}
	if err := a.Start(ctx); err != nil {
		h.t.Fatal(err)
	}
	h.app = a
	h.srv = httptest.NewServer(a.Handler())
	h.t.Cleanup(h.stop)
}

func (h *harness) stop() {
	if h.app == nil {
		return
	}
	h.srv.Close()
	// Runs still waiting at a deploy gate are stopped at the end of this
	// grace period, as a SIGTERM would.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := h.app.Stop(ctx); err != nil {
		h.t.Errorf("stop: %v", err)
	}
	h.app = nil
}

// send delivers a webhook as GitHub does and returns the status and body.
func (h *harness) send(event, guid string, body []byte) (int, string) {
	h.t.Helper()
	resp := githubtest.SendWebhook(h.t, h.srv.URL+"/webhook", webhookSecret, event, guid, body)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// push commits files to a branch and delivers the push webhook for it.
func (h *harness) push(branch string, files map[string]string) string {
	h.t.Helper()
	sha, body := h.pushBody(branch, files)
	if code, text := h.send("push", githubtest.NewDeliveryID(), body); code != http.StatusAccepted {
		h.t.Fatalf("push webhook: %d %s", code, text)
	}
	return sha
}

// pushBody commits files to a branch and returns the push payload for it.
func (h *harness) pushBody(branch string, files map[string]string) (string, []byte) {
	h.t.Helper()
	before := h.repo.Head(branch)
	sha := h.repo.Commit(branch, files, "change")
	var changed []any
	for f := range files {
		changed = append(changed, f)
	}
	body := h.repo.Webhook("push", func(p map[string]any) {
		githubtest.SetPath(p, "ref", "refs/heads/"+branch)
		githubtest.SetPath(p, "before", before)
		githubtest.SetPath(p, "after", sha)
		githubtest.SetPath(p, "created", before == "")
		githubtest.SetPath(p, "commits", []any{map[string]any{"id": sha, "added": []any{}, "modified": changed, "removed": []any{}}})
	})
	return sha, body
}

// waitFirstCheck waits for the first check run on sha and returns when
// the fake GitHub created it.
func (h *harness) waitFirstCheck(sha string) time.Time {
	h.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var first time.Time
		for _, c := range h.gh.CheckRuns("acme", "web") {
			if c.HeadSHA == sha && (first.IsZero() || c.CreatedAt.Before(first)) {
				first = c.CreatedAt
			}
		}
		if !first.IsZero() {
			return first
		}
		time.Sleep(time.Millisecond)
	}
	h.t.Fatalf("no check run on %s", sha)
	return time.Time{}
}

func mustJSON(t testing.TB, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// waitChecks waits until the summary check of sha is completed and
// returns the latest check run of each name.
func (h *harness) waitChecks(sha string, timeout time.Duration) map[string]githubtest.CheckRun {
	h.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		latest := h.checks(sha)
		if s, ok := latest["stagegate"]; ok && s.Status == "completed" {
			// The run is recorded finished just after its checks are
			// concluded; commands and counters go by the record.
			waitFor(h.t, func() bool {
				return h.app.RunsForSHA(context.Background(), "acme/web", sha) == 0 || h.runFinished(sha)
			})
			return h.checks(sha)
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("no completed stagegate check on %s after %v; checks: %s", sha, timeout, describeChecks(latest))
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// checks returns the latest check run of each name on sha.
func (h *harness) checks(sha string) map[string]githubtest.CheckRun {
	latest := map[string]githubtest.CheckRun{}
	for _, c := range h.gh.CheckRuns("acme", "web") {
		if c.HeadSHA == sha {
			if prev, ok := latest[c.Name]; !ok || c.ID > prev.ID {
				latest[c.Name] = c
			}
		}
	}
	return latest
}

func describeChecks(cs map[string]githubtest.CheckRun) string {
	var b strings.Builder
	for name, c := range cs {
		fmt.Fprintf(&b, "\n  %s: %s/%s %q", name, c.Status, c.Conclusion, outputSummary(c))
	}
	return b.String()
}

func outputSummary(c githubtest.CheckRun) string { return c.Output.Summary }

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// sendAndWait delivers a webhook and waits until the app has processed
// it, returning the delivery's recorded result.
func (h *harness) sendAndWait(event string, body []byte) string {
	h.t.Helper()
	guid := githubtest.NewDeliveryID()
	if code, text := h.send(event, guid, body); code != http.StatusAccepted {
		h.t.Fatalf("%s webhook: %d %s", event, code, text)
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if result, done := h.app.DeliveryResult(context.Background(), guid); done {
			return result
		}
		time.Sleep(5 * time.Millisecond)
	}
	h.t.Fatalf("delivery %s was not processed", guid)
	return ""
}

func writeFile(t testing.TB, path string) {
	t.Helper()
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

func (h *harness) runFinished(sha string) bool {
	return h.app.RunFinished(context.Background(), "acme/web", sha)
}

// waitFor polls cond until it holds, for up to 20 seconds.
func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

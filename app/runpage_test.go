package app_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/stagegate/stagegate/app/setup"
	"github.com/stagegate/stagegate/checks"
	"github.com/stagegate/stagegate/internal/githubtest"
)

// runPagePipeline builds, waits in build/wait for a file named go in the
// workspace (the test writes it), fails in test, and never reaches
// release.
const runPagePipeline = `stages:
  - name: build
    actions:
      - name: compile
        run: 'printf "\033[32mcompiled\033[0m <b>ok</b>\n"'
      - name: wait
        run: 'echo "waiting for go"; while [ ! -e go ]; do sleep 0.05; done; echo "the line after go"'
  - name: test
    actions:
      - name: unit
        run: 'printf "\033[31mFAIL\033[0m TestThing <script>alert(1)</script>\n"; exit 1'
  - name: release
    actions:
      - name: publish
        run: echo never
`

// runPageHarness is a harness whose App has a public URL, so that its
// checks link to its pages.
func runPageHarness(t *testing.T, private bool) *harness {
	t.Helper()
	h := buildHarness(t, map[string]string{".stagegate.yml": runPagePipeline}, 0, nil)
	h.cfg.PublicURL = "https://stagegate.example/"
	h.gh.SetPrivate("acme", "web", private)
	h.start()
	return h
}

// pagePath waits for the run's summary check and returns the path of the
// page its details_url names.
func (h *harness) pagePath(sha string) string {
	h.t.Helper()
	var details string
	waitFor(h.t, func() bool {
		c, ok := h.checks(sha)["stagegate"]
		details = c.DetailsURL
		return ok && details != ""
	})
	u, err := url.Parse(details)
	if err != nil || u.Host != "stagegate.example" {
		h.t.Fatalf("details_url %q is not on the public URL", details)
	}
	return u.Path
}

// workspaceOf is the run's workspace, where the test puts the file the
// wait action waits for.
func (h *harness) workspaceOf(runID string) string {
	return filepath.Join(h.cfg.DataDir, "trusted", "workspaces", runID)
}

func letGo(t testing.TB, h *harness, runID string) {
	t.Helper()
	ws := h.workspaceOf(runID)
	waitFor(t, func() bool { _, err := os.Stat(ws); return err == nil })
	if err := os.WriteFile(filepath.Join(ws, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRunPageLinkedFromChecks: a push to a public repository gets checks
// whose details_url is the run's page, and that page shows the run.
// A private repository's checks keep GitHub's own page while nobody can
// sign in to see stagegate's, and its run page is not found.
func TestRunPageLinkedFromChecks(t *testing.T) {
	for _, private := range []bool{false, true} {
		t.Run(map[bool]string{false: "public", true: "private"}[private], func(t *testing.T) {
			h := runPageHarness(t, private)
			sha := h.push("main", map[string]string{"a": "1"})
			if private {
				cs := h.checks(sha)
				waitFor(t, func() bool { cs = h.checks(sha); _, ok := cs["stagegate"]; return ok })
				if d := cs["stagegate"].DetailsURL; d != "" {
					t.Fatalf("a private repository's check links to %q, which nobody can sign in to see", d)
				}
				letGo(t, h, runIDOf(t, h, sha))
				h.waitChecks(sha, time.Minute)
				resp, err := http.Get(h.srv.URL + "/acme/web/runs/" + runIDOf(t, h, sha))
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusNotFound {
					t.Errorf("private run page: %d, want 404", resp.StatusCode)
				}
				return
			}
			path := h.pagePath(sha)
			runID := path[strings.LastIndex(path, "/")+1:]
			letGo(t, h, runID)
			h.waitChecks(sha, time.Minute)
			for _, c := range h.checks(sha) {
				if !strings.HasPrefix(c.DetailsURL, "https://stagegate.example/acme/web/runs/"+runID) {
					t.Errorf("check %s links to %q", c.Name, c.DetailsURL)
				}
			}
			resp, err := http.Get(h.srv.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "TestThing") ||
				strings.Contains(string(body), "<script>alert") {
				t.Errorf("run page: %d\n%s", resp.StatusCode, body)
			}
		})
	}
}

// runIDOf is the id of the run of sha, from its summary check's external
// id.
func runIDOf(t testing.TB, h *harness, sha string) string {
	t.Helper()
	var id string
	waitFor(t, func() bool {
		id, _ = checks.ParseExternalID(h.checks(sha)["stagegate"].ExternalID)
		return id != ""
	})
	return id
}

// TestRunPageInABrowser opens a push's run page in headless Chromium while
// the run goes: a line the running action prints shows up on the page,
// the stages end in the right states without a reload, and screenshots
// of the run page, a failed log and the repository page are kept.
func TestRunPageInABrowser(t *testing.T) {
	exe := chromium(t)
	h := runPageHarness(t, false)
	sha := h.push("main", map[string]string{"a": "1"})
	path := h.pagePath(sha)
	runID := path[strings.LastIndex(path, "/")+1:]
	page := h.srv.URL + path

	ctx := newBrowser(t, exe, 3*time.Minute)
	// The wait action's log, followed live.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(page+"?stage=build&action=wait"),
		chromedp.WaitVisible(chromedp.CSS(`#lines`)),
	); err != nil {
		t.Fatalf("open the run page: %v", err)
	}
	waitText(t, ctx, "#lines", "waiting for go", 30*time.Second)
	stageWords := func() string {
		t.Helper()
		states, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("li.stage")).map(
			s => s.querySelector("strong").textContent + "=" + s.querySelector(".word").textContent)`))
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(states, " ")
	}
	if got, want := stageWords(), "build=running test=queued release=queued"; got != want {
		t.Errorf("while build runs, stages show %q, want %q", got, want)
	}
	letGo(t, h, runID)
	start := time.Now()
	waitText(t, ctx, "#lines", "the line after go", 30*time.Second)
	t.Logf("a line printed after the page opened showed in %v", time.Since(start))

	// The run fails in test; the page says so without a reload.
	waitText(t, ctx, "h1", "failed", time.Minute)
	if got, want := stageWords(), "build=succeeded test=failed release=skipped"; got != want {
		t.Errorf("stages show %q, want %q", got, want)
	}
	out := screenshotDir(t)
	shoot(t, ctx, filepath.Join(out, "run-page.png"))

	// The failed log: colours as spans, the hostile text as text.
	if err := chromedp.Do(ctx, chromedp.Navigate(page+"?stage=test&action=unit"), chromedp.WaitVisible(chromedp.CSS(`#L1`))); err != nil {
		t.Fatal(err)
	}
	red, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(`#L1 .f2`)))
	if err != nil {
		t.Fatal(err)
	}
	text, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(`#L1 .t`)))
	if err != nil {
		t.Fatal(err)
	}
	if red != "FAIL" || !strings.Contains(text, "<script>alert(1)</script>") {
		t.Errorf("failed log line: red %q, text %q", red, text)
	}
	shoot(t, ctx, filepath.Join(out, "failed-log.png"))

	if err := chromedp.Do(ctx, chromedp.Navigate(h.srv.URL+"/acme/web"), chromedp.WaitVisible(chromedp.CSS(`#recent-h`))); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "main", "main", 5*time.Second)
	shoot(t, ctx, filepath.Join(out, "repository-page.png"))
}

// waitText waits until the element's text contains want.
func waitText(t *testing.T, ctx context.Context, sel, want string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	var text string
	for time.Now().Before(deadline) {
		var err error
		if text, err = chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(sel))); err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		if strings.Contains(text, want) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s never showed %q within %v; it shows:\n%s", sel, want, within, text)
}

// screenshotDir is where the screenshots go: $STAGEGATE_SCREENSHOTS, as
// for the setup page, which CI collects; otherwise a directory that
// outlives the test, named in the log.
func screenshotDir(t *testing.T) string {
	if dir := os.Getenv("STAGEGATE_SCREENSHOTS"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	dir, err := os.MkdirTemp("", "stagegate-screenshots-")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", dir)
	return dir
}

func shoot(t *testing.T, ctx context.Context, path string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRunPageHiddenOnceRepositoryGoesPrivate: a public repository made
// private must not keep public pages until its next push. The App
// subscribes to the repository event, and its privatized delivery puts
// the pages behind sign-in at once.
func TestRunPageHiddenOnceRepositoryGoesPrivate(t *testing.T) {
	if !slices.Contains(setup.AppEvents, "repository") {
		t.Fatal("the App does not subscribe to the repository event: a repository made private keeps public pages")
	}
	h := runPageHarness(t, false)
	sha := h.push("main", map[string]string{"a": "1"})
	path := h.pagePath(sha)
	letGo(t, h, path[strings.LastIndex(path, "/")+1:])
	h.waitChecks(sha, time.Minute)
	status := func() int {
		resp, err := http.Get(h.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := status(); got != http.StatusOK {
		t.Fatalf("public run page: %d", got)
	}
	h.gh.SetPrivate("acme", "web", true)
	if code, text := h.send("repository", githubtest.NewDeliveryID(), h.repo.Webhook("repository.privatized", nil)); code != http.StatusAccepted {
		t.Fatalf("repository webhook: %d %s", code, text)
	}
	waitFor(t, func() bool { return status() == http.StatusNotFound })
}

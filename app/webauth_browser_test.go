package app_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestWebAuthBrowser: in a real browser, a private repository's run page
// sends a visitor to GitHub's authorize page; back from it, the page is
// shown to a reader and refused to a non-reader, and a writer's click on
// Deploy deploys the commit the page showed.
func TestWebAuthBrowser(t *testing.T) {
	exe := chromium(t)
	h, site := newSignInHarness(t, map[string]string{".stagegate.yml": manualDeploy})
	h.gh.SetPermission("acme", "web", "alice", "write")
	h.gh.SetPermission("acme", "web", "bob", "read")
	sha := h.openPR(8, "feature", "", map[string]string{"a": "1"})
	gate := h.waitCheck(sha, "stagegate/deploy", needsApproval)
	runPage, _, _ := strings.Cut(gate.DetailsURL, "?")
	if !strings.HasPrefix(runPage, site+"/") {
		t.Fatalf("the check links to %q", gate.DetailsURL)
	}

	// Nobody signed in on GitHub: the browser stops at its sign-in page,
	// which is the authorize URL of the App's client.
	h.gh.SignIn("")
	reader := newBrowser(t, exe, 90*time.Second)
	if err := chromedp.Do(reader, chromedp.Navigate(runPage), chromedp.WaitVisible(chromedp.ID("sign-in"))); err != nil {
		t.Fatalf("signed out: %v", err)
	}
	at := location(t, reader)
	if !strings.HasPrefix(at, h.gh.URL+"/login/oauth/authorize?") || !strings.Contains(at, "client_id="+h.gh.App().ClientID()) || !strings.Contains(at, "state=") {
		t.Fatalf("the run page sent the browser to %s", at)
	}
	// bob signs in on GitHub and opens the page again: after the callback
	// he reads it, and it has no Deploy button for him.
	h.gh.SignIn("bob")
	if err := chromedp.Do(reader, chromedp.Navigate(runPage), chromedp.WaitVisible(chromedp.ID("run"))); err != nil {
		t.Fatalf("the reader: %v", err)
	}
	heading, err := chromedp.Run(reader, chromedp.Text(chromedp.CSS("h1")))
	if err != nil {
		t.Fatal(err)
	}
	if at, n := location(t, reader), countDeployButtons(t, reader); at != runPage || !strings.Contains(heading, sha[:7]) || n != 0 {
		t.Fatalf("the reader is at %s, heading %q, %d Deploy buttons", at, heading, n)
	}
	saveScreenshot(t, reader, "webauth-reader-run-page.png")

	// mallory, who cannot read acme/web, gets a 404 after signing in.
	h.gh.SignIn("mallory")
	stranger := newBrowser(t, exe, 90*time.Second)
	if err := chromedp.Do(stranger, chromedp.Navigate(runPage), chromedp.WaitReady(chromedp.CSS("body"))); err != nil {
		t.Fatalf("the non-reader: %v", err)
	}
	text, err := chromedp.Run(stranger, chromedp.Text(chromedp.CSS("body")))
	if err != nil {
		t.Fatal(err)
	}
	if at := location(t, stranger); at != runPage || !strings.Contains(text, "404") || strings.Contains(text, sha[:7]) {
		t.Fatalf("the non-reader at %s sees %q", at, text)
	}

	// alice, a writer, clicks Deploy.
	h.gh.SignIn("alice")
	writer := newBrowser(t, exe, 90*time.Second)
	if err := chromedp.Do(writer, chromedp.Navigate(runPage), chromedp.WaitVisible(chromedp.ID("run"))); err != nil {
		t.Fatalf("the writer: %v", err)
	}
	if n := countDeployButtons(t, writer); n != 1 {
		t.Fatalf("the writer's page has %d Deploy buttons", n)
	}
	if d := h.deploymentStates(sha); len(d) != 0 {
		t.Fatalf("deployed before the click: %v", d)
	}
	if err := chromedp.Do(writer, chromedp.Click(chromedp.CSS(`form[action$="/deploy"] button`))); err != nil {
		t.Fatalf("click Deploy: %v", err)
	}
	if got := h.waitChecks(sha, 30*time.Second); got["stagegate/deploy"].Conclusion != "success" {
		t.Fatalf("after the click:%s", describeChecks(got))
	}
	if d := h.deploymentStates(sha); len(d) != 1 || d[0][len(d[0])-1] != "success" {
		t.Errorf("deployments = %v", d)
	}
}

func location(t *testing.T, ctx context.Context) string {
	t.Helper()
	at, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	return at
}

func countDeployButtons(t *testing.T, ctx context.Context) int {
	t.Helper()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('form[action$="/deploy"] button').length`))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// saveScreenshot keeps a screenshot among the test's outputs, in
// $STAGEGATE_TEST_OUTPUT when set, else the test's temporary directory.
func saveScreenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(90))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	dir := os.Getenv("STAGEGATE_TEST_OUTPUT")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

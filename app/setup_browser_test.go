package app_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium finds Chromium or Chrome. .ci/run installs Debian's Chromium
// and sets STAGEGATE_REQUIRE_BROWSER, so there the test must run;
// elsewhere it is skipped when no browser is found. (Not CI=true: every
// pipeline action has that, and this test runs in stagegate's own.)
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	if os.Getenv("STAGEGATE_REQUIRE_BROWSER") == "1" {
		t.Fatal("a Chromium or Chrome browser is required (.ci/run installs Debian's chromium)")
	}
	t.Skip("no Chromium or Chrome found on PATH (LookPath)")
	return ""
}

// newBrowser starts a headless Chromium with a profile of its own (no
// cookies shared with another browser of the test) and returns its
// context, ended with the test or after within.
func newBrowser(t *testing.T, exe string, within time.Duration) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1280, 900),
		chromedp.UserDataDir(t.TempDir()),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, within)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	return ctx
}

// TestSetupInABrowser clicks through the setup as a person does: a real
// headless Chromium opens /setup, says the App belongs to the
// organisation acme, clicks the button, goes through the (fake) GitHub,
// lands back on stagegate's page and follows its link to GitHub's page
// that installs the App on acme.
func TestSetupInABrowser(t *testing.T) {
	exe := chromium(t)
	s := startSetupServer(t)
	ctx := newBrowser(t, exe, 60*time.Second)

	err := chromedp.Do(ctx,
		chromedp.Navigate(s.url+"/setup?token="+setupToken),
		chromedp.WaitVisible(chromedp.ID("choose")),
		chromedp.Click(chromedp.ID("owner-org")),
		chromedp.SendKeys(chromedp.ID("org"), "acme"),
		chromedp.Click(chromedp.ID("choose")),
		chromedp.WaitVisible(chromedp.ID("create")),
		chromedp.Click(chromedp.ID("create")),
		chromedp.WaitVisible(chromedp.ID("done")),
	)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	heading, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("done")))
	if err != nil {
		t.Fatal(err)
	}
	link, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.ID("install"), "href"))
	if err != nil {
		t.Fatal(err)
	}
	install := link.Value
	screenshot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	created := s.gh.ManifestApps()
	if len(created) != 1 {
		t.Fatalf("%d apps created, want 1", len(created))
	}
	wantInstall := fmt.Sprintf("%s/apps/%s/installations/new/permissions?target_id=%d", s.gh.URL, created[0].App.Slug, s.gh.AccountID("acme"))
	if created[0].Owner != "acme" || !strings.Contains(heading, created[0].App.Slug) || install != wantInstall {
		t.Errorf("final page: owner %q, heading %q, install link %q, want %q", created[0].Owner, heading, install, wantInstall)
	}
	if _, err := os.Stat(filepath.Join(s.dataDir, "github-app.json")); err != nil {
		t.Errorf("credentials not stored: %v", err)
	}
	if dir := os.Getenv("STAGEGATE_SCREENSHOTS"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, "setup-done.png"), screenshot, 0o644)
	}
	waitReady(t, s.url)
	// The link opens GitHub's page that installs the App on acme.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("install")), chromedp.WaitVisible(chromedp.ID("install-on"))); err != nil {
		t.Fatalf("following the install link: %v", err)
	}
	on, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("install-on")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(on, " on acme") {
		t.Errorf("GitHub's install page says %q, want the App installed on acme", on)
	}
}

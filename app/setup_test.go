package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/stagegate/stagegate/app"
	"github.com/stagegate/stagegate/internal/githubtest"
)

const setupToken = "setup-token-from-the-log"

// setupServer is stagegate serve without App credentials: in setup mode.
type setupServer struct {
	gh      *githubtest.Server
	url     string
	dataDir string
	done    chan error
}

func startSetupServer(t *testing.T) *setupServer {
	t.Helper()
	gh := githubtest.New(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := &setupServer{gh: gh, url: "http://" + addr, dataDir: t.TempDir(), done: make(chan error, 1)}
	cfg := app.Config{
		Addr: addr, GitHubURL: gh.APIURL(), PublicURL: s.url, DataDir: s.dataDir,
		Database: "sqlite://" + filepath.Join(t.TempDir(), "stagegate.db"),
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		s.done <- app.Serve(ctx, cfg, app.Options{Logger: zerolog.New(zerolog.NewTestWriter(t)), ShutdownGrace: time.Second, SetupToken: setupToken})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-s.done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	waitHTTP(t, s.url+"/healthz")
	return s
}

func waitHTTP(t *testing.T, u string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(u); err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s never answered", u)
}

var (
	installLink   = regexp.MustCompile(`<a id="install" href="([^"]+)">`)
	formAction    = regexp.MustCompile(`<form method="post" action="([^"]+)">`)
	manifestField = regexp.MustCompile(`name="manifest" value="([^"]+)"`)
)

// browser is a client with cookies that shows each redirect instead of
// following it, as the steps of a person's browser.
func browser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestSetupCreatesTheAppAndServesWithoutRestart(t *testing.T) {
	s := startSetupServer(t)
	if resp, _ := get(t, http.DefaultClient, s.url+"/readyz"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/readyz in setup mode = %d, want 503", resp.StatusCode)
	}
	if resp, _ := get(t, http.DefaultClient, s.url+"/setup?org=acme"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("/setup without the token from the log = %d, want 403", resp.StatusCode)
	}
	b := browser(t)
	_, page := get(t, b, s.url+"/setup?owner=org&org=acme&token="+setupToken)
	action, manifest := formAction.FindStringSubmatch(page), manifestField.FindStringSubmatch(page)
	if action == nil || manifest == nil {
		t.Fatalf("setup page has no manifest form:\n%s", page)
	}
	to := html.UnescapeString(action[1])
	if !strings.HasPrefix(to, s.gh.URL+"/organizations/acme/settings/apps/new?state=") {
		t.Errorf("form posts to %s, want GitHub's page for the organisation", to)
	}

	// The browser posts the manifest; GitHub creates the App and sends
	// the browser back with a code.
	resp, err := b.PostForm(to, url.Values{"manifest": {html.UnescapeString(manifest[1])}})
	if err != nil {
		t.Fatal(err)
	}
	why, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	back := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(back, s.url+"/setup/callback?") {
		t.Fatalf("GitHub answered %d to %q:\n%s", resp.StatusCode, back, why)
	}
	created := s.gh.ManifestApps()
	if len(created) != 1 || created[0].Owner != "acme" {
		t.Fatalf("apps created: %+v", created)
	}
	perms, _ := json.Marshal(created[0].Manifest.DefaultPermissions)
	if got := string(perms); got != `{"actions":"read","checks":"write","contents":"read","deployments":"write","issues":"write","members":"read","metadata":"read","pull_requests":"read","statuses":"read"}` {
		t.Errorf("the manifest asked for %s", got)
	}
	// Another browser, without the state's cookie, cannot use the link.
	if resp, _ := get(t, browser(t), back); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("the callback in another browser = %d, want 400", resp.StatusCode)
	}
	resp, body := get(t, b, back)
	if resp.StatusCode != 200 || !strings.Contains(body, "install the App on your organisation acme") {
		t.Fatalf("callback: %d\n%s", resp.StatusCode, body)
	}
	// The last page links to the page that installs the App on the
	// organisation, which GitHub serves for the App's owner.
	install := installLink.FindStringSubmatch(body)
	if install == nil {
		t.Fatalf("no install link:\n%s", body)
	}
	wantInstall := fmt.Sprintf("%s/apps/%s/installations/new/permissions?target_id=%d", s.gh.URL, created[0].App.Slug, s.gh.AccountID("acme"))
	if got := html.UnescapeString(install[1]); got != wantInstall {
		t.Errorf("install link %s, want %s", got, wantInstall)
	}
	if resp, page := get(t, b, wantInstall); resp.StatusCode != 200 || !strings.Contains(page, "on acme") {
		t.Errorf("GitHub's install page: %d\n%s", resp.StatusCode, page)
	}
	// The credentials are stored for this user only.
	info, err := os.Stat(filepath.Join(s.dataDir, "github-app.json"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("stored credentials: %v %v, want mode 0600", info, err)
	}
	raw, _ := os.ReadFile(filepath.Join(s.dataDir, "github-app.json"))
	if !strings.Contains(string(raw), fmt.Sprintf(`"app_id": %d`, created[0].App.ID)) {
		t.Errorf("stored credentials lack the App id %d:\n%s", created[0].App.ID, raw)
	}
	// With the App's OAuth client, for signing in to the pages.
	if !strings.Contains(string(raw), `"client_id": "`+created[0].App.ClientID()+`"`) ||
		!strings.Contains(string(raw), `"client_secret": "`+created[0].App.ClientSecret()+`"`) {
		t.Errorf("stored credentials lack the OAuth client:\n%s", raw)
	}
	if got := created[0].Manifest.CallbackURLs; len(got) != 1 || got[0] != s.url+"/oauth/callback" {
		t.Errorf("the manifest's callback_urls = %v", got)
	}
	// The same process now serves webhooks signed with the new secret.
	waitReady(t, s.url)
	body = `{"zen":"Keep it logically awesome.","hook_id":1}`
	ping := githubtest.SendWebhook(t, s.url+"/webhook", created[0].App.WebhookSecret(), "ping", githubtest.NewDeliveryID(), []byte(body))
	ping.Body.Close()
	if ping.StatusCode != http.StatusOK {
		t.Errorf("ping signed with the new App's secret: %d", ping.StatusCode)
	}
	// A link back cannot be used twice.
	if resp, _ := get(t, b, back); resp.StatusCode == 200 {
		t.Errorf("the callback accepted a used state")
	}
}

// TestSetupAsksWhereTheAppBelongs: a private App installs only on the
// account that owns it, so the first page makes no App until the owner
// is chosen, and a personal account's App is created under the user's
// settings and installed there.
func TestSetupAsksWhereTheAppBelongs(t *testing.T) {
	s := startSetupServer(t)
	b := browser(t)
	_, page := get(t, b, s.url+"/setup?token="+setupToken)
	if formAction.MatchString(page) || !strings.Contains(page, `value="org"`) || !strings.Contains(page, `value="user"`) {
		t.Fatalf("the first page must ask for the owner before offering to create the App:\n%s", page)
	}
	for _, bad := range []string{"owner=org", "owner=org&org=-acme", "owner=org&org=" + url.QueryEscape("acme/../x"), "org=" + strings.Repeat("a", 40)} {
		resp, page := get(t, b, s.url+"/setup?token="+setupToken+"&"+bad)
		if resp.StatusCode != http.StatusBadRequest || formAction.MatchString(page) || !strings.Contains(page, `id="error"`) {
			t.Errorf("%s: %d, want 400 and the question again:\n%s", bad, resp.StatusCode, page)
		}
	}

	_, page = get(t, b, s.url+"/setup?token="+setupToken+"&owner=user&org=ignored")
	action, manifest := formAction.FindStringSubmatch(page), manifestField.FindStringSubmatch(page)
	if action == nil || manifest == nil {
		t.Fatalf("no manifest form for a personal account:\n%s", page)
	}
	to := html.UnescapeString(action[1])
	if !strings.HasPrefix(to, s.gh.URL+"/settings/apps/new?state=") {
		t.Fatalf("form posts to %s, want GitHub's page for the signed-in user", to)
	}
	resp, err := b.PostForm(to, url.Values{"manifest": {html.UnescapeString(manifest[1])}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	created := s.gh.ManifestApps()
	if len(created) != 1 || created[0].Owner != githubtest.ManifestUser || created[0].OwnerType != "User" {
		t.Fatalf("apps created: %+v", created)
	}
	resp, done := get(t, b, resp.Header.Get("Location"))
	install := installLink.FindStringSubmatch(done)
	if resp.StatusCode != 200 || install == nil || !strings.Contains(done, "your account "+githubtest.ManifestUser) {
		t.Fatalf("callback: %d\n%s", resp.StatusCode, done)
	}
	if got, want := html.UnescapeString(install[1]), s.gh.URL+"/apps/"+created[0].App.Slug+"/installations/new"; got != want {
		t.Errorf("install link %s, want %s", got, want)
	}
	if resp, page := get(t, b, html.UnescapeString(install[1])); resp.StatusCode != 200 || !strings.Contains(page, ">"+githubtest.ManifestUser+"<") {
		t.Errorf("GitHub's install page: %d\n%s", resp.StatusCode, page)
	}
	waitReady(t, s.url)
}

func TestSetupRefusesAForeignState(t *testing.T) {
	s := startSetupServer(t)
	resp, body := get(t, http.DefaultClient, s.url+"/setup/callback?code=abc&state=forged")
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Start again at /setup") {
		t.Errorf("forged state: %d %q", resp.StatusCode, body)
	}
	if _, err := os.Stat(filepath.Join(s.dataDir, "github-app.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("credentials stored after a forged callback: %v", err)
	}
}

func waitReady(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("never ready after setup")
}

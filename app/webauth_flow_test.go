package app_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/stagegate/stagegate/app"
)

// newSignInHarness is a harness whose App signs people in to its pages
// through the fake GitHub's OAuth flow: its public URL is where it
// serves, and that URL's /oauth/callback is the App's callback URL.
func newSignInHarness(t *testing.T, files map[string]string) (*harness, string) {
	t.Helper()
	h := buildHarness(t, files, zerolog.InfoLevel, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	site := "http://" + ln.Addr().String()
	h.cfg.PublicURL = site
	h.cfg.OAuthClientID = h.gh.App().ClientID()
	h.cfg.OAuthClientSecret = h.gh.App().GenerateClientSecret()
	h.gh.App().SetCallbackURLs(site + "/oauth/callback")
	h.start()
	srv := &http.Server{Handler: h.app.Handler(), ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	}()
	t.Cleanup(func() { srv.Close(); <-done })
	return h, site
}

// webClient is a browser without JavaScript: it keeps cookies and
// follows redirects, through the fake GitHub too.
type webClient struct {
	t *testing.T
	c *http.Client
}

func newWebClient(t *testing.T) *webClient {
	jar, _ := cookiejar.New(nil)
	return &webClient{t: t, c: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

func (b *webClient) do(req *http.Request) (int, string, *url.URL) {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	return resp.StatusCode, string(body), resp.Request.URL
}

func (b *webClient) get(u string) (int, string, *url.URL) {
	req, _ := http.NewRequest("GET", u, nil)
	return b.do(req)
}

func (b *webClient) post(u string, form url.Values) (int, string, *url.URL) {
	req, _ := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// signedIn is a client that has opened page as login, signing in on the
// way; it returns the client and the page's status and body.
func signedIn(t *testing.T, h *harness, login, page string) (*webClient, int, string) {
	t.Helper()
	h.gh.SignIn(login)
	b := newWebClient(t)
	status, body, at := b.get(page)
	if at.String() != page {
		t.Fatalf("%s signed in and ended at %s, not %s", login, at, page)
	}
	return b, status, body
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// TestWebAuthRunPageAndButtons: a private repository's run page is shown
// to its readers once they sign in with GitHub, and to nobody else; the
// Deploy button deploys for a writer and a reader cannot press it.
func TestWebAuthRunPageAndButtons(t *testing.T) {
	h, site := newSignInHarness(t, map[string]string{".stagegate.yml": manualDeploy})
	h.gh.SetPermission("acme", "web", "alice", "write")
	h.gh.SetPermission("acme", "web", "bob", "read")
	sha := h.openPR(8, "feature", "", map[string]string{"a": "1"})
	gate := h.waitCheck(sha, "stagegate/deploy", needsApproval)
	runPage, _, _ := strings.Cut(gate.DetailsURL, "?")
	if !strings.HasPrefix(runPage, site+"/acme/web/runs/") {
		t.Fatalf("the check links to %q, not to the run page on %s", gate.DetailsURL, site)
	}

	// Signed out: off to GitHub's authorize page, with a state.
	h.gh.SignIn("")
	status, body, at := newWebClient(t).get(runPage)
	if status != 200 || !strings.HasPrefix(at.String(), h.gh.URL+"/login/oauth/authorize?") || at.Query().Get("state") == "" || !strings.Contains(body, `id="sign-in"`) {
		t.Fatalf("signed out, the run page led to %d %s", status, at)
	}
	// Not a reader: not found, as if there were no such repository.
	if _, status, _ := signedIn(t, h, "mallory", runPage); status != 404 {
		t.Fatalf("a non-reader got %d", status)
	}
	// A reader sees the page, without a Deploy button, and cannot post one.
	reader, status, body := signedIn(t, h, "bob", runPage)
	if status != 200 || !strings.Contains(body, "production") || strings.Contains(body, "Deploy to production") {
		t.Fatalf("the reader's page: %d\n%s", status, body)
	}
	// The page has no form for a reader, so no token: a forged post is
	// refused whatever it carries.
	if csrfField.MatchString(body) {
		t.Fatalf("the reader's page has a form:\n%s", body)
	}
	if status, _, _ := reader.post(runPage+"/deploy", url.Values{"csrf": {"forged"}, "environment": {"production"}}); status != 403 {
		t.Fatalf("a reader's Deploy: %d", status)
	}
	if d := h.deploymentStates(sha); len(d) != 0 {
		t.Fatalf("a reader deployed: %v", d)
	}

	// A writer sees the button; without the CSRF token it does nothing,
	// with it the commit the page showed is deployed.
	writer, status, body := signedIn(t, h, "alice", runPage)
	if status != 200 || !strings.Contains(body, "Deploy to production") {
		t.Fatalf("the writer's page: %d\n%s", status, body)
	}
	if status, _, _ := writer.post(runPage+"/deploy", url.Values{"environment": {"production"}}); status != 403 {
		t.Fatalf("Deploy without the CSRF token: %d", status)
	}
	if d := h.deploymentStates(sha); len(d) != 0 {
		t.Fatalf("deployed without the CSRF token: %v", d)
	}
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token on the writer's page")
	}
	if status, _, at := writer.post(runPage+"/deploy", url.Values{"csrf": {m[1]}, "environment": {"production"}}); status != 200 || at.Path != strings.TrimPrefix(runPage, site) {
		t.Fatalf("Deploy: %d, back at %s", status, at)
	}
	if got := h.waitChecks(sha, 20*time.Second); got["stagegate/deploy"].Conclusion != "success" {
		t.Fatalf("after the Deploy button:%s", describeChecks(got))
	}
	if d := h.deploymentStates(sha); len(d) != 1 || d[0][len(d[0])-1] != "success" {
		t.Errorf("deployments = %v", d)
	}
}

// TestWebAuthButtonsFollowTheCommandRules: the buttons refuse what the
// comment commands refuse, with the same words: a run that is still
// going cannot be re-run, a finished one cannot be cancelled, an
// environment the pipeline does not deploy to is named as such.
func TestWebAuthButtonsFollowTheCommandRules(t *testing.T) {
	h, _ := newSignInHarness(t, map[string]string{".stagegate.yml": manualDeploy})
	h.gh.SetPermission("acme", "web", "alice", "write")
	sha := h.openPR(9, "feature", "", map[string]string{"a": "1"})
	gate := h.waitCheck(sha, "stagegate/deploy", needsApproval)
	runPage, _, _ := strings.Cut(gate.DetailsURL, "?")
	writer, status, body := signedIn(t, h, "alice", runPage)
	m := csrfField.FindStringSubmatch(body)
	if status != 200 || m == nil {
		t.Fatalf("the writer's page: %d", status)
	}
	csrf := m[1]
	for _, tc := range []struct {
		button string
		form   url.Values
		want   string
	}{
		{"rerun", url.Values{}, "is still going"},
		{"deploy", url.Values{"environment": {"staging"}}, `no stage deploys to &#34;staging&#34;`},
	} {
		tc.form.Set("csrf", csrf)
		status, body, _ := writer.post(runPage+"/"+tc.button, tc.form)
		if status != http.StatusConflict || !strings.Contains(body, tc.want) {
			t.Errorf("%s: %d, want 409 saying %q\n%s", tc.button, status, tc.want, body)
		}
	}
	// A run of another repository is no run of this one.
	other := strings.Replace(runPage, "/acme/web/", "/acme/other/", 1)
	if status, _, _ := writer.post(other+"/cancel", url.Values{"csrf": {csrf}}); status != 404 {
		t.Errorf("cancel through another repository's path: %d", status)
	}
	// Cancel stops the run waiting at the gate.
	if status, _, _ := writer.post(runPage+"/cancel", url.Values{"csrf": {csrf}}); status != 200 {
		t.Fatalf("cancel: %d", status)
	}
	got := h.waitChecks(sha, 20*time.Second)
	if c := got["stagegate/deploy"]; c.Status != "completed" || c.Conclusion == "success" {
		t.Fatalf("after Cancel:%s", describeChecks(got))
	}
	if status, body, _ := writer.post(runPage+"/cancel", url.Values{"csrf": {csrf}}); status != http.StatusConflict || !strings.Contains(body, "is not going") {
		t.Errorf("cancel of a finished run: %d\n%s", status, body)
	}
}

// TestWebAuthSettings: sign-in that cannot work stops start-up with the
// setting to fix.
func TestWebAuthSettings(t *testing.T) {
	h := buildHarness(t, map[string]string{".stagegate.yml": manualDeploy}, zerolog.InfoLevel, nil)
	for _, tc := range []struct {
		name string
		edit func(*app.Config)
		want string
	}{
		{"http public URL", func(c *app.Config) {
			c.PublicURL, c.OAuthClientID, c.OAuthClientSecret = "http://ci.example.com", "Iv1.0000000000000001", "s"
		}, "--public-url (STAGEGATE_PUBLIC_URL) cannot serve sign-in to the pages"},
		{"no public URL", func(c *app.Config) { c.OAuthClientID, c.OAuthClientSecret = "Iv1.0000000000000001", "s" }, "--public-url (STAGEGATE_PUBLIC_URL) is needed"},
		{"id without secret", func(c *app.Config) { c.PublicURL, c.OAuthClientID = "https://ci.example.com", "Iv1.0000000000000001" }, "--oauth-client-secret (STAGEGATE_OAUTH_CLIENT_SECRET)"},
		{"short session key", func(c *app.Config) {
			c.PublicURL, c.OAuthClientID, c.OAuthClientSecret, c.SessionKey = "https://ci.example.com", "Iv1.0000000000000001", "s", []byte("short")
		}, "the session key has 5 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := h.cfg
			cfg.Database = "sqlite://" + t.TempDir() + "/db"
			tc.edit(&cfg)
			a, err := app.New(context.Background(), cfg, app.Options{Logger: zerolog.Nop()})
			var setting *app.SettingError
			if err == nil {
				a.Stop(context.Background())
				t.Fatal("the App started")
			}
			if !strings.Contains(err.Error(), tc.want) || (strings.HasPrefix(tc.want, "--") && !errors.As(err, &setting)) {
				t.Fatalf("error %v, want a setting error with %q", err, tc.want)
			}
		})
	}
}

package webauth_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stagegate/stagegate/app/webauth"
	"github.com/stagegate/stagegate/internal/githubtest"
)

// clock is a test clock that moves only when told.
type clock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

// env is a fake GitHub with acme/widgets (private, the App installed,
// alice reads it, wendy writes) and acme/bobs (private, only bob), and a
// stagegate site whose pages follow the contract: /r/{owner}/{repo}
// needs a signed-in user who can read the repository (404 otherwise),
// and POST /r/{owner}/{repo}/act needs the CSRF token.
type env struct {
	gh     *githubtest.Server
	auth   *webauth.Authenticator
	site   *httptest.Server
	clock  *clock
	secret string
	cfg    webauth.Config
}

func newEnv(t *testing.T, edit ...func(*webauth.Config)) *env {
	t.Helper()
	gh := githubtest.New(t)
	gh.AddRepo("acme", "widgets")
	gh.AddRepo("acme", "bobs")
	gh.AddInstallation("acme")
	gh.SetPermission("acme", "widgets", "alice", "read")
	gh.SetPermission("acme", "widgets", "wendy", "write")
	gh.SetPermission("acme", "bobs", "bob", "admin")
	e := &env{gh: gh, clock: &clock{}, secret: gh.App().GenerateClientSecret()}

	var handler http.Handler = http.NotFoundHandler()
	var mu sync.Mutex
	e.site = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		h := handler
		mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(e.site.Close)
	gh.App().SetCallbackURLs(e.site.URL+webauth.CallbackPath, "https://other.example/oauth/callback")

	key, err := webauth.ParseKey(strings.Repeat("ab", 32))
	if err != nil {
		t.Fatal(err)
	}
	cfg := webauth.Config{
		ClientID: gh.App().ClientID(), ClientSecret: e.secret,
		WebURL: gh.URL, APIURL: gh.APIURL(), PublicURL: e.site.URL,
		SessionKey: key, Now: e.clock.Now,
	}
	for _, f := range edit {
		f(&cfg)
	}
	e.cfg = cfg
	e.auth, err = webauth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	e.auth.Routes(mux)
	mux.HandleFunc("GET /r/{owner}/{repo}", func(w http.ResponseWriter, r *http.Request) {
		login, ok := e.auth.CurrentLogin(r)
		if !ok {
			e.auth.LoginRedirect(w, r)
			return
		}
		perm, err := e.auth.Permission(r.Context(), r, r.PathValue("owner"), r.PathValue("repo"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		if perm == "" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, "login="+login+" perm="+perm+" csrf="+e.auth.CSRFToken(r))
	})
	mux.HandleFunc("POST /r/{owner}/{repo}/act", func(w http.ResponseWriter, r *http.Request) {
		if !e.auth.VerifyCSRF(r) {
			http.Error(w, "csrf", http.StatusForbidden)
			return
		}
		io.WriteString(w, "done")
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "home") })
	mu.Lock()
	handler = e.auth.Handler(mux)
	mu.Unlock()
	return e
}

// advance moves both clocks: GitHub's and stagegate's.
func (e *env) advance(d time.Duration) {
	e.gh.Advance(d)
	e.clock.mu.Lock()
	e.clock.off += d
	e.clock.mu.Unlock()
}

// browser is a cookie-keeping HTTP client.
type browser struct {
	t *testing.T
	c *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, c: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

// noRedirects makes the browser stop at the first redirect.
func (b *browser) noRedirects() *browser {
	c := *b.c
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &browser{t: b.t, c: &c}
}

type page struct {
	status int
	url    *url.URL
	body   string
	header http.Header
}

func (b *browser) get(u string) page {
	b.t.Helper()
	resp, err := b.c.Get(u)
	if err != nil {
		b.t.Fatal(err)
	}
	return read(b.t, resp)
}

func (b *browser) post(u string, form url.Values, hdr map[string]string) page {
	b.t.Helper()
	req, _ := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	return read(b.t, resp)
}

func read(t *testing.T, resp *http.Response) page {
	t.Helper()
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	return page{status: resp.StatusCode, url: resp.Request.URL, body: string(body), header: resp.Header}
}

// signIn signs login in through the whole flow and returns the browser.
func (e *env) signIn(t *testing.T, login string) *browser {
	t.Helper()
	e.gh.SignIn(login)
	b := newBrowser(t)
	p := b.get(e.site.URL + "/login?next=/")
	if p.status != 200 || p.body != "home" {
		t.Fatalf("sign in as %s: %d %s %s", login, p.status, p.url, p.body)
	}
	return b
}

// cookie is the browser's cookie named name for the site.
func (e *env) cookie(b *browser, name string) *http.Cookie {
	u, _ := url.Parse(e.site.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func (e *env) setCookie(b *browser, name, value string) {
	u, _ := url.Parse(e.site.URL)
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

// csrfOf reads the token the page embeds.
func csrfOf(t *testing.T, p page) string {
	t.Helper()
	_, tok, ok := strings.Cut(p.body, "csrf=")
	if !ok || tok == "" {
		t.Fatalf("no csrf token on %q", p.body)
	}
	return tok
}

package webauth_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stagegate/stagegate/app/webauth"
)

// TestSignInReadsWithTheUsersToken: a private repository's page sends
// the browser to GitHub's authorize page; after the callback it is shown
// with the user's permission as GitHub gives it to the user's token.
func TestSignInReadsWithTheUsersToken(t *testing.T) {
	e := newEnv(t)
	e.gh.SignIn("alice")
	b := newBrowser(t)
	first := b.noRedirects().get(e.site.URL + "/r/acme/widgets?tab=logs")
	if first.status != http.StatusSeeOther || first.header.Get("Location") != "/login?next="+url.QueryEscape("/r/acme/widgets?tab=logs") {
		t.Fatalf("signed out: %d %q", first.status, first.header.Get("Location"))
	}
	login := b.noRedirects().get(e.site.URL + first.header.Get("Location"))
	to, _ := url.Parse(login.header.Get("Location"))
	if !strings.HasPrefix(to.String(), e.gh.URL+"/login/oauth/authorize?") || to.Query().Get("client_id") != e.gh.App().ClientID() ||
		to.Query().Get("redirect_uri") != e.auth.CallbackURL() || len(to.Query().Get("state")) < 40 {
		t.Fatalf("login sent the browser to %s", to)
	}
	p := b.get(to.String())
	if p.status != 200 || p.url.Path != "/r/acme/widgets" || p.url.RawQuery != "tab=logs" || !strings.HasPrefix(p.body, "login=alice perm=read csrf=") {
		t.Fatalf("after the callback: %d %s %q", p.status, p.url, p.body)
	}
	// The session cookie: HttpOnly, SameSite=Lax, sealed (the token is
	// nowhere in it).
	c := e.cookie(b, "stagegate_session")
	if c == nil {
		t.Fatal("no session cookie")
	}
	for _, tok := range e.gh.UserTokens("alice") {
		if strings.Contains(c.Value, tok) {
			t.Fatal("the user's token is readable in the cookie")
		}
	}
	if calls := e.gh.CallsTo("GET /user"); len(calls) != 1 || calls[0].Cred != "user_token" {
		t.Fatalf("GET /user calls %+v", calls)
	}

	// A writer sees write; a user who cannot read gets a 404.
	if p := e.signIn(t, "wendy").get(e.site.URL + "/r/acme/widgets"); !strings.HasPrefix(p.body, "login=wendy perm=write") {
		t.Fatalf("writer: %q", p.body)
	}
	if p := e.signIn(t, "mallory").get(e.site.URL + "/r/acme/widgets"); p.status != 404 {
		t.Fatalf("non-reader: %d %q", p.status, p.body)
	}
	// Alice's session does not read bob's private repository.
	if p := b.get(e.site.URL + "/r/acme/bobs"); p.status != 404 {
		t.Fatalf("alice on bob's repository: %d %q", p.status, p.body)
	}
}

func TestCookieFlags(t *testing.T) {
	e := newEnv(t)
	e.gh.SignIn("alice")
	b := newBrowser(t).noRedirects()
	login := b.get(e.site.URL + "/login")
	to := login.header.Get("Location")
	back := b.get(to) // GitHub's redirect to the callback
	cb := b.get(back.header.Get("Location"))
	var sawSession bool
	for _, raw := range cb.header.Values("Set-Cookie") {
		if strings.HasPrefix(raw, "stagegate_session=") {
			sawSession = true
			for _, want := range []string{"HttpOnly", "SameSite=Lax", "Path=/", "Max-Age="} {
				if !strings.Contains(raw, want) {
					t.Errorf("session cookie %q lacks %s", raw, want)
				}
			}
		}
	}
	if !sawSession || cb.status != http.StatusSeeOther {
		t.Fatalf("callback: %d %v", cb.status, cb.header)
	}

	// With an https public URL the cookies are Secure and __Host-.
	e2 := newEnv(t, func(c *webauth.Config) { c.PublicURL = "https://ci.example.com" })
	rec := httptest.NewRecorder()
	mux := http.NewServeMux()
	e2.auth.Routes(mux)
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "https://ci.example.com/login", nil))
	sc := rec.Header().Get("Set-Cookie")
	if !strings.HasPrefix(sc, "__Host-stagegate_login=") || !strings.Contains(sc, "Secure") || !strings.Contains(sc, "HttpOnly") {
		t.Fatalf("https login cookie %q", sc)
	}
	// A plain http public URL is refused unless it is loopback.
	_, err := webauth.New(webauth.Config{ClientID: "x", ClientSecret: "y", PublicURL: "http://ci.example.com", SessionKey: make([]byte, 32)})
	if err == nil || !strings.Contains(err.Error(), "https") {
		t.Fatalf("http public URL: %v", err)
	}
}

// TestCallbackAttacks: the callback takes only the state this browser
// left with, and codes GitHub gives for it, once.
func TestCallbackAttacks(t *testing.T) {
	e := newEnv(t)
	e.gh.SignIn("alice")
	cb := e.site.URL + webauth.CallbackPath

	// startLogin: the browser's authorize URL (its state cookie is set).
	startLogin := func(b *browser) *url.URL {
		p := b.noRedirects().get(e.site.URL + "/login")
		u, _ := url.Parse(p.header.Get("Location"))
		return u
	}
	// codeFrom: what GitHub sends back for an authorize URL.
	codeFrom := func(authorize *url.URL) *url.URL {
		p := newBrowser(t).noRedirects().get(authorize.String())
		u, _ := url.Parse(p.header.Get("Location"))
		return u
	}
	signedIn := func(b *browser) bool {
		p := b.noRedirects().get(e.site.URL + "/r/acme/widgets")
		return p.status == 200 && strings.HasPrefix(p.body, "login=")
	}

	t.Run("forged state", func(t *testing.T) {
		b := newBrowser(t)
		back := codeFrom(startLogin(b))
		p := b.get(cb + "?code=" + back.Query().Get("code") + "&state=forged")
		if p.status != 400 || signedIn(b) {
			t.Fatalf("forged state: %d %q", p.status, p.body)
		}
	})
	t.Run("missing state", func(t *testing.T) {
		b := newBrowser(t)
		back := codeFrom(startLogin(b))
		if p := b.get(cb + "?code=" + back.Query().Get("code")); p.status != 400 || signedIn(b) {
			t.Fatalf("missing state: %d", p.status)
		}
	})
	t.Run("another browser's callback (login CSRF)", func(t *testing.T) {
		attacker := newBrowser(t)
		back := codeFrom(startLogin(attacker))
		victim := newBrowser(t)
		if p := victim.get(back.String()); p.status != 400 || signedIn(victim) {
			t.Fatalf("victim signed in as the attacker: %d", p.status)
		}
	})
	t.Run("replayed code", func(t *testing.T) {
		b := newBrowser(t)
		back := codeFrom(startLogin(b))
		if p := b.get(back.String()); !strings.HasPrefix(p.body, "home") {
			t.Fatalf("first use: %d %q", p.status, p.body)
		}
		// The same callback again: its state is spent.
		if p := b.get(back.String()); p.status != 400 {
			t.Fatalf("replayed callback: %d", p.status)
		}
		// The old code with a fresh state: GitHub refuses the code.
		b2 := newBrowser(t)
		state := startLogin(b2).Query().Get("state")
		p := b2.get(cb + "?code=" + back.Query().Get("code") + "&state=" + state)
		if p.status != http.StatusBadGateway || !strings.Contains(p.body, "bad_verification_code") || signedIn(b2) {
			t.Fatalf("replayed code: %d %q", p.status, p.body)
		}
	})
	t.Run("code for another redirect_uri", func(t *testing.T) {
		b := newBrowser(t)
		authorize := startLogin(b)
		q := authorize.Query()
		q.Set("redirect_uri", "https://other.example/oauth/callback")
		other := *authorize
		other.RawQuery = q.Encode()
		back := codeFrom(&other)
		if back.Host != "other.example" {
			t.Fatalf("GitHub sent the code to %s", back)
		}
		p := b.get(cb + "?code=" + back.Query().Get("code") + "&state=" + q.Get("state"))
		if p.status != http.StatusBadGateway || !strings.Contains(p.body, "redirect_uri_mismatch") || signedIn(b) {
			t.Fatalf("other redirect_uri: %d %q", p.status, p.body)
		}
	})
	t.Run("stolen code (PKCE)", func(t *testing.T) {
		// alice's way back from GitHub leaks (a proxy log, a Referer);
		// mallory starts her own sign-in and hands alice's code to the
		// callback with her own state. Only alice's verifier fits it.
		victim := newBrowser(t)
		leaked := codeFrom(startLogin(victim))
		mallory := newBrowser(t)
		state := startLogin(mallory).Query().Get("state")
		p := mallory.get(cb + "?code=" + leaked.Query().Get("code") + "&state=" + state)
		if p.status != http.StatusBadGateway || signedIn(mallory) {
			t.Fatalf("the stolen code signed mallory in as alice: %d %q", p.status, p.body)
		}
	})
	t.Run("user denied", func(t *testing.T) {
		b := newBrowser(t)
		state := startLogin(b).Query().Get("state")
		if p := b.get(cb + "?error=access_denied&state=" + state); p.status != 403 || signedIn(b) {
			t.Fatalf("denied: %d", p.status)
		}
	})
	t.Run("expired state", func(t *testing.T) {
		b := newBrowser(t)
		authorize := startLogin(b)
		back := codeFrom(authorize)
		e.clock.mu.Lock()
		e.clock.off += 11 * time.Minute
		e.clock.mu.Unlock()
		defer func() { e.clock.mu.Lock(); e.clock.off -= 11 * time.Minute; e.clock.mu.Unlock() }()
		if p := b.get(back.String()); p.status != 400 || signedIn(b) {
			t.Fatalf("expired: %d", p.status)
		}
	})
}

func TestOpenRedirect(t *testing.T) {
	e := newEnv(t)
	for _, next := range []string{"//evil.com", "https://evil.com", "/\\evil.com", "\\\\evil.com", "javascript:alert(1)",
		"///evil.com", "/\t/evil.com", "http:/evil.com", "//evil.com/%2F..", " /x"} {
		t.Run(next, func(t *testing.T) {
			e.gh.SignIn("alice")
			b := newBrowser(t)
			p := b.get(e.site.URL + "/login?next=" + url.QueryEscape(next))
			if p.url.Host != strings.TrimPrefix(e.site.URL, "http://") || p.url.Path != "/" || p.body != "home" {
				t.Fatalf("next=%q ended at %s", next, p.url)
			}
			// Signed in already: /login sends straight to next, as safely.
			p = b.noRedirects().get(e.site.URL + "/login?next=" + url.QueryEscape(next))
			if loc := p.header.Get("Location"); loc != "/" {
				t.Fatalf("signed in, next=%q: Location %q", next, loc)
			}
		})
	}
	// A path on this site is kept, query and all.
	e.gh.SignIn("alice")
	p := newBrowser(t).get(e.site.URL + "/login?next=" + url.QueryEscape("/r/acme/widgets?x=1"))
	if p.url.Path != "/r/acme/widgets" || p.url.RawQuery != "x=1" {
		t.Fatalf("kept next: %s", p.url)
	}
}

func TestTamperedCookies(t *testing.T) {
	e := newEnv(t)
	b := e.signIn(t, "alice")
	good := e.cookie(b, "stagegate_session").Value
	flip := []byte(good)
	flip[len(flip)/2] ^= 1
	// A session for bob with alice's token, sealed under another key.
	forged, err := webauth.SealSession([]byte(strings.Repeat("k", 32)), "bob", 1, e.gh.UserTokens("alice")[0], time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]string{
		"flipped byte": string(flip),
		"truncated":    good[:len(good)-4],
		"empty":        "",
		"oversized":    strings.Repeat("A", 5000),
		"not base64":   "!!!!",
		"another key":  forged,
	} {
		t.Run(name, func(t *testing.T) {
			e.setCookie(b, "stagegate_session", v)
			p := b.noRedirects().get(e.site.URL + "/r/acme/widgets")
			if p.status != http.StatusSeeOther {
				t.Fatalf("tampered session accepted: %d %q", p.status, p.body)
			}
		})
	}
	// A login-state cookie is sealed for another purpose: as a session it
	// does not open.
	lb := newBrowser(t)
	lb.noRedirects().get(e.site.URL + "/login")
	e.setCookie(b, "stagegate_session", e.cookie(lb, "stagegate_login").Value)
	if p := b.noRedirects().get(e.site.URL + "/r/acme/widgets"); p.status != http.StatusSeeOther {
		t.Fatalf("login cookie taken as a session: %d", p.status)
	}
	e.setCookie(b, "stagegate_session", good)
	if p := b.get(e.site.URL + "/r/acme/widgets"); !strings.HasPrefix(p.body, "login=alice") {
		t.Fatalf("the good cookie back: %q", p.body)
	}
}

func TestCSRF(t *testing.T) {
	e := newEnv(t)
	alice := e.signIn(t, "alice")
	tok := csrfOf(t, alice.get(e.site.URL+"/r/acme/widgets"))
	wendy := e.signIn(t, "wendy")
	wendyTok := csrfOf(t, wendy.get(e.site.URL+"/r/acme/widgets"))
	act := e.site.URL + "/r/acme/widgets/act"
	for _, tc := range []struct {
		name string
		b    *browser
		form url.Values
		hdr  map[string]string
		want int
	}{
		{"missing", alice, url.Values{}, nil, 403},
		{"wrong", alice, url.Values{"csrf": {"x" + tok[1:]}}, nil, 403},
		{"another session's", alice, url.Values{"csrf": {wendyTok}}, nil, 403},
		{"signed out", newBrowser(t), url.Values{"csrf": {tok}}, nil, 403},
		{"cross-site origin", alice, url.Values{"csrf": {tok}}, map[string]string{"Origin": "https://evil.com"}, 403},
		{"right", alice, url.Values{"csrf": {tok}}, map[string]string{"Origin": e.site.URL}, 200},
		{"right in header", alice, url.Values{}, map[string]string{"X-CSRF-Token": tok}, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if p := tc.b.post(act, tc.form, tc.hdr); p.status != tc.want {
				t.Fatalf("status %d, want %d (%q)", p.status, tc.want, p.body)
			}
		})
	}
	// Logout needs it too, and ends the session.
	if p := alice.post(e.site.URL+"/logout", url.Values{}, nil); p.status != 403 {
		t.Fatalf("logout without csrf: %d", p.status)
	}
	if p := alice.post(e.site.URL+"/logout", url.Values{"csrf": {tok}}, nil); !strings.Contains(p.body, `id="signed-out"`) {
		t.Fatalf("logout: %d %q", p.status, p.body)
	}
	if p := alice.noRedirects().get(e.site.URL + "/r/acme/widgets"); p.status != http.StatusSeeOther {
		t.Fatalf("after logout: %d", p.status)
	}
}

// TestPermissionCacheIsBounded: a revoked reader keeps access for at most
// PermissionTTL, and the cache holds at most CacheSize answers.
func TestPermissionCacheIsBounded(t *testing.T) {
	e := newEnv(t, func(c *webauth.Config) { c.PermissionTTL = time.Minute; c.CacheSize = 3 })
	b := e.signIn(t, "alice")
	if p := b.get(e.site.URL + "/r/acme/widgets"); p.status != 200 {
		t.Fatalf("reader: %d", p.status)
	}
	e.gh.SetPermission("acme", "widgets", "alice", "none")
	calls := len(e.gh.CallsTo("GET /repos/{owner}/{repo}"))
	if p := b.get(e.site.URL + "/r/acme/widgets"); p.status != 200 || len(e.gh.CallsTo("GET /repos/{owner}/{repo}")) != calls {
		t.Fatalf("within the TTL the answer is reused: %d", p.status)
	}
	e.advance(time.Minute)
	if p := b.get(e.site.URL + "/r/acme/widgets"); p.status != 404 {
		t.Fatalf("after the TTL the revoked reader still reads: %d", p.status)
	}
	for _, r := range []string{"a", "b", "c", "d", "e", "f"} {
		e.gh.AddRepo("acme", r)
		e.gh.SetPermission("acme", r, "alice", "read")
		if p := b.get(e.site.URL + "/r/acme/" + r); p.status != 200 {
			t.Fatalf("acme/%s: %d", r, p.status)
		}
	}
	if n := webauth.CacheLen(e.auth); n > 3 {
		t.Fatalf("cache holds %d answers, bound 3", n)
	}
	// Names that are no repository's never reach GitHub.
	before := len(e.gh.Calls())
	for _, bad := range []string{"..", "a%2F..%2Fb"} {
		if p := b.get(e.site.URL + "/r/acme/" + bad); p.status != 404 {
			t.Fatalf("%s: %d", bad, p.status)
		}
	}
	if len(e.gh.Calls()) != before {
		t.Fatalf("a bad name reached GitHub: %+v", e.gh.Calls()[before:])
	}
}

// TestTokenRefresh: an expired user token is renewed with its refresh
// token; a session whose token cannot be renewed ends.
func TestTokenRefresh(t *testing.T) {
	e := newEnv(t, func(c *webauth.Config) { c.SessionTTL = 7 * 24 * time.Hour })
	b := e.signIn(t, "alice")
	before := e.cookie(b, "stagegate_session").Value
	e.advance(8 * time.Hour)
	if p := b.get(e.site.URL + "/r/acme/widgets"); !strings.HasPrefix(p.body, "login=alice perm=read") {
		t.Fatalf("after 8 h: %d %q", p.status, p.body)
	}
	if toks := e.gh.UserTokens("alice"); len(toks) != 2 {
		t.Fatalf("tokens issued: %d, want 2 (one refresh)", len(toks))
	}
	if e.cookie(b, "stagegate_session").Value == before {
		t.Fatal("the cookie was not rewritten with the renewed token")
	}
	// The old cookie (another tab, sent before the new one arrived) rides
	// on the same renewal instead of spending the refresh token again.
	old := newBrowser(t)
	e.setCookie(old, "stagegate_session", before)
	if p := old.get(e.site.URL + "/r/acme/widgets"); !strings.HasPrefix(p.body, "login=alice") {
		t.Fatalf("old cookie after the renewal: %q", p.body)
	}
	if toks := e.gh.UserTokens("alice"); len(toks) != 2 {
		t.Fatalf("tokens issued: %d, want still 2", len(toks))
	}
	// Minutes later the old cookie rides on nothing: its refresh token is
	// spent, so it is signed out; the new one still works.
	e.advance(3 * time.Minute)
	e.setCookie(old, "stagegate_session", before)
	if p := old.noRedirects().get(e.site.URL + "/r/acme/widgets"); p.status != http.StatusSeeOther {
		t.Fatalf("an old cookie minutes after the renewal: %d %q", p.status, p.body)
	}
	if p := b.get(e.site.URL + "/r/acme/widgets"); !strings.HasPrefix(p.body, "login=alice") {
		t.Fatalf("the renewed cookie: %q", p.body)
	}
	// Past the session's end: signed out.
	e.advance(7 * 24 * time.Hour)
	if p := b.noRedirects().get(e.site.URL + "/r/acme/widgets"); p.status != http.StatusSeeOther {
		t.Fatalf("after the session's end: %d", p.status)
	}
}

func TestSessionKeyFile(t *testing.T) {
	dir := t.TempDir()
	k1, err := webauth.LoadOrCreateKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := webauth.LoadOrCreateKey(dir)
	if err != nil || string(k1) != string(k2) || len(k1) != webauth.KeySize {
		t.Fatalf("reload: %v", err)
	}
	st, err := os.Stat(filepath.Join(dir, webauth.KeyFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v %v", st.Mode(), err)
	}
	if err := os.WriteFile(filepath.Join(dir, webauth.KeyFile), []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := webauth.LoadOrCreateKey(dir); err == nil || !strings.Contains(err.Error(), "hex") {
		t.Fatalf("bad key file: %v", err)
	}
}

// TestSignOutEndsCopiesOfTheCookie: the cookie is self-contained, so
// signing out also revokes the user's token, here and at GitHub; a copy
// of the cookie taken before is worth nothing after.
func TestSignOutEndsCopiesOfTheCookie(t *testing.T) {
	e := newEnv(t)
	alice := e.signIn(t, "alice")
	tok := csrfOf(t, alice.get(e.site.URL+"/r/acme/widgets"))
	stolen := e.cookie(alice, "stagegate_session").Value
	if p := alice.post(e.site.URL+"/logout", url.Values{"csrf": {tok}}, nil); !strings.Contains(p.body, `id="signed-out"`) {
		t.Fatalf("logout: %d %q", p.status, p.body)
	}
	thief := newBrowser(t)
	e.setCookie(thief, "stagegate_session", stolen)
	if p := thief.noRedirects().get(e.site.URL + "/r/acme/widgets"); p.status != http.StatusSeeOther {
		t.Fatalf("the copied cookie after sign-out: %d %q", p.status, p.body)
	}
	if n := len(e.gh.CallsTo("DELETE /applications/{client_id}/token")); n != 1 {
		t.Fatalf("token revocations at GitHub: %d", n)
	}
	// Another replica, which never saw the sign-out, learns it from
	// GitHub at the first call and ends the session there too.
	replica, err := webauth.New(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", e.site.URL+"/r/acme/widgets", nil)
	req.AddCookie(&http.Cookie{Name: "stagegate_session", Value: stolen})
	if _, ok := replica.CurrentLogin(req); !ok {
		t.Fatal("the replica does not read the cookie at all")
	}
	if perm, err := replica.Permission(req.Context(), req, "acme", "widgets"); perm != "" || !errors.Is(err, webauth.ErrSignedOut) {
		t.Fatalf("the replica's permission with the revoked token: %q %v", perm, err)
	}
	if login, ok := replica.CurrentLogin(req); ok {
		t.Fatalf("the replica still has %s signed in", login)
	}
}

// TestConcurrentRefreshSpendsTheRefreshTokenOnce: a page, its stream and
// its assets arrive together with the same expired token; a refresh
// token works once, so they must share one renewal.
func TestConcurrentRefreshSpendsTheRefreshTokenOnce(t *testing.T) {
	e := newEnv(t)
	b := e.signIn(t, "alice")
	cookie := e.cookie(b, "stagegate_session").Value
	e.advance(8 * time.Hour)
	const n = 8
	errs := make(chan string, n)
	for i := 0; i < n; i++ {
		go func() {
			c := newBrowser(t)
			e.setCookie(c, "stagegate_session", cookie)
			resp, err := c.noRedirects().c.Get(e.site.URL + "/r/acme/widgets")
			if err != nil {
				errs <- err.Error()
				return
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				errs <- resp.Status
				return
			}
			errs <- ""
		}()
	}
	for i := 0; i < n; i++ {
		if msg := <-errs; msg != "" {
			t.Errorf("request %d: %s", i, msg)
		}
	}
	if toks := e.gh.UserTokens("alice"); len(toks) != 2 {
		t.Fatalf("tokens issued: %d, want 2 (one renewal for all)", len(toks))
	}
}

// TestLoginRedirectAfterAPost: a form posted while signed out comes back
// to the page it was on, if that page is on this site.
func TestLoginRedirectAfterAPost(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct{ referer, want string }{
		{e.site.URL + "/r/acme/widgets?x=1", "/login?next=" + url.QueryEscape("/r/acme/widgets?x=1")},
		{"https://evil.com/r/acme/widgets", "/login?next=%2F"},
		{"", "/login?next=%2F"},
	} {
		req := httptest.NewRequest("POST", e.site.URL+"/r/acme/widgets/act", nil)
		if tc.referer != "" {
			req.Header.Set("Referer", tc.referer)
		}
		rec := httptest.NewRecorder()
		e.auth.LoginRedirect(rec, req)
		if got := rec.Header().Get("Location"); rec.Code != http.StatusSeeOther || got != tc.want {
			t.Errorf("Referer %q: %d %q, want %q", tc.referer, rec.Code, got, tc.want)
		}
	}
}

// TestFailedRenewalSignsOut: an expired token whose refresh token GitHub
// refuses ends the session; the next page asks to sign in again.
func TestFailedRenewalSignsOut(t *testing.T) {
	e := newEnv(t)
	b := e.signIn(t, "alice")
	// The user revokes the App's authorization on GitHub: the token and
	// its refresh token die there.
	req, _ := http.NewRequest("DELETE", e.gh.APIURL()+"applications/"+e.gh.App().ClientID()+"/token",
		strings.NewReader(`{"access_token":"`+e.gh.UserTokens("alice")[0]+`"}`))
	req.SetBasicAuth(e.gh.App().ClientID(), e.secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	e.advance(8 * time.Hour)
	p := b.noRedirects().get(e.site.URL + "/r/acme/widgets")
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/login?") {
		t.Fatalf("after a refused renewal: %d %q", p.status, p.header.Get("Location"))
	}
	if c := e.cookie(b, "stagegate_session"); c != nil {
		t.Fatalf("the dead session's cookie is kept: %v", c)
	}
	if n := len(e.gh.UserTokens("alice")); n != 1 {
		t.Fatalf("tokens issued: %d", n)
	}
}

// TestRefreshWithoutTheHandler: pages not wrapped in Handler still get
// the token renewed, by LoginRedirect, which sends the browser back to
// the same page with the new cookie.
func TestRefreshWithoutTheHandler(t *testing.T) {
	e := newEnv(t)
	b := e.signIn(t, "alice")
	e.advance(8 * time.Hour)
	req := httptest.NewRequest("GET", e.site.URL+"/r/acme/widgets?tab=1", nil)
	req.AddCookie(e.cookie(b, "stagegate_session"))
	if _, ok := e.auth.CurrentLogin(req); ok {
		t.Fatal("an expired token still signs in")
	}
	rec := httptest.NewRecorder()
	e.auth.LoginRedirect(rec, req)
	if loc := rec.Header().Get("Location"); rec.Code != http.StatusSeeOther || loc != "/r/acme/widgets?tab=1" {
		t.Fatalf("LoginRedirect of an expired session: %d %q", rec.Code, loc)
	}
	renewed := rec.Result().Cookies()
	if len(renewed) != 1 || renewed[0].Name != "stagegate_session" {
		t.Fatalf("cookies set: %v", renewed)
	}
	again := httptest.NewRequest("GET", e.site.URL+"/r/acme/widgets?tab=1", nil)
	again.AddCookie(renewed[0])
	if perm, err := e.auth.Permission(again.Context(), again, "acme", "widgets"); perm != "read" || err != nil {
		t.Fatalf("with the renewed cookie: %q %v", perm, err)
	}
	if n := len(e.gh.UserTokens("alice")); n != 2 {
		t.Fatalf("tokens issued: %d", n)
	}
}

package githubtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

const testCallback = "https://ci.example.com/oauth/callback"

// oauthFixture: acme/widgets (App installed, alice reads it), the App
// with a callback URL and a client secret, alice signed in on the web.
func oauthFixture(t *testing.T) (*fixture, string) {
	t.Helper()
	f := newFixture(t)
	f.srv.App().SetCallbackURLs(testCallback)
	secret := f.srv.App().GenerateClientSecret()
	f.srv.SetPermission("acme", "widgets", "alice", "read")
	f.srv.SignIn("alice")
	return f, secret
}

// noFollow is a client that shows redirects instead of following them.
var noFollow = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// authorizeCode runs GET /login/oauth/authorize and returns the redirect.
func authorizeCode(t *testing.T, srv *Server, q url.Values) (*url.URL, int) {
	t.Helper()
	resp, err := noFollow.Get(srv.URL + "/login/oauth/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	return loc, resp.StatusCode
}

// exchange posts to /login/oauth/access_token and decodes the JSON.
func exchange(t *testing.T, srv *Server, form url.Values, accept string) (map[string]any, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", srv.URL+"/login/oauth/access_token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		// GitHub answers even its errors with 200 (docTokenErrors).
		t.Fatalf("access_token status %d: %s", resp.StatusCode, raw)
	}
	m := map[string]any{}
	if accept == "application/json" {
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%v: %s", err, raw)
		}
	}
	return m, string(raw)
}

func codeFor(t *testing.T, f *fixture) string {
	t.Helper()
	loc, status := authorizeCode(t, f.srv, url.Values{"client_id": {f.srv.App().ClientID()}, "redirect_uri": {testCallback}, "state": {"s1"}})
	if status != http.StatusFound || loc.Query().Get("code") == "" || loc.Query().Get("state") != "s1" {
		t.Fatalf("authorize: %d %v", status, loc)
	}
	return loc.Query().Get("code")
}

func TestOAuthWebFlow(t *testing.T) {
	f, secret := oauthFixture(t)
	f.srv.AddRepo("acme", "secret") // private, alice has no role
	cid := f.srv.App().ClientID()

	loc, _ := authorizeCode(t, f.srv, url.Values{"client_id": {cid}, "redirect_uri": {testCallback}, "state": {"xyz"}})
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != testCallback {
		t.Fatalf("redirected to %s, want the callback", got)
	}
	form := url.Values{"client_id": {cid}, "client_secret": {secret}, "code": {loc.Query().Get("code")}, "redirect_uri": {testCallback}}
	tok, _ := exchange(t, f.srv, form, "application/json")
	access, _ := tok["access_token"].(string)
	if !strings.HasPrefix(access, "ghu_") || tok["expires_in"] != float64(28800) || !strings.HasPrefix(tok["refresh_token"].(string), "ghr_") || tok["token_type"] != "bearer" {
		t.Fatalf("token answer %v", tok)
	}
	// The code works once.
	again, _ := exchange(t, f.srv, form, "application/json")
	if again["error"] != "bad_verification_code" {
		t.Fatalf("replayed code: %v", again)
	}

	me := do(t, "GET", f.srv.APIURL()+"user", "token "+access, nil)
	if me.status != 200 || me.object(t)["login"] != "alice" {
		t.Fatalf("GET /user: %d %s", me.status, me.raw)
	}
	repo := do(t, "GET", f.srv.APIURL()+"repos/acme/widgets", "Bearer "+access, nil)
	perms, _ := repo.object(t)["permissions"].(map[string]any)
	if repo.status != 200 || perms["pull"] != true || perms["push"] != false {
		t.Fatalf("GET repo as reader: %d %s", repo.status, repo.raw)
	}
	wantGitHubError(t, do(t, "GET", f.srv.APIURL()+"repos/acme/secret", "token "+access, nil), 404, "Not Found")

	// The role is read live: a write grant shows at once, a removal hides.
	f.srv.SetPermission("acme", "widgets", "alice", "write")
	perms = do(t, "GET", f.srv.APIURL()+"repos/acme/widgets", "token "+access, nil).object(t)["permissions"].(map[string]any)
	if perms["push"] != true || perms["admin"] != false {
		t.Fatalf("writer's permissions %v", perms)
	}
	f.srv.SetPermission("acme", "widgets", "alice", "none")
	wantGitHubError(t, do(t, "GET", f.srv.APIURL()+"repos/acme/widgets", "token "+access, nil), 404, "Not Found")

	// An installation token has no user; user tokens stay off other routes.
	wantGitHubError(t, do(t, "GET", f.srv.APIURL()+"user", "token "+f.token(t), nil), 403, msgNotAccessible)
	if r := do(t, "GET", f.srv.APIURL()+"repos/acme/widgets/contents/README.md", "token "+access, nil); r.status != 403 {
		t.Fatalf("user token on an unmarked route: %d", r.status)
	}
	wantGitHubError(t, do(t, "GET", f.srv.APIURL()+"user", "token ghu_000000000000000000000000000000000000", nil), 401, msgBadCredentials)
	wantGitHubError(t, do(t, "GET", f.srv.APIURL()+"user", "", nil), 401, msgRequiresAuth)
	if calls := f.srv.CallsTo("GET /user"); len(calls) == 0 || calls[0].Cred != CredUserToken || !calls[0].Authenticated {
		t.Fatalf("calls %+v", calls)
	}
}

// TestOAuthTokenErrors: the exchange's refusals, each HTTP 200 with
// GitHub's error code.
func TestOAuthTokenErrors(t *testing.T) {
	f, secret := oauthFixture(t)
	cid := f.srv.App().ClientID()
	for _, tc := range []struct {
		name string
		edit func(url.Values)
		want string
	}{
		{"wrong secret", func(v url.Values) { v.Set("client_secret", "nope") }, "incorrect_client_credentials"},
		{"unknown client", func(v url.Values) { v.Set("client_id", "Iv1.0000000000000000") }, "incorrect_client_credentials"},
		{"other redirect_uri", func(v url.Values) { v.Set("redirect_uri", "https://evil.example/cb") }, "redirect_uri_mismatch"},
		{"made-up code", func(v url.Values) { v.Set("code", "0123456789abcdef0123") }, "bad_verification_code"},
		{"expired code", func(url.Values) { f.srv.Advance(oauthCodeTTL + time.Second) }, "bad_verification_code"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form := url.Values{"client_id": {cid}, "client_secret": {secret}, "code": {codeFor(t, f)}, "redirect_uri": {testCallback}}
			tc.edit(form)
			got, _ := exchange(t, f.srv, form, "application/json")
			if got["error"] != tc.want || got["access_token"] != nil {
				t.Fatalf("got %v, want error %s", got, tc.want)
			}
		})
	}
	// Without Accept: application/json the answer is form-encoded.
	_, raw := exchange(t, f.srv, url.Values{"client_id": {cid}, "client_secret": {secret}, "code": {codeFor(t, f)}}, "")
	v, err := url.ParseQuery(raw)
	if err != nil || !strings.HasPrefix(v.Get("access_token"), "ghu_") || v.Get("expires_in") != "28800" {
		t.Fatalf("form answer %q", raw)
	}
}

func TestOAuthAuthorizePage(t *testing.T) {
	f, _ := oauthFixture(t)
	cid := f.srv.App().ClientID()
	if _, status := authorizeCode(t, f.srv, url.Values{"client_id": {"Iv1.ffffffffffffffff"}}); status != 404 {
		t.Fatalf("unknown client_id: %d", status)
	}
	// An unregistered redirect_uri: back to the registered callback with
	// the error, never to the URI asked for.
	loc, status := authorizeCode(t, f.srv, url.Values{"client_id": {cid}, "redirect_uri": {"https://evil.example/cb"}, "state": {"s"}})
	if status != 302 || !strings.HasPrefix(loc.String(), testCallback+"?") || loc.Query().Get("error") != "redirect_uri_mismatch" || loc.Query().Get("code") != "" {
		t.Fatalf("mismatch: %d %v", status, loc)
	}
	// No redirect_uri: the first callback URL.
	loc, _ = authorizeCode(t, f.srv, url.Values{"client_id": {cid}})
	if !strings.HasPrefix(loc.String(), testCallback+"?code=") {
		t.Fatalf("default callback: %v", loc)
	}
	f.srv.SignIn("")
	resp, err := noFollow.Get(f.srv.URL + "/login/oauth/authorize?client_id=" + cid)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `id="sign-in"`) {
		t.Fatalf("signed out: %d %s", resp.StatusCode, body)
	}
}

// TestUserTokenIntersection: a user token reaches a private repository
// only where both the user and the App can.
func TestUserTokenIntersection(t *testing.T) {
	f, secret := oauthFixture(t)
	f.srv.AddRepo("acme", "uninstalled") // the installation covers widgets only
	f.srv.SetPermission("acme", "uninstalled", "alice", "admin")
	pub := f.srv.AddRepo("acme", "open")
	pub.Private = false
	tok, _ := exchange(t, f.srv, url.Values{"client_id": {f.srv.App().ClientID()}, "client_secret": {secret}, "code": {codeFor(t, f)}}, "application/json")
	access := tok["access_token"].(string)
	wantGitHubError(t, do(t, "GET", f.srv.APIURL()+"repos/acme/uninstalled", "token "+access, nil), 404, "Not Found")
	if r := do(t, "GET", f.srv.APIURL()+"repos/acme/open", "token "+access, nil); r.status != 200 {
		t.Fatalf("public repository: %d", r.status)
	}
	f.srv.SuspendInstallation(f.instID)
	wantGitHubError(t, do(t, "GET", f.srv.APIURL()+"repos/acme/widgets", "token "+access, nil), 404, "Not Found")
}

func TestUserTokenExpiryAndRefresh(t *testing.T) {
	f, secret := oauthFixture(t)
	cid := f.srv.App().ClientID()
	tok, _ := exchange(t, f.srv, url.Values{"client_id": {cid}, "client_secret": {secret}, "code": {codeFor(t, f)}}, "application/json")
	f.srv.Advance(userTokenTTL)
	wantGitHubError(t, do(t, "GET", f.srv.APIURL()+"user", "token "+tok["access_token"].(string), nil), 401, msgBadCredentials)

	refresh := url.Values{"client_id": {cid}, "client_secret": {secret}, "grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}}
	fresh, _ := exchange(t, f.srv, refresh, "application/json")
	if r := do(t, "GET", f.srv.APIURL()+"user", "token "+fresh["access_token"].(string), nil); r.status != 200 {
		t.Fatalf("refreshed token: %d %s", r.status, r.raw)
	}
	// A refresh token works once.
	if again, _ := exchange(t, f.srv, refresh, "application/json"); again["error"] != "bad_refresh_token" {
		t.Fatalf("reused refresh token: %v", again)
	}

	// An App that opted out of expiry: no refresh token, no expiry.
	f.srv.App().SetUserTokenExpiry(false)
	plain, _ := exchange(t, f.srv, url.Values{"client_id": {cid}, "client_secret": {secret}, "code": {codeFor(t, f)}}, "application/json")
	if plain["refresh_token"] != nil || plain["expires_in"] != nil {
		t.Fatalf("non-expiring answer %v", plain)
	}
	f.srv.Advance(30 * 24 * time.Hour)
	if r := do(t, "GET", f.srv.APIURL()+"user", "token "+plain["access_token"].(string), nil); r.status != 200 {
		t.Fatalf("non-expiring token after 30 days: %d", r.status)
	}
}

func TestDeleteAppToken(t *testing.T) {
	f, secret := oauthFixture(t)
	cid := f.srv.App().ClientID()
	tok, _ := exchange(t, f.srv, url.Values{"client_id": {cid}, "client_secret": {secret}, "code": {codeFor(t, f)}}, "application/json")
	access := tok["access_token"].(string)
	del := func(user, pass string, body string) int {
		req, _ := http.NewRequest("DELETE", f.srv.APIURL()+"applications/"+cid+"/token", strings.NewReader(body))
		req.SetBasicAuth(user, pass)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := del(cid, "wrong", `{"access_token":"`+access+`"}`); got != 404 {
		t.Fatalf("wrong secret: %d", got)
	}
	if got := del(cid, secret, `{}`); got != 422 {
		t.Fatalf("no token: %d", got)
	}
	if got := del(cid, secret, `{"access_token":"`+access+`"}`); got != 204 {
		t.Fatalf("delete: %d", got)
	}
	wantGitHubError(t, do(t, "GET", f.srv.APIURL()+"user", "token "+access, nil), 401, msgBadCredentials)
	refresh := url.Values{"client_id": {cid}, "client_secret": {secret}, "grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}}
	if got, _ := exchange(t, f.srv, refresh, "application/json"); got["error"] != "bad_refresh_token" {
		t.Fatalf("refresh of a deleted token: %v", got)
	}
}

// TestOAuthPKCE: a code asked for with a code_challenge is exchanged only
// with its verifier.
func TestOAuthPKCE(t *testing.T) {
	f, secret := oauthFixture(t)
	cid := f.srv.App().ClientID()
	verifier := "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	challenge := "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" // RFC 7636, appendix B
	code := func() string {
		loc, _ := authorizeCode(t, f.srv, url.Values{"client_id": {cid}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}})
		return loc.Query().Get("code")
	}
	for _, tc := range []struct{ name, verifier, want string }{
		{"no verifier", "", "bad_verification_code"},
		{"wrong verifier", verifier + "x", "bad_verification_code"},
	} {
		got, _ := exchange(t, f.srv, url.Values{"client_id": {cid}, "client_secret": {secret}, "code": {code()}, "code_verifier": {tc.verifier}}, "application/json")
		if got["error"] != tc.want {
			t.Errorf("%s: %v", tc.name, got)
		}
	}
	got, _ := exchange(t, f.srv, url.Values{"client_id": {cid}, "client_secret": {secret}, "code": {code()}, "code_verifier": {verifier}}, "application/json")
	if !strings.HasPrefix(fmt.Sprint(got["access_token"]), "ghu_") {
		t.Fatalf("with the verifier: %v", got)
	}
	if _, status := authorizeCode(t, f.srv, url.Values{"client_id": {cid}, "code_challenge": {challenge}, "code_challenge_method": {"plain"}}); status != 400 {
		t.Fatalf("plain challenge: %d", status)
	}
}

package githubtest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// GitHub's web application flow for a GitHub App's user access tokens:
// the browser is sent to /login/oauth/authorize, comes back to the App's
// callback URL with a code, and the App exchanges the code at
// /login/oauth/access_token for a token that acts as the user.
const (
	docUserToken = "https://docs.github.com/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-user-access-token-for-a-github-app"
	// docCallbackURL: up to 10 callback URLs; without redirect_uri the
	// first one is used.
	docCallbackURL = "https://docs.github.com/apps/creating-github-apps/registering-a-github-app/about-the-user-authorization-callback-url"
	// docTokenErrors: the exchange's errors are answered with HTTP 200 and
	// an "error" field, in the format the Accept header asks for.
	docTokenErrors = "https://docs.github.com/apps/oauth-apps/maintaining-oauth-apps/troubleshooting-oauth-app-access-token-request-errors"
	// docAuthorizeErrors: a redirect_uri that is not registered sends the
	// browser to the registered callback URL with error parameters.
	docAuthorizeErrors = "https://docs.github.com/apps/oauth-apps/maintaining-oauth-apps/troubleshooting-authorization-request-errors"
	// docRefresh: expiring user tokens last 8 hours and come with a
	// refresh token good for 6 months; a refresh revokes the old pair.
	docRefresh           = "https://docs.github.com/apps/creating-github-apps/authenticating-with-a-github-app/refreshing-user-access-tokens"
	docAuthenticatedUser = "https://docs.github.com/rest/users/users#get-the-authenticated-user"
	// docPKCE: authorize takes code_challenge with code_challenge_method
	// S256 (the only method), and the exchange must then bring the
	// code_verifier. What GitHub answers a wrong verifier is not
	// documented; the fake answers bad_verification_code, as for any
	// code that does not fit the request.
	docPKCE = "https://github.blog/changelog/2025-07-14-pkce-support-for-oauth-and-github-app-authentication"

	oauthCodeTTL    = 10 * time.Minute
	userTokenTTL    = 8 * time.Hour
	refreshTokenTTL = 184 * 24 * time.Hour // 15897600 s, as GitHub answers
	maxCallbackURLs = 10
)

// oauthState is the web flow's state, guarded by Server.mu. Its maps are
// made on first use.
type oauthState struct {
	webUser  string                  // the signed-in user of the web UI; "" = nobody
	apps     map[int64]*oauthApp     // App id -> its OAuth settings
	codes    map[string]*oauthCode   // code -> grant
	tokens   map[string]*userToken   // ghu_ value -> token
	refreshs map[string]*userToken   // ghr_ value -> the token it renews
	issued   map[string][]*userToken // lower-case login -> every token issued
}

// oauthApp is an App's OAuth settings. Expiring user tokens are on
// unless the App opts out, as for Apps registered today (docRefresh).
type oauthApp struct {
	callbacks []string
	noExpiry  bool
}

type oauthCode struct {
	app         *App
	login       string
	redirectURI string
	challenge   string // PKCE S256 code_challenge; "" without PKCE
	expires     time.Time
	used        bool
}

// userToken is a user access token (ghu_) and its refresh token (ghr_).
type userToken struct {
	value, refresh string
	app            *App
	login          string
	expiresAt      time.Time // zero: never (the App opted out of expiry)
	refreshExpires time.Time
	revoked        bool
}

func (o *oauthState) init() {
	if o.apps == nil {
		o.apps = map[int64]*oauthApp{}
		o.codes = map[string]*oauthCode{}
		o.tokens = map[string]*userToken{}
		o.refreshs = map[string]*userToken{}
		o.issued = map[string][]*userToken{}
	}
}

func (o *oauthState) appLocked(a *App) *oauthApp {
	o.init()
	oa := o.apps[a.ID]
	if oa == nil {
		oa = &oauthApp{}
		o.apps[a.ID] = oa
	}
	return oa
}

// SetCallbackURLs registers the App's user authorization callback URLs
// (at most 10). The manifest flow sets them from callback_urls.
func (a *App) SetCallbackURLs(urls ...string) {
	a.s.t.Helper()
	if len(urls) > maxCallbackURLs {
		a.s.t.Fatalf("githubtest: SetCallbackURLs: %d URLs, GitHub allows %d", len(urls), maxCallbackURLs)
	}
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	a.s.oauth.appLocked(a).callbacks = slices.Clone(urls)
}

// SetUserTokenExpiry turns the App's expiring user tokens on (the
// default) or off; off, tokens never expire and come without a refresh
// token.
func (a *App) SetUserTokenExpiry(on bool) {
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	a.s.oauth.appLocked(a).noExpiry = !on
}

// GenerateClientSecret makes the App a new OAuth client secret, as the
// button on its settings page does, and returns it. Apps from the
// manifest flow have one already ([App.ClientSecret]).
func (a *App) GenerateClientSecret() string {
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	a.clientSecret = randomHex(20)
	return a.clientSecret
}

// SignIn makes login the user signed in to the web UI, whom
// /login/oauth/authorize then authorizes the App for (GitHub asks once,
// then redirects straight back). "" signs out: authorize shows the
// sign-in page.
func (s *Server) SignIn(login string) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oauth.init()
	if login != "" {
		if _, err := s.ensureUserLocked(login); err != nil {
			s.t.Fatalf("githubtest: SignIn: %v", err)
		}
	}
	s.oauth.webUser = login
}

// UserTokens returns the user access tokens issued to login, oldest
// first (revoked ones included), for tests that look for leaks.
func (s *Server) UserTokens(login string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, t := range s.oauth.issued[strings.ToLower(login)] {
		out = append(out, t.value)
	}
	return out
}

func (s *Server) oauthRoutes() {
	s.mux.HandleFunc("GET /login/oauth/authorize", s.authorize)
	s.mux.HandleFunc("POST /login/oauth/access_token", s.accessToken)
	s.handle("GET /api/v3/user", authMode{kind: kindUser}, s.getAuthenticatedUser)
	s.handle("DELETE /api/v3/applications/{client_id}/token", authAny, s.deleteAppToken)
}

// docDeleteToken: the App revokes one of its user tokens, authenticated
// with Basic auth as client_id:client_secret.
const docDeleteToken = "https://docs.github.com/rest/apps/oauth-applications#delete-an-app-token"

// deleteAppToken is DELETE /applications/{client_id}/token with
// {"access_token": ...}: 204, and the token (and its refresh token) no
// longer work. Wrong client credentials, or a token of another App or
// none, are a 404 here: the docs list only 204 and 422, and GitHub hides
// what the caller may not see.
func (s *Server) deleteAppToken(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	id, secret, ok := r.BasicAuth()
	body, _, okBody := decodeBody(w, r)
	if !okBody {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	app := s.appByClientIDLocked(r.PathValue("client_id"))
	if !ok || app == nil || id != app.ClientID() || app.clientSecret == "" || secret != app.clientSecret {
		writeError(w, http.StatusNotFound, "Not Found", docDeleteToken)
		return
	}
	rc.app, rc.authn = app, true
	v, _ := body["access_token"].(string)
	if v == "" {
		writeValidationFailed(w, docDeleteToken, fieldError{Resource: "OauthAccess", Code: "missing_field", Field: "access_token"})
		return
	}
	t := s.oauth.tokens[v]
	if t == nil || t.app != app || t.revoked {
		writeError(w, http.StatusNotFound, "Not Found", docDeleteToken)
		return
	}
	t.revoked = true
	delete(s.oauth.refreshs, t.refresh)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) appByClientIDLocked(id string) *App {
	for _, a := range s.apps {
		if a.ClientID() == id {
			return a
		}
	}
	return nil
}

// authorize is GET /login/oauth/authorize (docUserToken): an unknown
// client_id is a 404 page; a redirect_uri that is not one of the App's
// callback URLs sends the browser to the first callback URL with
// error=redirect_uri_mismatch (docAuthorizeErrors); nobody signed in
// gets the sign-in page; else the user authorizes and the browser goes
// to the callback with a code good for 10 minutes and the state.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	app := s.appByClientIDLocked(q.Get("client_id"))
	if app == nil {
		writeWebNotFound(w)
		return
	}
	oa := s.oauth.appLocked(app)
	if len(oa.callbacks) == 0 {
		writeHTML(w, http.StatusBadRequest, "Application error",
			`<p>The App has no callback URL, so it cannot sign users in: <a href="`+docCallbackURL+`">callback URLs</a>.</p>`)
		return
	}
	redirect := q.Get("redirect_uri")
	if redirect == "" {
		redirect = oa.callbacks[0] // docCallbackURL
	} else if !slices.Contains(oa.callbacks, redirect) {
		u, _ := url.Parse(oa.callbacks[0])
		v := u.Query()
		v.Set("error", "redirect_uri_mismatch")
		v.Set("error_description", "The redirect_uri MUST match the registered callback URL for this application.")
		v.Set("error_uri", docAuthorizeErrors)
		if st := q.Get("state"); st != "" {
			v.Set("state", st)
		}
		u.RawQuery = v.Encode()
		http.Redirect(w, r, u.String(), http.StatusFound)
		return
	}
	challenge := q.Get("code_challenge")
	if challenge != "" && q.Get("code_challenge_method") != "S256" {
		writeHTML(w, http.StatusBadRequest, "Application error",
			`<p>Only the S256 code_challenge_method is supported (<a href="`+docPKCE+`">PKCE</a>).</p>`)
		return
	}
	if s.oauth.webUser == "" {
		writeHTML(w, http.StatusOK, "Sign in to GitHub",
			`<p id="sign-in">Sign in to continue to `+html.EscapeString(app.Name)+` (<a href="`+docUserToken+`">why</a>).</p>`)
		return
	}
	code := randomHex(10)
	s.oauth.codes[code] = &oauthCode{app: app, login: s.oauth.webUser, redirectURI: redirect, challenge: challenge,
		expires: s.nowLocked().Add(oauthCodeTTL)}
	u, _ := url.Parse(redirect) // registered, so it parses
	v := u.Query()
	v.Set("code", code)
	if st := q.Get("state"); st != "" {
		v.Set("state", st)
	}
	u.RawQuery = v.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// accessToken is POST /login/oauth/access_token: a code (or, with
// grant_type=refresh_token, a refresh token) for a user access token.
// Parameters may come in the query or the form body. Errors are HTTP 200
// with an error body (docTokenErrors).
func (s *Server) accessToken(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	f := r.Form
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oauth.init()
	app := s.appByClientIDLocked(f.Get("client_id"))
	if app == nil || app.clientSecret == "" || f.Get("client_secret") != app.clientSecret {
		writeTokenError(w, r, "incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect.")
		return
	}
	now := s.nowLocked()
	if f.Get("grant_type") == "refresh_token" {
		old := s.oauth.refreshs[f.Get("refresh_token")]
		if old == nil || old.revoked || old.app != app || !now.Before(old.refreshExpires) {
			writeTokenError(w, r, "bad_refresh_token", "The refresh token passed is incorrect or expired.")
			return
		}
		// A refresh revokes the old token and refresh token (docRefresh).
		old.revoked = true
		delete(s.oauth.refreshs, old.refresh)
		writeTokenAnswer(w, r, s.issueUserTokenLocked(app, old.login, now))
		return
	}
	c := s.oauth.codes[f.Get("code")]
	if c == nil || c.used || c.app != app || !now.Before(c.expires) {
		writeTokenError(w, r, "bad_verification_code", "The code passed is incorrect or expired.")
		return
	}
	if ru := f.Get("redirect_uri"); ru != "" && ru != c.redirectURI {
		writeTokenError(w, r, "redirect_uri_mismatch", "The redirect_uri MUST match the registered callback URL for this application.")
		return
	}
	if c.challenge != "" && pkceChallenge(f.Get("code_verifier")) != c.challenge {
		writeTokenError(w, r, "bad_verification_code", "The code passed is incorrect or expired.")
		return
	}
	c.used = true
	writeTokenAnswer(w, r, s.issueUserTokenLocked(app, c.login, now))
}

func (s *Server) issueUserTokenLocked(app *App, login string, now time.Time) *userToken {
	t := &userToken{value: randomToken("ghu_", 36), app: app, login: login}
	if !s.oauth.appLocked(app).noExpiry {
		t.expiresAt = now.Add(userTokenTTL)
		t.refresh = randomToken("ghr_", 76)
		t.refreshExpires = now.Add(refreshTokenTTL)
		s.oauth.refreshs[t.refresh] = t
	}
	s.oauth.tokens[t.value] = t
	k := strings.ToLower(login)
	s.oauth.issued[k] = append(s.oauth.issued[k], t)
	return t
}

// pkceChallenge is the S256 challenge of a verifier (RFC 7636).
func pkceChallenge(verifier string) string {
	if verifier == "" {
		return "\x00" // matches no challenge
	}
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func randomToken(prefix string, n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	for i := range b {
		x, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			panic(err)
		}
		b[i] = alphabet[x.Int64()]
	}
	return prefix + string(b)
}

// wantsJSON: the answer's format follows the Accept header; without
// application/json it is form-encoded (docUserToken).
func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}

func writeTokenAnswer(w http.ResponseWriter, r *http.Request, t *userToken) {
	v := map[string]any{"access_token": t.value, "scope": "", "token_type": "bearer"}
	if !t.expiresAt.IsZero() {
		v["expires_in"] = int(userTokenTTL.Seconds())
		v["refresh_token"] = t.refresh
		v["refresh_token_expires_in"] = int(refreshTokenTTL.Seconds())
	}
	writeTokenBody(w, r, v)
}

func writeTokenError(w http.ResponseWriter, r *http.Request, code, desc string) {
	writeTokenBody(w, r, map[string]any{"error": code, "error_description": desc, "error_uri": docTokenErrors})
}

func writeTokenBody(w http.ResponseWriter, r *http.Request, v map[string]any) {
	if wantsJSON(r) {
		b, _ := json.Marshal(v)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = w.Write(b)
		return
	}
	form := url.Values{}
	for k, x := range v {
		switch x := x.(type) {
		case int:
			form.Set(k, strconv.Itoa(x))
		case string:
			form.Set(k, x)
		}
	}
	w.Header().Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	_, _ = w.Write([]byte(form.Encode()))
}

// lookupUserTokenLocked returns a live user access token, or nil.
func (s *Server) lookupUserTokenLocked(v string) *userToken {
	t := s.oauth.tokens[v]
	if t == nil || t.revoked || (!t.expiresAt.IsZero() && !s.nowLocked().Before(t.expiresAt)) {
		return nil
	}
	return t
}

// authenticateUser admits a user access token on the routes that take
// one. What it reaches is the intersection of the user's access and the
// App's (docUserToken): a private repository is visible only when the
// user can read it and the App is installed on it; a public one to all.
// Routes not marked for user tokens refuse them: the fake serves user
// tokens only where stagegate uses them.
func (s *Server) authenticateUser(w http.ResponseWriter, r *http.Request, rc *reqCtx, mode authMode) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.lookupUserTokenLocked(credential(r))
	if t == nil {
		writeError(w, http.StatusUnauthorized, msgBadCredentials, "")
		return false
	}
	rc.app = t.app
	rc.user = s.users[strings.ToLower(t.login)]
	rc.authn = true
	switch {
	case mode.kind == kindUser:
		return true
	case mode.kind == kindRepo && mode.users:
		repo := s.repos[repoKey(r.PathValue("owner"), r.PathValue("repo"))]
		if repo == nil || !s.userSeesRepoLocked(t, rc.user, repo) {
			writeNotFound(w)
			return false
		}
		rc.repo = repo
		return true
	}
	writeError(w, http.StatusForbidden, "githubtest: this route does not take user access tokens", "")
	return false
}

func (s *Server) userSeesRepoLocked(t *userToken, u *user, repo *Repo) bool {
	if !repo.Private {
		return true
	}
	if u == nil || s.roleLocked(repo, u) == "none" {
		return false
	}
	for _, inst := range s.installations {
		if inst.appID == t.app.ID && !inst.suspended && inst.coversLocked(repo) {
			return true
		}
	}
	return false
}

// roleFlags is a role as the "permissions" object of a repository.
func roleFlags(role string) map[string]bool {
	rank := map[string]int{"admin": 5, "maintain": 4, "write": 3, "triage": 2, "read": 1}[role]
	return map[string]bool{"admin": rank >= 5, "maintain": rank >= 4, "push": rank >= 3, "triage": rank >= 2, "pull": rank >= 1}
}

// getAuthenticatedUser is GET /user; only a user token has a user
// (an installation token gets 403, docAuthenticatedUser).
func (s *Server) getAuthenticatedUser(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	s.mu.Lock()
	body := s.userJSON(rc.user)
	s.mu.Unlock()
	body["name"] = rc.user.login
	body["email"] = nil
	writeJSON(w, http.StatusOK, body)
}

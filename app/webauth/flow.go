package webauth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"
	"golang.org/x/oauth2"
)

// loginTTL is how long a round trip through GitHub's authorize page may
// take: GitHub's codes last 10 minutes too.
const loginTTL = 10 * time.Minute

// loginState is what the login cookie holds, sealed: the state sent to
// GitHub, bound to this browser, and where to go afterwards.
type loginState struct {
	State    string `json:"s"`
	Verifier string `json:"v"` // PKCE: only this browser's sign-in can use its code
	Next     string `json:"n"`
	Exp      int64  `json:"e"`
}

func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// safeNext keeps next only if it is a path on this site: it starts with
// one "/", not "//" or "/\" (which browsers read as another host), and
// holds no control characters. Anything else is "/".
func safeNext(next string) string {
	if next == "" || len(next) > 2048 || next[0] != '/' {
		return "/"
	}
	if len(next) > 1 && (next[1] == '/' || next[1] == '\\') {
		return "/"
	}
	for _, c := range next {
		if c < 0x20 || c == 0x7f || c == '\\' {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") {
		return "/"
	}
	return next
}

// login is GET /login?next=PATH: off to GitHub's authorize page with a
// fresh state that a short-lived cookie binds to this browser.
func (a *Authenticator) login(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	if _, ok := a.current(r); ok {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	st := loginState{State: randomToken(), Verifier: oauth2.GenerateVerifier(), Next: next, Exp: a.cfg.Now().Add(loginTTL).Unix()}
	v, err := a.seal.seal(loginCookie, st)
	if err != nil {
		http.Error(w, "could not start the sign-in", http.StatusInternalServerError)
		return
	}
	a.jar.set(w, loginCookie, v, loginTTL)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, a.oauth.AuthCodeURL(st.State, oauth2.S256ChallengeOption(st.Verifier)), http.StatusSeeOther)
}

func (a *Authenticator) fail(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign-in failed</title></head>"+
		"<body><h1>Sign-in failed</h1><p id=\"error\">%s</p><p><a href=\"/login\">Sign in again</a></p></body></html>\n",
		html.EscapeString(msg))
}

// oauthCallback is where GitHub sends the browser back: the state must
// be the one this browser left with, the code is exchanged for the
// user's token, and the session starts.
func (a *Authenticator) oauthCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	c, err := r.Cookie(a.jar.name(loginCookie))
	a.jar.clear(w, loginCookie) // each state is good for one return
	var st loginState
	if err != nil || a.seal.open(loginCookie, c.Value, &st) != nil ||
		subtle.ConstantTimeCompare([]byte(st.State), []byte(q.Get("state"))) != 1 || st.State == "" {
		a.fail(w, http.StatusBadRequest, "This sign-in was not started in this browser, or it was used already.")
		return
	}
	if !a.cfg.Now().Before(time.Unix(st.Exp, 0)) {
		a.fail(w, http.StatusBadRequest, "This sign-in took too long.")
		return
	}
	if e := q.Get("error"); e != "" {
		// access_denied: the user said no; redirect_uri_mismatch: the
		// App's callback URL is not this server's.
		a.fail(w, http.StatusForbidden, "GitHub did not sign you in: "+e+" "+q.Get("error_description"))
		return
	}
	code := q.Get("code")
	if code == "" {
		a.fail(w, http.StatusBadRequest, "GitHub sent no code.")
		return
	}
	ctx, cancel := context.WithTimeout(context.WithValue(r.Context(), oauth2.HTTPClient, a.cfg.HTTPClient), 30*time.Second)
	defer cancel()
	tok, err := a.oauth.Exchange(ctx, code, oauth2.VerifierOption(st.Verifier))
	if err != nil {
		a.fail(w, http.StatusBadGateway, "GitHub did not accept the sign-in: "+oauthError(err))
		return
	}
	gh, err := a.client(tok.AccessToken)
	if err != nil {
		a.fail(w, http.StatusInternalServerError, err.Error())
		return
	}
	u, _, err := gh.Users.Get(ctx, "")
	if err != nil {
		a.fail(w, http.StatusBadGateway, "GitHub did not say who you are: "+err.Error())
		return
	}
	s := session{Login: u.GetLogin(), ID: u.GetID(), Token: tok.AccessToken, Refresh: tok.RefreshToken,
		Exp: a.cfg.Now().Add(a.cfg.SessionTTL).Unix(), CSRF: randomToken()}
	if !tok.Expiry.IsZero() {
		s.TokenExp = a.tokenExpiry(tok)
	}
	if s.Login == "" || s.ID == 0 {
		a.fail(w, http.StatusBadGateway, "GitHub answered GET /user without a login.")
		return
	}
	if err := a.setSession(w, s); err != nil {
		a.fail(w, http.StatusInternalServerError, err.Error())
		return
	}
	http.Redirect(w, r, safeNext(st.Next), http.StatusSeeOther)
}

// tokenExpiry is the token's end on this server's clock: oauth2 computes
// Expiry from expires_in with the real clock.
func (a *Authenticator) tokenExpiry(tok *oauth2.Token) int64 {
	return a.cfg.Now().Add(time.Until(tok.Expiry)).Unix()
}

func (a *Authenticator) setSession(w http.ResponseWriter, s session) error {
	v, err := a.seal.seal(sessionCookie, s)
	if err != nil {
		return err
	}
	a.jar.set(w, sessionCookie, v, time.Unix(s.Exp, 0).Sub(a.cfg.Now()))
	return nil
}

// oauthError names GitHub's error code (bad_verification_code, ...).
func oauthError(err error) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.ErrorCode != "" {
		return re.ErrorCode + ": " + re.ErrorDescription
	}
	return err.Error()
}

// logout is POST /logout with the session's CSRF token.
func (a *Authenticator) logout(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	s, ok := a.current(r)
	if ok && !a.VerifyCSRF(r) {
		http.Error(w, "This form has expired; reload the page and try again.", http.StatusForbidden)
		return
	}
	if ok {
		a.revoked.add(s.Token, time.Unix(s.Exp, 0), a.cfg.Now())
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		// Best effort: the session ends here whatever GitHub answers.
		_ = a.revokeAtGitHub(ctx, s.Token)
		cancel()
	}
	a.jar.clear(w, sessionCookie)
	// A page of its own rather than a redirect: back on a private page,
	// the browser would be signed straight in again by GitHub, where the
	// user is still signed in and has authorized the App.
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	fmt.Fprint(w, "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Signed out</title></head>"+
		"<body><h1 id=\"signed-out\">You are signed out of stagegate</h1>"+
		"<p>You are still signed in on GitHub, which signs you in here again when you open a private repository's page.</p></body></html>\n")
}

// client is a REST client acting as the user.
func (a *Authenticator) client(token string) (*github.Client, error) {
	c := github.NewClient(a.cfg.HTTPClient).WithAuthToken(token)
	if strings.TrimSuffix(a.cfg.APIURL, "/") != "https://api.github.com" {
		var err error
		if c, err = c.WithEnterpriseURLs(a.cfg.APIURL, a.cfg.APIURL); err != nil {
			return nil, fmt.Errorf("webauth: API URL: %w", err)
		}
	}
	return c, nil
}

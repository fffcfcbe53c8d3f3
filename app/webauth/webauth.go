// Package webauth signs people in to stagegate's pages with GitHub, through
// the GitHub App's OAuth client (the web application flow), keeps their
// session in an encrypted cookie, and answers what a signed-in user may do
// on a repository, asked of GitHub with the user's own token.
//
// The session cookie holds the user's access token (and refresh token),
// sealed with AES-256-GCM under a key from the data dir or the
// environment: nothing is kept on the server, so a restart or another
// replica sharing the key keeps everyone signed in, and the browser never
// sees the token.
package webauth

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// User is a signed-in GitHub user.
type User struct {
	Login string
	ID    int64
}

// Config is what an Authenticator needs.
type Config struct {
	// ClientID and ClientSecret are the GitHub App's OAuth client (the
	// manifest conversion hands them over; or flags).
	ClientID, ClientSecret string
	// WebURL is GitHub's web address, where /login/oauth/* live
	// (https://github.com); APIURL its REST API (https://api.github.com/).
	WebURL, APIURL string
	// PublicURL is stagegate's own address; the callback registered on
	// the App is PublicURL+"/oauth/callback". It must be https, except
	// http on a loopback address for development (cookies are then not
	// Secure).
	PublicURL string
	// SessionKey seals the cookies (KeySize bytes; see LoadOrCreateKey).
	SessionKey []byte
	HTTPClient *http.Client
	// SessionTTL is how long a sign-in lasts (default 24 h); the user's
	// token may end it sooner if it expires and cannot be refreshed.
	SessionTTL time.Duration
	// PermissionTTL is how long an answer about a user's access to a
	// repository is reused (default 60 s): a revoked reader keeps access
	// for at most this long. CacheSize bounds the answers kept (default
	// 10000).
	PermissionTTL time.Duration
	CacheSize     int
	// Now is the clock (time.Now by default), for tests.
	Now func() time.Time
}

// Authenticator serves sign-in and answers who is signed in.
type Authenticator struct {
	cfg      Config
	oauth    oauth2.Config
	seal     *sealer
	jar      cookieJar
	origin   string // PublicURL's scheme://host, for the Origin check
	perms    *permCache
	refresh  *refresher
	revoked  *revoked
	callback string
}

// Cookie names (before the __Host- prefix of a secure deployment).
const (
	sessionCookie = "stagegate_session"
	loginCookie   = "stagegate_login"
)

// CallbackPath is the path of the OAuth callback under the public URL.
const CallbackPath = "/oauth/callback"

// New checks cfg and returns an Authenticator.
func New(cfg Config) (*Authenticator, error) {
	if cfg.ClientID == "" || cfg.ClientSecret == "" {
		return nil, errors.New("webauth: the GitHub App's OAuth client id and secret are needed (they come with the App's setup, or --oauth-client-id/--oauth-client-secret)")
	}
	pub, err := url.Parse(strings.TrimSuffix(cfg.PublicURL, "/"))
	if err != nil || pub.Host == "" {
		return nil, fmt.Errorf("webauth: public URL %q is not an absolute URL", cfg.PublicURL)
	}
	jar := cookieJar{secure: true, prefix: "__Host-"}
	switch {
	case pub.Scheme == "https":
	case pub.Scheme == "http" && isLoopback(pub.Hostname()):
		jar = cookieJar{} // development on this machine: no TLS, no Secure cookies
	default:
		return nil, fmt.Errorf("webauth: public URL %q must be https (http only on localhost, for development): session cookies are Secure", cfg.PublicURL)
	}
	seal, err := newSealer(cfg.SessionKey)
	if err != nil {
		return nil, fmt.Errorf("webauth: %w", err)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 20 * time.Second}
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 24 * time.Hour
	}
	if cfg.PermissionTTL <= 0 {
		cfg.PermissionTTL = 60 * time.Second
	}
	if cfg.CacheSize <= 0 {
		cfg.CacheSize = 10000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.WebURL == "" {
		cfg.WebURL = "https://github.com"
	}
	if cfg.APIURL == "" {
		cfg.APIURL = "https://api.github.com/"
	}
	web := strings.TrimSuffix(cfg.WebURL, "/")
	a := &Authenticator{
		cfg:      cfg,
		seal:     seal,
		jar:      jar,
		origin:   pub.Scheme + "://" + pub.Host,
		perms:    newPermCache(cfg.CacheSize),
		callback: pub.Scheme + "://" + pub.Host + strings.TrimSuffix(pub.Path, "/") + CallbackPath,
	}
	a.oauth = oauth2.Config{
		ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret,
		Endpoint: oauth2.Endpoint{
			AuthURL: web + "/login/oauth/authorize", TokenURL: web + "/login/oauth/access_token",
			AuthStyle: oauth2.AuthStyleInParams,
		},
		RedirectURL: a.callback,
	}
	a.refresh = newRefresher(a)
	a.revoked = newRevoked(cfg.CacheSize)
	return a, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// CallbackURL is the URL to register as the App's callback URL.
func (a *Authenticator) CallbackURL() string { return a.callback }

// Routes registers GET /login, GET /oauth/callback and POST /logout.
func (a *Authenticator) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /login", a.login)
	mux.HandleFunc("GET "+CallbackPath, a.oauthCallback)
	mux.HandleFunc("POST /logout", a.logout)
}

// session is what the session cookie holds, sealed.
type session struct {
	Login    string `json:"l"`
	ID       int64  `json:"i"`
	Token    string `json:"t"`
	Refresh  string `json:"r,omitempty"`
	TokenExp int64  `json:"te,omitempty"` // unix seconds; 0: the token does not expire
	Exp      int64  `json:"e"`            // unix seconds: the sign-in ends
	CSRF     string `json:"c"`
}

type ctxKey struct{}

// Handler wraps the pages: it reads the session once per request and,
// when the user's token has expired and a refresh token is at hand,
// renews it and rewrites the cookie before the page is served.
func (a *Authenticator) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok := a.readSession(r)
		if ok && a.tokenExpired(s) {
			fresh, err := a.refresh.do(r.Context(), s)
			if err != nil {
				a.jar.clear(w, sessionCookie)
				ok = false
			} else {
				s = fresh
				if v, err := a.seal.seal(sessionCookie, s); err == nil {
					a.jar.set(w, sessionCookie, v, time.Unix(s.Exp, 0).Sub(a.cfg.Now()))
				}
			}
		}
		if ok {
			r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, s))
		} else {
			r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, session{}))
		}
		next.ServeHTTP(w, r)
	})
}

// readSession opens the session cookie; ok is false when there is none,
// it was not made by this server, or the sign-in has ended.
func (a *Authenticator) readSession(r *http.Request) (session, bool) {
	c, err := r.Cookie(a.jar.name(sessionCookie))
	if err != nil {
		return session{}, false
	}
	var s session
	if a.seal.open(sessionCookie, c.Value, &s) != nil || s.Token == "" || s.CSRF == "" || a.revoked.has(s.Token) {
		return session{}, false
	}
	if !a.cfg.Now().Before(time.Unix(s.Exp, 0)) {
		return session{}, false
	}
	return s, true
}

// tokenExpired: the user's token is past its expiry, or within a minute
// of it (a request that starts now must not find it dead at GitHub).
func (a *Authenticator) tokenExpired(s session) bool {
	return s.TokenExp != 0 && !a.cfg.Now().Add(time.Minute).Before(time.Unix(s.TokenExp, 0))
}

// current is the request's live session: from Handler when it ran, else
// from the cookie. A session whose token has expired is no session.
func (a *Authenticator) current(r *http.Request) (session, bool) {
	s, ok := r.Context().Value(ctxKey{}).(session)
	if !ok {
		s, ok = a.readSession(r)
	}
	if !ok || s.Token == "" || a.revoked.has(s.Token) || (s.TokenExp != 0 && !a.cfg.Now().Before(time.Unix(s.TokenExp, 0))) {
		return session{}, false
	}
	return s, true
}

// CurrentUser is the signed-in user.
func (a *Authenticator) CurrentUser(r *http.Request) (User, bool) {
	s, ok := a.current(r)
	if !ok {
		return User{}, false
	}
	return User{Login: s.Login, ID: s.ID}, true
}

// CurrentLogin is the signed-in user's login.
func (a *Authenticator) CurrentLogin(r *http.Request) (string, bool) {
	u, ok := a.CurrentUser(r)
	return u.Login, ok
}

// LoginRedirect sends the browser to sign in and come back to r's page;
// after a form's POST, whose body would be lost anyway, back to the page
// the form was on when that is on this site.
//
// A session whose token has only expired is renewed here when it has a
// refresh token: the new cookie is set and the browser sent back to the
// same page, without a trip through GitHub's pages. (Handler does the
// same before the page, for servers that wrap their pages in it.)
func (a *Authenticator) LoginRedirect(w http.ResponseWriter, r *http.Request) {
	next := "/"
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		next = r.URL.RequestURI()
	} else if ref, err := url.Parse(r.Referer()); err == nil && ref.Scheme+"://"+ref.Host == a.origin {
		next = ref.RequestURI()
	}
	next = safeNext(next)
	if s, ok := a.readSession(r); ok && a.tokenExpired(s) {
		if fresh, err := a.refresh.do(r.Context(), s); err == nil && a.setSession(w, fresh) == nil {
			http.Redirect(w, r, next, http.StatusSeeOther)
			return
		}
		a.jar.clear(w, sessionCookie)
	}
	http.Redirect(w, r, "/login?next="+url.QueryEscape(next), http.StatusSeeOther)
}

package githubtest

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"
)

// CredentialKind says what credential an API request presented.
type CredentialKind string

const (
	CredNone              CredentialKind = "none"               // no Authorization header
	CredAppJWT            CredentialKind = "app_jwt"            // "Bearer <a.b.c>" (a JWT, valid or not)
	CredInstallationToken CredentialKind = "installation_token" // "token <t>" or "Bearer <t>" that is not a JWT
	CredUserToken         CredentialKind = "user_token"         // "token ghu_…" or "Bearer ghu_…" (oauth.go)
	CredOther             CredentialKind = "other"              // e.g. Basic auth
)

// Call is one REST API request as the server saw it.
type Call struct {
	Time   time.Time
	Method string
	// Path is the request path without the /api/v3 prefix, e.g.
	// /repos/acme/widgets/check-runs/1001; Query is the raw query string.
	Path  string
	Query string
	// Route is the matched route template without the prefix, e.g.
	// "POST /repos/{owner}/{repo}/check-runs", or "(unmatched)".
	Route  string
	Status int
	// Cred is the kind of credential presented; Authenticated says whether
	// it was accepted (false for unauthenticated and rejected requests).
	Cred          CredentialKind
	Authenticated bool
	// AppID is the App behind the credential (JWT issuer or token's
	// installation), InstallationID the installation for tokens.
	AppID          int64
	InstallationID int64
}

// Calls returns every API request recorded since New or the last ResetCalls.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// ResetCalls forgets the recorded API requests (git requests are separate).
func (s *Server) ResetCalls() {
	s.mu.Lock()
	s.calls = nil
	s.mu.Unlock()
}

// CallsTo returns the recorded calls whose Route equals route, e.g.
// "PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}".
func (s *Server) CallsTo(route string) []Call {
	var out []Call
	for _, c := range s.Calls() {
		if c.Route == route {
			out = append(out, c)
		}
	}
	return out
}

// reqCtx carries what authentication established for one request.
type reqCtx struct {
	route string
	cred  CredentialKind
	authn bool
	app   *App
	inst  *installation
	tok   *token
	repo  *Repo
	user  *user // behind a user access token (oauth.go)
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, rc *reqCtx)

// statusWriter remembers the status code written.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if h, ok := w.ResponseWriter.(http.Hijacker); ok {
		return h.Hijack()
	}
	return nil, nil, errors.New("githubtest: hijack not supported")
}

// handle registers an API route. pattern is a net/http pattern including
// the /api/v3 prefix; the route recorded in Calls drops the prefix.
func (s *Server) handle(pattern string, mode authMode, h handlerFunc) {
	route := strings.Replace(pattern, "/api/v3", "", 1)
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		rc := &reqCtx{route: route, cred: classifyCredential(r.Header.Get("Authorization"))}
		defer s.record(r, rc, sw)
		if s.inOutage(sw, r, route) {
			return
		}
		if !s.authenticate(sw, r, rc, mode) {
			return
		}
		if !s.spendRateLimit(sw, r, rc) {
			return
		}
		h(sw, r, rc)
	})
}

func (s *Server) record(r *http.Request, rc *reqCtx, sw *statusWriter) {
	status := sw.status
	if status == 0 {
		status = http.StatusOK
	}
	c := Call{
		Method:        r.Method,
		Path:          strings.TrimPrefix(r.URL.Path, "/api/v3"),
		Query:         r.URL.RawQuery,
		Route:         rc.route,
		Status:        status,
		Cred:          rc.cred,
		Authenticated: rc.authn,
	}
	if rc.app != nil {
		c.AppID = rc.app.ID
	}
	if rc.inst != nil {
		c.InstallationID = rc.inst.id
	}
	s.mu.Lock()
	c.Time = s.nowLocked()
	s.calls = append(s.calls, c)
	s.mu.Unlock()
}

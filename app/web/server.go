package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"time"

	"github.com/rs/zerolog"

	"github.com/stagegate/stagegate/app/store"
)

// Artifacts opens a run's stored artifacts: a local directory per run
// today (DirArtifacts), an object store elsewhere.
type Artifacts interface {
	// Open returns the artifact at path, relative to the run's artifact
	// store and slash-separated. The caller closes it.
	Open(ctx context.Context, run store.Run, path string) (io.ReadCloser, error)
}

// DirArtifacts are artifacts kept in a directory per run.
type DirArtifacts struct {
	// Dir is the run's artifact directory.
	Dir func(run store.Run) string
}

// Open implements Artifacts. The file is opened through an os.Root, so
// neither ".." nor a symbolic link a build left leads out of the run's
// directory.
func (d DirArtifacts) Open(_ context.Context, run store.Run, path string) (io.ReadCloser, error) {
	root, err := os.OpenRoot(d.Dir(run))
	if err != nil {
		return nil, fmt.Errorf("artifacts of run %s: %w", run.ID, err)
	}
	defer root.Close()
	f, err := root.Open(path)
	if err != nil {
		return nil, fmt.Errorf("artifact %s of run %s: %w", path, run.ID, err)
	}
	return f, nil
}

// Config is what the pages are made of.
type Config struct {
	Store *store.DB
	// Auth says who is signed in and what they may see; PublicOnly until
	// sign-in is configured.
	Auth Auth
	// Actions are the run page's buttons; nil shows none.
	Actions Actions
	// Artifacts serves the artifacts; nil lists them without links.
	Artifacts Artifacts
	// Hub wakes streams when a run writes; nil leaves them to the poll.
	Hub *Hub
	// PollEvery is how often a stream reads the store when nothing woke
	// it (default 1 s).
	PollEvery time.Duration
	// MaxStreams bounds the live streams served at once (default 256);
	// more are refused with 503 and retried by the browser.
	MaxStreams int
	// StreamFor bounds one stream's life (default 10 minutes); the
	// browser reconnects and resumes from the last line it got.
	StreamFor time.Duration
	Logger    zerolog.Logger
}

// Server serves the pages.
type Server struct {
	cfg     Config
	streams chan struct{}
	pages   *templates
	graphs  *graphCache
	plans   *planCache
}

// New makes the pages' server.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("web: a store is required")
	}
	if cfg.Auth == nil {
		cfg.Auth = PublicOnly{}
	}
	if cfg.Hub == nil {
		cfg.Hub = NewHub()
	}
	if cfg.PollEvery <= 0 {
		cfg.PollEvery = time.Second
	}
	if cfg.MaxStreams <= 0 {
		cfg.MaxStreams = 256
	}
	if cfg.StreamFor <= 0 {
		cfg.StreamFor = 10 * time.Minute
	}
	t, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	return &Server{cfg: cfg, streams: make(chan struct{}, cfg.MaxStreams), pages: t,
		graphs: newGraphCache(cfg.PollEvery / 2), plans: newPlanCache()}, nil
}

// Routes registers the pages on mux. GitHub logins and repository names
// never start with "-", so the assets' /-/ cannot shadow an owner.
func (s *Server) Routes(mux *http.ServeMux) {
	h := func(pattern string, f http.HandlerFunc) { mux.Handle(pattern, secure(f)) }
	h("GET /-/web.css", s.asset("web.css", "text/css; charset=utf-8"))
	h("GET /-/web.js", s.asset("web.js", "text/javascript; charset=utf-8"))
	h("GET /{owner}", s.orgPage)
	h("GET /{owner}/{repo}", s.repoPage)
	h("GET /{owner}/{repo}/badge.svg", s.badge)
	h("GET /{owner}/{repo}/runs/{id}", s.runPage)
	h("GET /{owner}/{repo}/runs/{id}/events", s.events)
	h("GET /{owner}/{repo}/runs/{id}/log.txt", s.rawLog)
	h("GET /{owner}/{repo}/runs/{id}/artifacts/{path...}", s.artifact)
	h("POST /{owner}/{repo}/runs/{id}/{button}", s.button)
}

// secure adds the headers every page carries: scripts and styles only
// from this server, no framing, no content sniffing, no referrer to
// other sites.
func secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
			"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// namePattern is what GitHub allows in an owner's or repository's name.
var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)

// access is what the asker may do on a repository.
type access struct {
	login      string
	permission string
	// private is the repository's visibility: what a shared cache may
	// keep depends on it.
	private bool
}

// canWrite reports whether the asker holds at least write: the rule of
// /rerun and /cancel.
func (a access) canWrite() bool {
	switch a.permission {
	case "admin", "maintain", "write":
		return true
	}
	return false
}

// authorize decides whether the request may see owner/repo. It answers
// the request itself and returns ok=false when not: a private
// repository's page sends a signed-out user to sign in, and answers 404
// to a user who cannot read it, as GitHub does, so that its existence
// is not told.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) (repo string, acc access, ok bool) {
	owner, name := r.PathValue("owner"), r.PathValue("repo")
	if !namePattern.MatchString(owner) || !namePattern.MatchString(name) || name == "." || name == ".." {
		http.NotFound(w, r)
		return "", access{}, false
	}
	repo = owner + "/" + name
	private, err := s.cfg.Store.RepoPrivate(r.Context(), repo)
	if err != nil {
		s.fail(w, r, err)
		return "", access{}, false
	}
	login, signedIn := s.cfg.Auth.CurrentLogin(r)
	acc.login, acc.private = login, private
	if signedIn {
		perm, err := s.cfg.Auth.Permission(r.Context(), r, owner, name)
		switch {
		case err != nil && private:
			s.fail(w, r, fmt.Errorf("permission of %s on %s: %w", login, repo, err))
			return "", access{}, false
		case err != nil:
			// A public page is still shown, without the buttons.
			s.cfg.Logger.Warn().Err(err).Str("repo", repo).Msg("permission of the signed-in user")
		}
		acc.permission = perm
	}
	if !private {
		return repo, acc, true
	}
	if !signedIn {
		s.cfg.Auth.LoginRedirect(w, r)
		return "", access{}, false
	}
	if acc.permission == "" {
		http.NotFound(w, r)
		return "", access{}, false
	}
	return repo, acc, true
}

// fail answers 500 without telling the client why, and logs why.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		return
	}
	s.cfg.Logger.Error().Err(err).Str("path", r.URL.Path).Msg("web page")
	http.Error(w, "stagegate could not show this page; the server's log says why", http.StatusInternalServerError)
}

// PublicOnly is the Auth of a server without sign-in: nobody is signed
// in, so public repositories' pages are shown and private ones are not
// found. It never lets a button be pressed.
type PublicOnly struct{}

// CurrentLogin implements Auth: nobody.
func (PublicOnly) CurrentLogin(*http.Request) (string, bool) { return "", false }

// LoginRedirect implements Auth: there is no sign-in, so the page is not
// found.
func (PublicOnly) LoginRedirect(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }

// Permission implements Auth: none.
func (PublicOnly) Permission(context.Context, *http.Request, string, string) (string, error) {
	return "", nil
}

// CSRFToken implements Auth: no forms are shown.
func (PublicOnly) CSRFToken(*http.Request) string { return "" }

// VerifyCSRF implements Auth: no POST is accepted.
func (PublicOnly) VerifyCSRF(*http.Request) bool { return false }

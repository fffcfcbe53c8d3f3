package githubtest

import (
	"bytes"
	"io"
	"net/http"
	"net/http/cgi"
	"os"
	"strings"
	"time"
)

// GitRequest is one request to the git smart-HTTP endpoint.
type GitRequest struct {
	Time   time.Time
	Method string
	Host   string // the Host the client asked for, as in its clone URL
	Path   string // e.g. /acme/widgets.git/info/refs
	Query  string
	Owner  string
	Repo   string
	// Service is git-upload-pack (clone/fetch) or git-receive-pack (push).
	Service string
	// Username is the Basic-auth user name presented ("" if none);
	// AuthOK says whether the credentials were accepted for this repo.
	Username       string
	AuthOK         bool
	InstallationID int64
	// Scope is what the presented token may reach (see TokenScope).
	Scope  TokenScope
	Status int
	Stderr string // what git http-backend wrote to stderr
}

// GitRequests returns every request made to the git endpoint.
func (s *Server) GitRequests() []GitRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]GitRequest(nil), s.gitRequests...)
}

// serveGit serves git smart HTTP at /{owner}/{repo}.git/ through the real
// `git http-backend` (CGI). Like GitHub it wants HTTP Basic auth with user
// x-access-token and an installation token as password; fetching needs
// contents:read and pushing contents:write. The dumb protocol is not served.
func (s *Server) serveGit(w http.ResponseWriter, r *http.Request) {
	sw := &statusWriter{ResponseWriter: w}
	gr := GitRequest{Method: r.Method, Host: r.Host, Path: r.URL.Path, Query: r.URL.RawQuery}
	defer func() {
		gr.Status = sw.status
		if gr.Status == 0 {
			gr.Status = http.StatusOK
		}
		s.mu.Lock()
		gr.Time = s.nowLocked()
		s.gitRequests = append(s.gitRequests, gr)
		s.mu.Unlock()
	}()

	parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 3)
	if len(parts) != 3 || !strings.HasSuffix(parts[1], ".git") {
		http.NotFound(sw, r)
		return
	}
	gr.Owner, gr.Repo = parts[0], strings.TrimSuffix(parts[1], ".git")
	switch {
	case parts[2] == "info/refs" && r.Method == http.MethodGet:
		gr.Service = r.URL.Query().Get("service")
	case (parts[2] == "git-upload-pack" || parts[2] == "git-receive-pack") && r.Method == http.MethodPost:
		gr.Service = parts[2]
	}
	if gr.Service != "git-upload-pack" && gr.Service != "git-receive-pack" {
		http.NotFound(sw, r)
		return
	}

	user, pass, ok := r.BasicAuth()
	gr.Username = user
	if !ok || user != "x-access-token" {
		gitUnauthorized(sw)
		return
	}
	s.mu.Lock()
	tok, status, _ := s.lookupTokenLocked(pass)
	repo := s.repos[repoKey(gr.Owner, gr.Repo)]
	covered := tok != nil && repo != nil && s.tokenCoversLocked(tok, repo)
	var slug string
	if tok != nil {
		gr.InstallationID = tok.installationID
		gr.Scope = s.tokenScopeLocked(tok)
		slug = s.apps[tok.appID].Slug
	}
	s.mu.Unlock()
	switch {
	case status == http.StatusUnauthorized:
		gitUnauthorized(sw)
		return
	case status != 0:
		http.Error(sw, "This installation has been suspended", status)
		return
	case !covered:
		http.Error(sw, "Repository not found.", http.StatusNotFound)
		return
	}
	push := gr.Service == "git-receive-pack"
	if (push && !hasPerm(tok.permissions, "contents", "write")) || !hasPerm(tok.permissions, "contents", "read") {
		http.Error(sw, "Permission to "+repo.FullName()+".git denied to "+slug+"[bot].", http.StatusForbidden)
		return
	}
	gr.AuthOK = true
	s.waitGitHold(r, gr.Owner, gr.Repo)

	// net/http/cgi refuses chunked bodies, which git uses for large
	// requests; buffer them so the backend sees a Content-Length.
	if len(r.TransferEncoding) > 0 {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<30))
		if err != nil {
			http.Error(sw, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body, r.ContentLength, r.TransferEncoding = io.NopCloser(bytes.NewReader(body)), int64(len(body)), nil
	}
	r.Header.Del("Authorization") // keep the token out of the CGI environment
	env := []string{
		"GIT_PROJECT_ROOT=" + s.gitRoot,
		"GIT_HTTP_EXPORT_ALL=1",
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=" + os.DevNull,
		"REMOTE_USER=" + slug + "[bot]",
	}
	if push {
		env = append(env, "GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=http.receivepack", "GIT_CONFIG_VALUE_0=true")
	}
	var stderr bytes.Buffer
	h := &cgi.Handler{Path: s.gitBin, Args: []string{"http-backend"}, Env: env, Stderr: &stderr}
	h.ServeHTTP(sw, r)
	gr.Stderr = stderr.String()
}

func gitUnauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Basic realm="GitHub"`)
	http.Error(w, "Invalid username or token. Password authentication is not supported for Git operations.", http.StatusUnauthorized)
}

package githubtest

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
)

// Repo is a repository hosted by the server, backed by a bare git
// repository on disk.
type Repo struct {
	ID            int64
	Owner, Name   string
	DefaultBranch string
	Private       bool

	s         *Server
	dir       string
	ownerID   int64
	createdAt time.Time

	mu       sync.Mutex // serializes writes (Commit, Tag, DeleteBranch)
	lastTime int64      // last commit timestamp, kept strictly increasing
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

func repoKey(owner, name string) string { return strings.ToLower(owner + "/" + name) }

// AddRepo creates owner/name as an empty private repository whose default
// branch is main. Its first [Repo.Commit] creates the branch.
func (s *Server) AddRepo(owner, name string) *Repo {
	s.t.Helper()
	if !nameRE.MatchString(owner) || !nameRE.MatchString(name) || name == "." || name == ".." {
		s.t.Fatalf("githubtest: AddRepo: invalid name %q/%q", owner, name)
	}
	dir := filepath.Join(s.gitRoot, owner, name+".git")
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		s.t.Fatalf("githubtest: AddRepo: %v", err)
	}
	if _, err := s.git("", nil, "init", "--quiet", "--bare", "--initial-branch=main", dir); err != nil {
		s.t.Fatalf("githubtest: AddRepo: %v", err)
	}
	// GitHub lets clients fetch any reachable commit by sha, which is what
	// `git fetch --depth=1 origin <sha>` needs.
	for _, kv := range [][2]string{
		{"uploadpack.allowAnySHA1InWant", "true"},
		{"uploadpack.allowReachableSHA1InWant", "true"},
		{"uploadpack.allowTipSHA1InWant", "true"},
	} {
		if _, err := s.git(dir, nil, "config", kv[0], kv[1]); err != nil {
			s.t.Fatalf("githubtest: AddRepo: %v", err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.repos[repoKey(owner, name)] != nil {
		s.t.Fatalf("githubtest: AddRepo: %s/%s exists", owner, name)
	}
	r := &Repo{
		ID:            s.newIDLocked(),
		Owner:         owner,
		Name:          name,
		DefaultBranch: "main",
		Private:       true,
		s:             s,
		dir:           dir,
		ownerID:       s.accountIDLocked(owner),
		createdAt:     s.nowLocked(),
	}
	s.repos[repoKey(owner, name)] = r
	return r
}

// Repo returns the repository owner/name, or nil.
func (s *Server) Repo(owner, name string) *Repo {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.repos[repoKey(owner, name)]
}

// FullName is "owner/name".
func (r *Repo) FullName() string { return r.Owner + "/" + r.Name }

// CloneURL is the smart-HTTP URL, srv.URL + "/owner/name.git".
func (r *Repo) CloneURL() string { return r.s.URL + "/" + r.FullName() + ".git" }

// HTMLURL is the repository's web URL, srv.URL + "/owner/name".
func (r *Repo) HTMLURL() string { return r.s.URL + "/" + r.FullName() }

// APIURL is the repository's REST URL, srv.URL + "/api/v3/repos/owner/name".
func (r *Repo) APIURL() string { return r.s.URL + "/api/v3/repos/" + r.FullName() }

// Dir is the bare repository's path on disk.
func (r *Repo) Dir() string { return r.dir }

func (s *Server) sortedReposLocked() []*Repo {
	out := make([]*Repo, 0, len(s.repos))
	for _, r := range s.repos {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (s *Server) repoByIDLocked(id int64) *Repo {
	for _, r := range s.repos {
		if r.ID == id {
			return r
		}
	}
	return nil
}

func (s *Server) repoRoutes() {
	s.handle("GET /api/v3/repos/{owner}/{repo}", authRepo("metadata", "read").orUser(), s.getRepo)
	s.handle("GET /api/v3/repos/{owner}/{repo}/contents", authRepo("contents", "read"), s.getContents)
	s.handle("GET /api/v3/repos/{owner}/{repo}/contents/{path...}", authRepo("contents", "read"), s.getContents)
	s.handle("GET /api/v3/repos/{owner}/{repo}/compare/{basehead...}", authRepo("contents", "read"), s.compare)
	s.handle("GET /api/v3/repos/{owner}/{repo}/commits/{rest...}", authRepo("", ""), s.commitsDispatch)
}

// commitsDispatch routes /repos/{o}/{r}/commits/{ref}/<what>: refs may
// contain slashes (go-github keeps them), so the suffix is matched here
// against the table in commit_routes.go.
func (s *Server) commitsDispatch(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	rest := r.PathValue("rest")
	for _, sub := range s.commitSubroutes() {
		ref, ok := strings.CutSuffix(rest, "/"+sub.suffix)
		if !ok || ref == "" {
			continue
		}
		rc.route = "GET /repos/{owner}/{repo}/commits/{ref}/" + sub.suffix
		if !requirePerm(w, rc, sub.perms...) {
			return
		}
		sub.h(w, r, rc, ref)
		return
	}
	rc.route = "(unmatched)"
	writeNotFound(w)
}

func (s *Server) getRepo(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	s.mu.Lock()
	body := s.repoJSONLocked(rc.repo)
	if rc.user != nil {
		// A user's token also says what the user may do (oauth.go).
		body["permissions"] = roleFlags(s.roleLocked(rc.repo, rc.user))
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, body)
}

func (s *Server) repoJSONLocked(r *Repo) map[string]any {
	visibility := "public"
	if r.Private {
		visibility = "private"
	}
	api := r.APIURL()
	return map[string]any{
		"id":             r.ID,
		"node_id":        nodeID("010:Repository", r.ID),
		"name":           r.Name,
		"full_name":      r.FullName(),
		"private":        r.Private,
		"visibility":     visibility,
		"owner":          s.accountJSON(r.Owner, r.ownerID, s.ownerTypeLocked(r)),
		"html_url":       r.HTMLURL(),
		"description":    nil,
		"fork":           s.forks[r.ID] != 0,
		"url":            api,
		"commits_url":    api + "/commits{/sha}",
		"contents_url":   api + "/contents/{+path}",
		"compare_url":    api + "/compare/{base}...{head}",
		"pulls_url":      api + "/pulls{/number}",
		"clone_url":      r.CloneURL(),
		"git_url":        strings.Replace(r.CloneURL(), "http", "git", 1),
		"ssh_url":        "git@" + strings.TrimPrefix(strings.TrimPrefix(s.URL, "http://"), "https://") + ":" + r.FullName() + ".git",
		"default_branch": r.DefaultBranch,
		"archived":       false,
		"disabled":       false,
		"created_at":     iso(r.createdAt),
		"updated_at":     iso(r.createdAt),
		"topics":         []string{},
	}
}

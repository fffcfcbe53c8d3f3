package githubtest

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

const (
	docCreateStatus   = "https://docs.github.com/rest/commits/statuses#create-a-commit-status"
	docCombinedStatus = "https://docs.github.com/rest/commits/statuses#get-the-combined-status-for-a-specific-reference"
	// maxStatusesPerContext is GitHub's cap on statuses per sha and context.
	maxStatusesPerContext = 1000
	// statusHelperUser creates the statuses of [Server.CreateStatus]: an
	// outside CI system posting with a user's token.
	statusHelperUser = "ci-runner"
)

var commitStateEnum = []string{"error", "failure", "pending", "success"}

// CommitStatus is a commit status.
type CommitStatus struct {
	ID          int64
	Owner, Repo string
	SHA         string
	Context     string // "default" when not given
	State       string // error, failure, pending, success
	Description string
	TargetURL   string
	Creator     string // login: "<slug>[bot]" for an App, else "ci-runner"
	AppID       int64  // the App that created it, 0 for CreateStatus
	CreatedAt   time.Time
}

// CreateStatus records a commit status on sha as an outside CI system
// (user "ci-runner") would, and returns its id.
func (s *Server) CreateStatus(owner, repo, sha, context, state string) int64 {
	s.t.Helper()
	r := s.Repo(owner, repo)
	if r == nil || !r.hasCommit(sha) {
		s.t.Fatalf("githubtest: CreateStatus: %s is not a commit of %s/%s", sha, owner, repo)
	}
	if !oneOf(state, commitStateEnum...) {
		s.t.Fatalf("githubtest: CreateStatus: state %q is not one of %v", state, commitStateEnum)
	}
	if context == "" {
		context = "default"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.ensureUserLocked(statusHelperUser)
	if err != nil {
		s.t.Fatalf("githubtest: CreateStatus: %v", err)
	}
	return s.addStatusLocked(&CommitStatus{Owner: r.Owner, Repo: r.Name, SHA: sha, Context: context, State: state, Creator: u.login}).ID
}

func (s *Server) addStatusLocked(st *CommitStatus) *CommitStatus {
	st.ID, st.CreatedAt = s.newIDLocked(), s.nowLocked()
	s.statuses = append(s.statuses, st)
	return st
}

// Statuses returns copies of owner/repo's commit statuses, oldest first.
func (s *Server) Statuses(owner, repo string) []CommitStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []CommitStatus
	for _, st := range s.statuses {
		if repoKey(st.Owner, st.Repo) == repoKey(owner, repo) {
			out = append(out, *st)
		}
	}
	return out
}

func (s *Server) statusRoutes() {
	s.handle("POST /api/v3/repos/{owner}/{repo}/statuses/{sha}", authRepo("statuses", "write"), s.createStatus)
}

func (s *Server) createStatus(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	body, _, ok := decodeBody(w, r)
	if !ok {
		return
	}
	v := &validator{}
	v.required(body, "state")
	state := v.enum(body, "", "state", commitStateEnum)
	target := v.nullableStr(body, "", "target_url")
	desc := v.nullableStr(body, "", "description")
	context := v.str(body, "", "context")
	if len(v.lines) > 0 {
		writeInvalidRequest(w, docCreateStatus, v.lines)
		return
	}
	sha := r.PathValue("sha")
	if !rc.repo.hasCommit(sha) {
		writeError(w, http.StatusUnprocessableEntity, "No commit found for SHA: "+sha, docCreateStatus)
		return
	}
	ctxName := "default"
	if context != nil && *context != "" {
		ctxName = *context
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, st := range s.statuses {
		if st.SHA == sha && st.Context == ctxName && repoKey(st.Owner, st.Repo) == repoKey(rc.repo.Owner, rc.repo.Name) {
			n++
		}
	}
	if n >= maxStatusesPerContext {
		writeValidationFailed(w, docCreateStatus, fieldError{Resource: "Status", Code: "custom", Field: "context",
			Message: "This SHA and context has reached the maximum number of statuses."})
		return
	}
	st := s.addStatusLocked(&CommitStatus{
		Owner: rc.repo.Owner, Repo: rc.repo.Name, SHA: sha, Context: ctxName, State: *state,
		Description: deref(desc), TargetURL: deref(target), Creator: s.botLocked(rc.app).login, AppID: rc.app.ID,
	})
	resp := s.statusJSONLocked(st)
	w.Header().Set("Location", fmt.Sprint(resp["url"]))
	writeJSON(w, http.StatusCreated, resp)
}

// latestStatusesLocked returns the newest status of each context on sha,
// newest first.
func (s *Server) latestStatusesLocked(r *Repo, sha string) []*CommitStatus {
	seen := map[string]bool{}
	var out []*CommitStatus
	for i := len(s.statuses) - 1; i >= 0; i-- {
		st := s.statuses[i]
		if st.SHA != sha || repoKey(st.Owner, st.Repo) != repoKey(r.Owner, r.Name) || seen[st.Context] {
			continue
		}
		seen[st.Context] = true
		out = append(out, st)
	}
	return out
}

// combinedState is GitHub's rule: failure if any context is error or
// failure, pending if any is pending or there are none, else success.
func combinedState(latest []*CommitStatus) string {
	state := "success"
	if len(latest) == 0 {
		state = "pending"
	}
	for _, st := range latest {
		switch st.State {
		case "error", "failure":
			return "failure"
		case "pending":
			state = "pending"
		}
	}
	return state
}

// combinedStatus is GET /repos/{o}/{r}/commits/{ref}/status. An unknown
// ref gets the same 422 as the check-runs listing (judgement).
func (s *Server) combinedStatus(w http.ResponseWriter, r *http.Request, rc *reqCtx, ref string) {
	sha, ok := rc.repo.resolveCommit(ref)
	if !ok {
		writeError(w, http.StatusUnprocessableEntity, "No commit found for SHA: "+ref, docCombinedStatus)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	latest := s.latestStatusesLocked(rc.repo, sha)
	lo, hi := page(w, r, s.URL, len(latest))
	out := []any{}
	for _, st := range latest[lo:hi] {
		out = append(out, s.statusJSONLocked(st))
	}
	repoJSON := s.repoJSONLocked(rc.repo)
	mini := map[string]any{}
	for _, k := range []string{"id", "node_id", "name", "full_name", "private", "owner", "html_url", "description", "fork", "url"} {
		mini[k] = repoJSON[k]
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"state": combinedState(latest), "statuses": out, "sha": sha, "total_count": len(latest),
		"repository": mini, "commit_url": rc.repo.APIURL() + "/commits/" + sha,
		"url": rc.repo.APIURL() + "/commits/" + sha + "/status",
	})
}

// listStatusesForRef is GET /repos/{o}/{r}/commits/{ref}/statuses: every
// status on the commit, newest first.
func (s *Server) listStatusesForRef(w http.ResponseWriter, r *http.Request, rc *reqCtx, ref string) {
	sha, ok := rc.repo.resolveCommit(ref)
	if !ok {
		writeError(w, http.StatusUnprocessableEntity, "No commit found for SHA: "+ref, docCombinedStatus)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var list []*CommitStatus
	for i := len(s.statuses) - 1; i >= 0; i-- {
		if st := s.statuses[i]; st.SHA == sha && repoKey(st.Owner, st.Repo) == repoKey(rc.repo.Owner, rc.repo.Name) {
			list = append(list, st)
		}
	}
	lo, hi := page(w, r, s.URL, len(list))
	out := []any{}
	for _, st := range list[lo:hi] {
		out = append(out, s.statusJSONLocked(st))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) statusJSONLocked(st *CommitStatus) map[string]any {
	repo := s.repos[repoKey(st.Owner, st.Repo)]
	u := s.users[strings.ToLower(st.Creator)]
	return map[string]any{
		"url": repo.APIURL() + "/statuses/" + st.SHA, "avatar_url": s.URL + "/avatars/" + u.login,
		"id": st.ID, "node_id": nodeID("013:StatusContext", st.ID), "state": st.State,
		"description": strOrNil(st.Description), "target_url": strOrNil(st.TargetURL), "context": st.Context,
		"created_at": iso(st.CreatedAt), "updated_at": iso(st.CreatedAt), "creator": s.userJSON(u),
	}
}

// commitContextsLocked is what a deployment's status check looks at: the
// latest commit status of each context and the latest check run of each
// App and name on sha, each as a context name and a status-like state
// (a check run is pending until completed, then success for success,
// neutral and skipped, else failure). Sorted by context.
func (s *Server) commitContextsLocked(r *Repo, sha string) [][2]string {
	var out [][2]string
	for _, st := range s.latestStatusesLocked(r, sha) {
		out = append(out, [2]string{st.Context, st.State})
	}
	type key struct {
		app  int64
		name string
	}
	newest := map[key]*CheckRun{}
	for _, cr := range s.sortedCheckRunsLocked(r) {
		if cr.HeadSHA == sha {
			newest[key{cr.AppID, cr.Name}] = cr
		}
	}
	for _, cr := range newest {
		state := "pending"
		if cr.Status == "completed" {
			state = "failure"
			if oneOf(cr.Conclusion, "success", "neutral", "skipped") {
				state = "success"
			}
		}
		out = append(out, [2]string{cr.Name, state})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

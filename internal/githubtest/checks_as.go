package githubtest

import (
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

const docListCheckSuites = "https://docs.github.com/rest/checks/suites#list-check-suites-for-a-git-reference"

// CreateCheckRunAs creates a check run as app (another CI, such as GitHub
// Actions, registered with [Server.AddApp] and installed with
// [App.AddInstallation]) and returns its id. status "" is queued, or
// completed when a conclusion is given; other Apps' statuses and
// conclusions follow GitHub's enums (waiting, requested and pending too,
// which GitHub Actions may set).
func (s *Server) CreateCheckRunAs(app *App, owner, repo, sha, name, status, conclusion string) int64 {
	s.t.Helper()
	r := s.Repo(owner, repo)
	if r == nil || !r.hasCommit(sha) {
		s.t.Fatalf("githubtest: CreateCheckRunAs: %s is not a commit of %s/%s", sha, owner, repo)
	}
	return s.createCheckRunAs(app, r, suiteKey{appID: app.ID, repoID: r.ID, sha: sha}, name, status, conclusion)
}

// NewCheckSuiteAs makes another check suite of app on sha and returns its
// id, as GitHub Actions does for each workflow run: two workflows with a
// "build" job, or one workflow on both push and pull_request, put two
// "build" check runs on one commit, each in a suite of its own.
func (s *Server) NewCheckSuiteAs(app *App, owner, repo, sha string) int64 {
	s.t.Helper()
	r := s.Repo(owner, repo)
	if r == nil || !r.hasCommit(sha) {
		s.t.Fatalf("githubtest: NewCheckSuiteAs: %s is not a commit of %s/%s", sha, owner, repo)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := suiteKey{appID: app.ID, repoID: r.ID, sha: sha}
	for k.n = 1; ; k.n++ {
		if _, taken := s.checkSuites[k]; !taken {
			break
		}
	}
	id := s.newIDLocked()
	s.checkSuites[k] = id
	return id
}

// CreateCheckRunInSuiteAs is CreateCheckRunAs in app's check suite suite
// (from NewCheckSuiteAs).
func (s *Server) CreateCheckRunInSuiteAs(app *App, suite int64, name, status, conclusion string) int64 {
	s.t.Helper()
	s.mu.Lock()
	var key suiteKey
	found := false
	for k, id := range s.checkSuites {
		if id == suite {
			key, found = k, true
		}
	}
	r := s.repoByIDLocked(key.repoID)
	s.mu.Unlock()
	if !found || key.appID != app.ID || r == nil {
		s.t.Fatalf("githubtest: CreateCheckRunInSuiteAs: App %s has no check suite %d", app.Slug, suite)
	}
	return s.createCheckRunAs(app, r, key, name, status, conclusion)
}

func (s *Server) createCheckRunAs(app *App, r *Repo, key suiteKey, name, status, conclusion string) int64 {
	s.t.Helper()
	sha := key.sha
	if status == "" {
		status = "queued"
		if conclusion != "" {
			status = "completed"
		}
	}
	switch {
	case name == "":
		s.t.Fatalf("githubtest: CreateCheckRunAs: a name is required")
	case !oneOf(status, statusEnum...):
		s.t.Fatalf("githubtest: CreateCheckRunAs: status %q is not one of %v", status, statusEnum)
	case conclusion != "" && !oneOf(conclusion, conclusionEnum...):
		s.t.Fatalf("githubtest: CreateCheckRunAs: conclusion %q is not one of %v", conclusion, conclusionEnum)
	case (status == "completed") != (conclusion != ""):
		s.t.Fatalf("githubtest: CreateCheckRunAs: a conclusion goes with status completed, and only with it")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	inst := s.installationForLocked(app.ID, r)
	if inst == nil {
		s.t.Fatalf("githubtest: CreateCheckRunAs: App %s is not installed on %s", app.Slug, r.FullName())
	}
	now := s.nowLocked()
	suite, ok := s.checkSuites[key]
	if !ok {
		suite = s.newIDLocked()
		s.checkSuites[key] = suite
	}
	cr := &CheckRun{
		ID: s.newIDLocked(), Owner: r.Owner, Repo: r.Name, AppID: app.ID, InstallationID: inst.id, CheckSuiteID: suite,
		Name: name, HeadSHA: sha, Status: status, Conclusion: conclusion, StartedAt: now, CreatedAt: now,
	}
	req := map[string]any{"name": name, "head_sha": sha, "status": status}
	if conclusion != "" {
		cr.CompletedAt, req["conclusion"] = now, conclusion
	}
	raw, _ := json.Marshal(req)
	cr.History = []CheckRunUpdate{{Time: now, Method: http.MethodPost, Request: raw, Status: status, Conclusion: conclusion}}
	s.checkRuns[cr.ID] = cr
	return cr.ID
}

// CompleteCheckRunAs completes app's check run id with conclusion, as that
// App's PATCH would.
func (s *Server) CompleteCheckRunAs(app *App, id int64, conclusion string) {
	s.t.Helper()
	if !oneOf(conclusion, conclusionEnum...) {
		s.t.Fatalf("githubtest: CompleteCheckRunAs: conclusion %q is not one of %v", conclusion, conclusionEnum)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cr := s.checkRuns[id]
	if cr == nil || cr.AppID != app.ID {
		s.t.Fatalf("githubtest: CompleteCheckRunAs: App %s has no check run %d", app.Slug, id)
	}
	now := s.nowLocked()
	cr.Status, cr.Conclusion, cr.CompletedAt = "completed", conclusion, now
	raw, _ := json.Marshal(map[string]any{"conclusion": conclusion})
	cr.History = append(cr.History, CheckRunUpdate{Time: now, Method: http.MethodPatch, Request: raw, Status: cr.Status, Conclusion: conclusion})
}

// suiteConclusions orders check run conclusions by how strongly they
// decide a suite's conclusion (skipped counts only when all are skipped).
var suiteConclusions = []string{"action_required", "cancelled", "timed_out", "failure", "stale", "neutral", "success"}

// listCheckSuitesForRef is GET /repos/{o}/{r}/commits/{ref}/check-suites
// (filters app_id and check_name). A suite is completed when all its runs
// are, queued when all are queued, else in_progress; its conclusion is
// its runs' strongest, and skipped only when every run was skipped.
func (s *Server) listCheckSuitesForRef(w http.ResponseWriter, r *http.Request, rc *reqCtx, ref string) {
	q := r.URL.Query()
	var appID int64
	if v := q.Get("app_id"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			writeInvalidRequest(w, docListCheckSuites, []string{"For 'properties/app_id', " + rubyInspect(v) + " is not an integer."})
			return
		}
		appID = n
	}
	sha, ok := rc.repo.resolveCommit(ref)
	if !ok {
		writeError(w, http.StatusUnprocessableEntity, "No commit found for SHA: "+ref, docListCheckSuites)
		return
	}
	branch := rc.repo.branchAt(sha)
	s.mu.Lock()
	defer s.mu.Unlock()
	var keys []suiteKey
	for k := range s.checkSuites {
		if k.repoID == rc.repo.ID && k.sha == sha && (appID == 0 || k.appID == appID) {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return s.checkSuites[keys[i]] < s.checkSuites[keys[j]] })
	var out []any
	for _, k := range keys {
		id := s.checkSuites[k]
		var runs []*CheckRun
		named := !q.Has("check_name")
		for _, cr := range s.sortedCheckRunsLocked(rc.repo) {
			if cr.CheckSuiteID == id {
				runs = append(runs, cr)
				named = named || cr.Name == q.Get("check_name")
			}
		}
		if named {
			out = append(out, s.checkSuiteJSONLocked(rc.repo, id, k, runs, branch))
		}
	}
	total := len(out)
	lo, hi := page(w, r, s.URL, total)
	writeJSON(w, http.StatusOK, map[string]any{"total_count": total, "check_suites": append([]any{}, out[lo:hi]...)})
}

func (s *Server) checkSuiteJSONLocked(r *Repo, id int64, k suiteKey, runs []*CheckRun, branch string) map[string]any {
	status, conclusion := "queued", ""
	completed, queued, best := 0, 0, len(suiteConclusions)
	for _, cr := range runs {
		switch cr.Status {
		case "completed":
			completed++
			for i, c := range suiteConclusions {
				if c == cr.Conclusion && i < best {
					best = i
				}
			}
		case "queued":
			queued++
		}
	}
	switch {
	case len(runs) > 0 && completed == len(runs):
		status, conclusion = "completed", "skipped" // every run skipped
		if best < len(suiteConclusions) {
			conclusion = suiteConclusions[best]
		}
	case queued < len(runs):
		status = "in_progress"
	}
	created := s.nowLocked()
	if len(runs) > 0 {
		created = runs[0].CreatedAt
	}
	url := r.APIURL() + "/check-suites/" + strconv.FormatInt(id, 10)
	return map[string]any{
		"id": id, "node_id": nodeID("010:CheckSuite", id), "head_branch": strOrNil(branch), "head_sha": k.sha,
		"status": status, "conclusion": strOrNil(conclusion), "url": url, "before": nil, "after": k.sha,
		"pull_requests": s.checkRunPullsLocked(&CheckRun{Owner: r.Owner, Repo: r.Name, HeadSHA: k.sha}), "app": s.appJSONLocked(s.apps[k.appID]), "repository": s.repoJSONLocked(r),
		"created_at": iso(created), "updated_at": iso(created), "latest_check_runs_count": len(runs),
		"check_runs_url": url + "/check-runs", "rerequestable": true, "runs_rerequestable": true,
	}
}

// branchAt is the first branch (by name) whose tip is sha, or "".
func (r *Repo) branchAt(sha string) string {
	out, err := r.s.git(r.dir, nil, "for-each-ref", "--points-at", sha, "--format=%(refname:short)", "refs/heads")
	if err != nil {
		return ""
	}
	first, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return first
}

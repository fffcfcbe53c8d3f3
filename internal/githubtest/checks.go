package githubtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"time"
)

const (
	docCreateCheckRun = "https://docs.github.com/rest/checks/runs#create-a-check-run"
	docUpdateCheckRun = "https://docs.github.com/rest/checks/runs#update-a-check-run"
	docListCheckRuns  = "https://docs.github.com/rest/checks/runs#list-check-runs-for-a-git-reference"
)

// CheckRun is the server's record of a check run, for tests to inspect.
type CheckRun struct {
	ID             int64
	Owner, Repo    string
	AppID          int64
	InstallationID int64
	CheckSuiteID   int64
	Name           string
	HeadSHA        string
	ExternalID     string
	DetailsURL     string // as given by the App ("" if never given)
	Status         string // queued, in_progress, completed
	Conclusion     string // "" until completed
	StartedAt      time.Time
	CompletedAt    time.Time // zero until completed
	Output         CheckRunOutput
	Actions        []CheckRunAction
	CreatedAt      time.Time
	// History has one entry per accepted request: the create, then each
	// update, with the request body exactly as sent.
	History []CheckRunUpdate
}

// CheckRunOutput is a check run's output. Annotations accumulate across
// updates, as on GitHub; Title, Summary and Text are the latest.
type CheckRunOutput struct {
	Title, Summary, Text string
	Annotations          []Annotation
	Images               []Image
}

// Annotation is one check run annotation. StartColumn and EndColumn are 0
// when not given (GitHub's columns start at 1).
type Annotation struct {
	Path                   string
	StartLine, EndLine     int
	StartColumn, EndColumn int
	AnnotationLevel        string // notice, warning, failure
	Message                string
	Title                  string
	RawDetails             string
}

// Image is an image attached to a check run's output.
type Image struct{ Alt, ImageURL, Caption string }

// CheckRunAction is a button ("requested action") on a check run.
type CheckRunAction struct{ Label, Description, Identifier string }

// CheckRunUpdate is one accepted create (POST) or update (PATCH).
type CheckRunUpdate struct {
	Time       time.Time
	Method     string
	Request    json.RawMessage
	Status     string // status after the request
	Conclusion string // conclusion after the request
}

// suiteKey identifies a check suite. n is 0 for the suite GitHub makes
// for an App's check runs on a commit; GitHub Actions makes one suite per
// workflow run, so one App can have several on a commit: NewCheckSuiteAs
// numbers those from 1.
type suiteKey struct {
	appID, repoID int64
	sha           string
	n             int
}

// CheckRuns returns copies of the check runs on owner/repo, oldest first.
func (s *Server) CheckRuns(owner, repo string) []CheckRun {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repos[repoKey(owner, repo)]
	if r == nil {
		return nil
	}
	var out []CheckRun
	for _, cr := range s.sortedCheckRunsLocked(r) {
		out = append(out, cr.clone())
	}
	return out
}

// CheckRun returns a copy of check run id, and whether it exists.
func (s *Server) CheckRun(id int64) (CheckRun, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cr := s.checkRuns[id]
	if cr == nil {
		return CheckRun{}, false
	}
	return cr.clone(), true
}

func (cr *CheckRun) clone() CheckRun {
	c := *cr
	c.Output.Annotations = append([]Annotation(nil), cr.Output.Annotations...)
	c.Output.Images = append([]Image(nil), cr.Output.Images...)
	c.Actions = append([]CheckRunAction(nil), cr.Actions...)
	c.History = append([]CheckRunUpdate(nil), cr.History...)
	return c
}

func (s *Server) sortedCheckRunsLocked(r *Repo) []*CheckRun {
	var out []*CheckRun
	for _, cr := range s.checkRuns {
		if repoKey(cr.Owner, cr.Repo) == repoKey(r.Owner, r.Name) {
			out = append(out, cr)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (s *Server) checkRoutes() {
	s.handle("POST /api/v3/repos/{owner}/{repo}/check-runs", authRepo("checks", "write"), s.createCheckRun)
	s.handle("PATCH /api/v3/repos/{owner}/{repo}/check-runs/{check_run_id}", authRepo("checks", "write"), s.updateCheckRun)
	s.handle("GET /api/v3/repos/{owner}/{repo}/check-runs/{check_run_id}", authRepo("checks", "read"), s.getCheckRun)
	s.handle("GET /api/v3/repos/{owner}/{repo}/check-runs/{check_run_id}/annotations", authRepo("checks", "read"), s.listAnnotations)
}

func (s *Server) createCheckRun(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	body, raw, ok := decodeBody(w, r)
	if !ok {
		return
	}
	in, lines, ferrs := validateCheckRun(body, true, nil)
	if len(lines) > 0 {
		writeInvalidRequest(w, docCreateCheckRun, lines)
		return
	}
	if len(ferrs) > 0 {
		writeValidationFailed(w, docCreateCheckRun, ferrs...)
		return
	}
	if !rc.repo.hasCommit(*in.headSHA) {
		writeError(w, http.StatusUnprocessableEntity, "No commit found for SHA: "+*in.headSHA, docCreateCheckRun)
		return
	}

	s.mu.Lock()
	now := s.nowLocked()
	key := suiteKey{appID: rc.app.ID, repoID: rc.repo.ID, sha: *in.headSHA}
	suite, ok := s.checkSuites[key]
	if !ok {
		suite = s.newIDLocked()
		s.checkSuites[key] = suite
	}
	cr := &CheckRun{
		ID:             s.newIDLocked(),
		Owner:          rc.repo.Owner,
		Repo:           rc.repo.Name,
		AppID:          rc.app.ID,
		InstallationID: rc.inst.id,
		CheckSuiteID:   suite,
		HeadSHA:        *in.headSHA,
		Status:         "queued",
		StartedAt:      now,
		CreatedAt:      now,
	}
	in.apply(cr, now)
	cr.History = append(cr.History, CheckRunUpdate{Time: now, Method: r.Method, Request: append(json.RawMessage(nil), raw...), Status: cr.Status, Conclusion: cr.Conclusion})
	s.checkRuns[cr.ID] = cr
	resp := s.checkRunJSONLocked(cr)
	s.mu.Unlock()
	w.Header().Set("Location", fmt.Sprint(resp["url"]))
	writeJSON(w, http.StatusCreated, resp)
}

// lookupCheckRunLocked finds {check_run_id} within the route's repository.
func (s *Server) lookupCheckRunLocked(r *http.Request, rc *reqCtx) *CheckRun {
	id, err := strconv.ParseInt(r.PathValue("check_run_id"), 10, 64)
	if err != nil {
		return nil
	}
	cr := s.checkRuns[id]
	if cr == nil || repoKey(cr.Owner, cr.Repo) != repoKey(rc.repo.Owner, rc.repo.Name) {
		return nil
	}
	return cr
}

func (s *Server) updateCheckRun(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	body, raw, ok := decodeBody(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cr := s.lookupCheckRunLocked(r, rc)
	if cr == nil {
		writeNotFound(w)
		return
	}
	if cr.AppID != rc.app.ID {
		writeError(w, http.StatusForbidden, fmt.Sprintf(
			"Invalid app_id `%d` - check run can only be modified by the GitHub App that created it.", rc.app.ID), docUpdateCheckRun)
		return
	}
	in, lines, ferrs := validateCheckRun(body, false, cr)
	if len(lines) > 0 {
		writeInvalidRequest(w, docUpdateCheckRun, lines)
		return
	}
	if len(ferrs) > 0 {
		writeValidationFailed(w, docUpdateCheckRun, ferrs...)
		return
	}
	now := s.nowLocked()
	in.apply(cr, now)
	cr.History = append(cr.History, CheckRunUpdate{Time: now, Method: r.Method, Request: append(json.RawMessage(nil), raw...), Status: cr.Status, Conclusion: cr.Conclusion})
	writeJSON(w, http.StatusOK, s.checkRunJSONLocked(cr))
}

func (s *Server) getCheckRun(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cr := s.lookupCheckRunLocked(r, rc)
	if cr == nil {
		writeNotFound(w)
		return
	}
	writeJSON(w, http.StatusOK, s.checkRunJSONLocked(cr))
}

func (s *Server) listAnnotations(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cr := s.lookupCheckRunLocked(r, rc)
	if cr == nil {
		writeNotFound(w)
		return
	}
	lo, hi := page(w, r, s.URL, len(cr.Output.Annotations))
	out := []any{}
	for _, a := range cr.Output.Annotations[lo:hi] {
		out = append(out, annotationJSON(rc.repo, cr, a))
	}
	writeJSON(w, http.StatusOK, out)
}

// listCheckRunsForRef is GET /repos/{o}/{r}/commits/{ref}/check-runs with
// GitHub's filters: check_name, status, filter=latest|all, app_id. Newest
// first. filter=latest (the default) keeps the newest run of each name
// within each check suite, not across suites: two GitHub Actions workflows
// with a "build" job, or one workflow run for both push and pull_request,
// give two current "build" runs on the commit, in different suites
// (docs: "List check runs for a Git reference", docListCheckRuns).
func (s *Server) listCheckRunsForRef(w http.ResponseWriter, r *http.Request, rc *reqCtx, ref string) {
	q := r.URL.Query()
	var lines []string
	status, filter := q.Get("status"), q.Get("filter")
	if q.Has("status") && !oneOf(status, "queued", "in_progress", "completed") {
		lines = append(lines, notMember("status", status, []string{"queued", "in_progress", "completed"}))
	}
	if filter == "" {
		filter = "latest"
	} else if !oneOf(filter, "latest", "all") {
		lines = append(lines, notMember("filter", filter, []string{"latest", "all"}))
	}
	var appID int64
	if v := q.Get("app_id"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			lines = append(lines, fmt.Sprintf("For 'properties/app_id', %s is not an integer.", rubyInspect(v)))
		}
		appID = n
	}
	if len(lines) > 0 {
		writeInvalidRequest(w, docListCheckRuns, lines)
		return
	}
	sha, ok := rc.repo.resolveCommit(ref)
	if !ok {
		writeError(w, http.StatusUnprocessableEntity, "No commit found for SHA: "+ref, docListCheckRuns)
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	runs := s.sortedCheckRunsLocked(rc.repo)
	type nameKey struct {
		suite int64
		name  string
	}
	newest := map[nameKey]int64{}
	for _, cr := range runs {
		if cr.HeadSHA == sha {
			newest[nameKey{cr.CheckSuiteID, cr.Name}] = cr.ID // runs are sorted by id
		}
	}
	var match []*CheckRun
	for i := len(runs) - 1; i >= 0; i-- {
		cr := runs[i]
		switch {
		case cr.HeadSHA != sha,
			q.Has("check_name") && cr.Name != q.Get("check_name"),
			status != "" && cr.Status != status,
			appID != 0 && cr.AppID != appID,
			filter == "latest" && newest[nameKey{cr.CheckSuiteID, cr.Name}] != cr.ID:
			continue
		}
		match = append(match, cr)
	}
	lo, hi := page(w, r, s.URL, len(match))
	out := []any{}
	for _, cr := range match[lo:hi] {
		out = append(out, s.checkRunJSONLocked(cr))
	}
	writeJSON(w, http.StatusOK, map[string]any{"total_count": len(match), "check_runs": out})
}

func oneOf(v string, allowed ...string) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	return false
}

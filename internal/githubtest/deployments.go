package githubtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

const (
	docCreateDeployment = "https://docs.github.com/rest/deployments/deployments#create-a-deployment"
	docGetDeployment    = "https://docs.github.com/rest/deployments/deployments#get-a-deployment"
)

// Deployment is a deployment with its statuses.
type Deployment struct {
	ID          int64
	Owner, Repo string
	Ref         string // as requested: a branch, tag or sha
	SHA         string // what Ref resolved to
	Task        string // default "deploy"
	// Payload is the payload as GitHub returns it: the object given, or
	// the object a JSON string held, or that string; {} by default.
	Payload json.RawMessage
	// Environment is the current one (a status may change it);
	// OriginalEnvironment the one requested (default "production").
	Environment, OriginalEnvironment string
	Description                      string
	TransientEnvironment             bool
	ProductionEnvironment            bool // default: Environment == "production"
	Creator                          string
	AppID                            int64
	CreatedAt, UpdatedAt             time.Time
	// Request is the create request's body exactly as sent.
	Request json.RawMessage
	// Statuses are the deployment's statuses, oldest first.
	Statuses []DeploymentStatus
}

// DeploymentStatus is one status of a deployment.
type DeploymentStatus struct {
	ID             int64
	State          string // error, failure, inactive, in_progress, queued, pending, success
	Description    string
	Environment    string
	EnvironmentURL string
	// LogURL and TargetURL: GitHub sets each to the other when only one
	// is given.
	LogURL, TargetURL string
	// AutoInactive marks an inactive status GitHub added because a later
	// deployment to the environment succeeded (auto_inactive).
	AutoInactive bool
	Creator      string
	AppID        int64
	CreatedAt    time.Time
	Request      json.RawMessage // the request body; nil for AutoInactive
}

// Deployments returns copies of owner/repo's deployments, oldest first,
// each with its statuses oldest first.
func (s *Server) Deployments(owner, repo string) []Deployment {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Deployment
	for _, d := range s.deploymentsLocked(owner, repo) {
		c := *d
		c.Payload = append(json.RawMessage(nil), d.Payload...)
		c.Statuses = append([]DeploymentStatus(nil), d.Statuses...)
		out = append(out, c)
	}
	return out
}

func (s *Server) deploymentsLocked(owner, repo string) []*Deployment {
	var out []*Deployment
	for _, d := range s.deployments {
		if repoKey(d.Owner, d.Repo) == repoKey(owner, repo) {
			out = append(out, d)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (s *Server) deploymentRoutes() {
	s.handle("POST /api/v3/repos/{owner}/{repo}/deployments", authRepo("deployments", "write"), s.createDeployment)
	s.handle("GET /api/v3/repos/{owner}/{repo}/deployments", authRepo("deployments", "read"), s.listDeployments)
	s.handle("GET /api/v3/repos/{owner}/{repo}/deployments/{deployment_id}", authRepo("deployments", "read"), s.getDeployment)
	s.handle("POST /api/v3/repos/{owner}/{repo}/deployments/{deployment_id}/statuses", authRepo("deployments", "write"), s.createDeploymentStatus)
	s.handle("GET /api/v3/repos/{owner}/{repo}/deployments/{deployment_id}/statuses", authRepo("deployments", "read"), s.listDeploymentStatuses)
}

type deploymentInput struct {
	ref, task, environment, description *string
	autoMerge, transient, production    *bool
	requiredContexts                    []string
	hasRequired                         bool
	payload                             json.RawMessage
}

func validateDeployment(body map[string]any) (*deploymentInput, []string) {
	v := &validator{}
	in := &deploymentInput{}
	v.required(body, "ref")
	in.ref = v.str(body, "", "ref")
	in.task = v.str(body, "", "task")
	in.environment = v.str(body, "", "environment")
	in.description = v.nullableStr(body, "", "description")
	in.autoMerge = v.boolean(body, "", "auto_merge")
	in.transient = v.boolean(body, "", "transient_environment")
	in.production = v.boolean(body, "", "production_environment")
	in.requiredContexts, in.hasRequired = v.stringList(body, "", "required_contexts")
	in.payload = json.RawMessage("{}")
	switch p := body["payload"].(type) {
	case nil:
	case map[string]any:
		in.payload, _ = json.Marshal(p)
	case string:
		// GitHub returns a payload sent as a JSON string as the object
		// it holds.
		var obj map[string]any
		if json.Unmarshal([]byte(p), &obj) == nil && obj != nil {
			in.payload = json.RawMessage(p)
		} else {
			in.payload, _ = json.Marshal(p)
		}
	default:
		v.add(fmt.Sprintf("For 'properties/payload', %s is not an object or a string.", rubyInspect(p)))
	}
	return in, v.lines
}

// createDeployment is POST /repos/{o}/{r}/deployments, checked as GitHub
// does: ref must resolve (422 "No ref found for: <ref>"); with auto_merge
// (the default) a branch behind the default branch is refused with 409
// "Conflict merging <default> into <ref>." — the fake never merges, so
// clients should send auto_merge false; and unless required_contexts is
// given, every commit status and check run on the commit must have
// succeeded (an in-progress check counts against it), else 409
// "Conflict: Commit status checks failed for <ref>.". required_contexts
// [] skips the verification; a list requires exactly those contexts.
func (s *Server) createDeployment(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	body, raw, ok := decodeBody(w, r)
	if !ok {
		return
	}
	in, lines := validateDeployment(body)
	if len(lines) > 0 {
		writeInvalidRequest(w, docCreateDeployment, lines)
		return
	}
	repo, ref := rc.repo, *in.ref
	sha, ok := repo.resolveCommit(ref)
	if !ok {
		writeError(w, http.StatusUnprocessableEntity, "No ref found for: "+ref, docCreateDeployment)
		return
	}
	branch := strings.TrimPrefix(ref, "refs/heads/")
	if (in.autoMerge == nil || *in.autoMerge) && branch != repo.DefaultBranch && repo.Head(branch) == sha {
		if tip := repo.Head(repo.DefaultBranch); tip != "" && repo.count(sha+".."+tip) > 0 {
			writeError(w, http.StatusConflict, fmt.Sprintf("Conflict merging %s into %s.", repo.DefaultBranch, branch), docCreateDeployment)
			return
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if failed, contexts := s.contextsFailLocked(repo, sha, in); failed {
		writeJSON(w, http.StatusConflict, map[string]any{
			"message": "Conflict: Commit status checks failed for " + ref + ".",
			"errors": []any{map[string]any{
				"contexts": contexts, "resource": "Deployment", "field": "required_contexts", "code": "invalid",
			}},
			"documentation_url": docCreateDeployment,
			"status":            "409",
		})
		return
	}
	env := "production"
	if in.environment != nil && *in.environment != "" {
		env = *in.environment
	}
	now := s.nowLocked()
	d := &Deployment{
		ID: s.newIDLocked(), Owner: repo.Owner, Repo: repo.Name, Ref: ref, SHA: sha, Task: "deploy",
		Payload: in.payload, Environment: env, OriginalEnvironment: env, Description: deref(in.description),
		ProductionEnvironment: env == "production", Creator: s.botLocked(rc.app).login, AppID: rc.app.ID,
		CreatedAt: now, UpdatedAt: now, Request: append(json.RawMessage(nil), raw...),
	}
	if in.task != nil && *in.task != "" {
		d.Task = *in.task
	}
	if in.transient != nil {
		d.TransientEnvironment = *in.transient
	}
	if in.production != nil {
		d.ProductionEnvironment = *in.production
	}
	s.deployments[d.ID] = d
	resp := s.deploymentJSONLocked(d)
	w.Header().Set("Location", fmt.Sprint(resp["url"]))
	writeJSON(w, http.StatusCreated, resp)
}

// contextsFailLocked applies the required_contexts rule and returns the
// contexts GitHub lists in its 409: every context it looked at with its
// state, required ones never reported as pending.
func (s *Server) contextsFailLocked(r *Repo, sha string, in *deploymentInput) (bool, []any) {
	if in.hasRequired && len(in.requiredContexts) == 0 {
		return false, nil
	}
	all := s.commitContextsLocked(r, sha)
	var checked [][2]string
	if !in.hasRequired {
		checked = all
	} else {
		for _, name := range in.requiredContexts {
			state := "pending" // not reported yet
			for _, c := range all {
				if c[0] == name {
					state = c[1]
					if state != "success" {
						break // a failing run or status of that name decides
					}
				}
			}
			checked = append(checked, [2]string{name, state})
		}
	}
	failed := false
	contexts := []any{}
	for _, c := range checked {
		failed = failed || c[1] != "success"
		contexts = append(contexts, map[string]any{"context": c[0], "state": c[1]})
	}
	return failed, contexts
}

// listDeployments lists newest first, filtered by sha, ref, task and
// environment.
func (s *Server) listDeployments(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	all := s.deploymentsLocked(rc.repo.Owner, rc.repo.Name)
	var match []*Deployment
	for i := len(all) - 1; i >= 0; i-- {
		d := all[i]
		switch {
		case q.Get("sha") != "" && d.SHA != q.Get("sha"),
			q.Get("ref") != "" && d.Ref != q.Get("ref"),
			q.Get("task") != "" && d.Task != q.Get("task"),
			q.Get("environment") != "" && d.Environment != q.Get("environment"):
			continue
		}
		match = append(match, d)
	}
	lo, hi := page(w, r, s.URL, len(match))
	out := []any{}
	for _, d := range match[lo:hi] {
		out = append(out, s.deploymentJSONLocked(d))
	}
	writeJSON(w, http.StatusOK, out)
}

// lookupDeploymentLocked finds {deployment_id} within the route's repository.
func (s *Server) lookupDeploymentLocked(r *http.Request, rc *reqCtx) *Deployment {
	id, err := strconv.ParseInt(r.PathValue("deployment_id"), 10, 64)
	if err != nil {
		return nil
	}
	d := s.deployments[id]
	if d == nil || repoKey(d.Owner, d.Repo) != repoKey(rc.repo.Owner, rc.repo.Name) {
		return nil
	}
	return d
}

func (s *Server) getDeployment(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.lookupDeploymentLocked(r, rc)
	if d == nil {
		writeError(w, http.StatusNotFound, "Not Found", docGetDeployment)
		return
	}
	writeJSON(w, http.StatusOK, s.deploymentJSONLocked(d))
}

func (s *Server) deploymentJSONLocked(d *Deployment) map[string]any {
	repo := s.repos[repoKey(d.Owner, d.Repo)]
	url := repo.APIURL() + "/deployments/" + strconv.FormatInt(d.ID, 10)
	payload := json.RawMessage(bytes.Clone(d.Payload))
	return map[string]any{
		"url": url, "id": d.ID, "node_id": nodeID("010:Deployment", d.ID), "sha": d.SHA, "ref": d.Ref,
		"task": d.Task, "payload": payload, "original_environment": d.OriginalEnvironment,
		"environment": d.Environment, "description": strOrNil(d.Description),
		"creator":    s.userJSON(s.users[strings.ToLower(d.Creator)]),
		"created_at": iso(d.CreatedAt), "updated_at": iso(d.UpdatedAt),
		"statuses_url": url + "/statuses", "repository_url": repo.APIURL(),
		"transient_environment": d.TransientEnvironment, "production_environment": d.ProductionEnvironment,
		"performed_via_github_app": s.appJSONLocked(s.apps[d.AppID]),
	}
}

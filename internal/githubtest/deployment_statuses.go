package githubtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

const (
	docCreateDeploymentStatus = "https://docs.github.com/rest/deployments/statuses#create-a-deployment-status"
	docListDeploymentStatuses = "https://docs.github.com/rest/deployments/statuses#list-deployment-statuses"
	// maxDeploymentDescription is GitHub's limit on a deployment status's
	// description, in characters.
	maxDeploymentDescription = 140
)

var deploymentStateEnum = []string{"error", "failure", "inactive", "in_progress", "queued", "pending", "success"}

// createDeploymentStatus is POST /repos/{o}/{r}/deployments/{id}/statuses:
// state is required and from GitHub's enum, the description at most 140
// characters; environment moves the deployment to another environment;
// log_url and target_url stand in for each other. With auto_inactive (the
// default) a success adds an inactive status to every earlier deployment
// to the same environment whose latest status is success and that is
// neither transient nor a production environment — the rule GitHub
// documents.
func (s *Server) createDeploymentStatus(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	body, raw, ok := decodeBody(w, r)
	if !ok {
		return
	}
	v := &validator{}
	v.required(body, "state")
	state := v.enum(body, "", "state", deploymentStateEnum)
	target := v.str(body, "", "target_url")
	logURL := v.str(body, "", "log_url")
	desc := v.str(body, "", "description")
	env := v.str(body, "", "environment")
	envURL := v.str(body, "", "environment_url")
	autoInactive := v.boolean(body, "", "auto_inactive")

	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.lookupDeploymentLocked(r, rc)
	if d == nil {
		writeError(w, http.StatusNotFound, "Not Found", docCreateDeploymentStatus)
		return
	}
	if len(v.lines) > 0 {
		writeInvalidRequest(w, docCreateDeploymentStatus, v.lines)
		return
	}
	if desc != nil && utf8.RuneCountInString(*desc) > maxDeploymentDescription {
		writeValidationFailed(w, docCreateDeploymentStatus, fieldError{Resource: "DeploymentStatus", Code: "custom", Field: "description",
			Message: fmt.Sprintf("description is too long (maximum is %d characters)", maxDeploymentDescription)})
		return
	}
	st := DeploymentStatus{
		ID: s.newIDLocked(), State: *state, Description: deref(desc), EnvironmentURL: deref(envURL),
		LogURL: deref(logURL), TargetURL: deref(target), Creator: s.botLocked(rc.app).login, AppID: rc.app.ID,
		CreatedAt: s.nowLocked(), Request: append(json.RawMessage(nil), raw...),
	}
	if st.LogURL == "" {
		st.LogURL = st.TargetURL
	} else if st.TargetURL == "" {
		st.TargetURL = st.LogURL
	}
	if env != nil && *env != "" {
		d.Environment = *env
	}
	st.Environment = d.Environment
	d.Statuses = append(d.Statuses, st)
	d.UpdatedAt = st.CreatedAt
	if st.State == "success" && (autoInactive == nil || *autoInactive) {
		s.autoInactivateLocked(d, st)
	}
	resp := s.deploymentStatusJSONLocked(d, &d.Statuses[len(d.Statuses)-1])
	w.Header().Set("Location", fmt.Sprint(resp["url"]))
	writeJSON(w, http.StatusCreated, resp)
}

func (s *Server) autoInactivateLocked(d *Deployment, cause DeploymentStatus) {
	for _, old := range s.deploymentsLocked(d.Owner, d.Repo) {
		if old.ID >= d.ID || old.Environment != d.Environment || old.TransientEnvironment || old.ProductionEnvironment ||
			len(old.Statuses) == 0 || old.Statuses[len(old.Statuses)-1].State != "success" {
			continue
		}
		old.Statuses = append(old.Statuses, DeploymentStatus{
			ID: s.newIDLocked(), State: "inactive", Environment: old.Environment, AutoInactive: true,
			Creator: cause.Creator, AppID: cause.AppID, CreatedAt: cause.CreatedAt,
		})
		old.UpdatedAt = cause.CreatedAt
	}
}

// listDeploymentStatuses lists a deployment's statuses, newest first.
func (s *Server) listDeploymentStatuses(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.lookupDeploymentLocked(r, rc)
	if d == nil {
		writeError(w, http.StatusNotFound, "Not Found", docListDeploymentStatuses)
		return
	}
	n := len(d.Statuses)
	lo, hi := page(w, r, s.URL, n)
	out := []any{}
	for i := lo; i < hi; i++ {
		out = append(out, s.deploymentStatusJSONLocked(d, &d.Statuses[n-1-i]))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) deploymentStatusJSONLocked(d *Deployment, st *DeploymentStatus) map[string]any {
	repo := s.repos[repoKey(d.Owner, d.Repo)]
	dURL := repo.APIURL() + "/deployments/" + strconv.FormatInt(d.ID, 10)
	return map[string]any{
		"url": dURL + "/statuses/" + strconv.FormatInt(st.ID, 10), "id": st.ID,
		"node_id": nodeID("016:DeploymentStatus", st.ID), "state": st.State,
		"creator":     s.userJSON(s.users[strings.ToLower(st.Creator)]),
		"description": st.Description, "environment": st.Environment,
		"target_url": st.TargetURL, "log_url": st.LogURL, "environment_url": st.EnvironmentURL,
		"created_at": iso(st.CreatedAt), "updated_at": iso(st.CreatedAt),
		"deployment_url": dURL, "repository_url": repo.APIURL(),
		"performed_via_github_app": s.appJSONLocked(s.apps[st.AppID]),
	}
}

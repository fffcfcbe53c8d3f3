package githubtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

const (
	// docProtectionRule is the callback's page: POST
	// /repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule
	// with environment_name, state ("approved" or "rejected") and an
	// optional comment, answered 204; an App reviews only its own rules.
	docProtectionRule = "https://docs.github.com/rest/actions/workflow-runs#review-custom-deployment-protection-rules-for-a-workflow-run"
	// docProtectionRuleEvent is the payload's page.
	docProtectionRuleEvent = "https://docs.github.com/webhooks/webhook-events-and-payloads#deployment_protection_rule"
	docWorkflowRun         = "https://docs.github.com/rest/actions/workflow-runs#get-a-workflow-run"
)

// workflowRun is a GitHub Actions run whose deploy job waits on an
// environment's custom protection rules.
type workflowRun struct {
	id       int64
	repo     *Repo
	headRepo *Repo
	sha      string
	suiteID  int64
	// sha is the run's head_sha; branch its head_branch; event what
	// started it.
	branch, event string
	actor         string
	// pending maps an environment to the App whose rule must answer.
	pending map[string]int64
}

// ProtectionAnswer is one review a protection rule's App posted.
type ProtectionAnswer struct {
	RunID       int64
	AppID       int64
	Environment string
	State       string
	Comment     string
	Time        time.Time
}

func (s *Server) protectionRoutes() {
	s.handle("GET /api/v3/repos/{owner}/{repo}/actions/runs/{run_id}", authRepo("actions", "read"), s.getWorkflowRun)
	s.handle("POST /api/v3/repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule", authRepo("deployments", "write"), s.reviewProtectionRule)
}

// ProtectionAnswers returns the reviews posted, oldest first.
func (s *Server) ProtectionAnswers() []ProtectionAnswer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.protectionAnswers)
}

// RequestDeploymentProtection starts a GitHub Actions workflow run on sha
// whose job deploying to environment waits on protector's custom
// protection rule, as GitHub does: the job shows as a "waiting" check run
// of actions (the GitHub Actions App) in the run's check suite, and
// protector gets a deployment_protection_rule "requested" delivery. It
// returns the run's id and that delivery's payload (fields as
// docProtectionRuleEvent lists them).
func (r *Repo) RequestDeploymentProtection(actions, protector *App, sha, job, environment string) (int64, []byte) {
	r.s.t.Helper()
	return r.requestProtection(actions, protector, protectedDeploy{
		sha: sha, headSHA: sha, ref: "refs/heads/" + r.DefaultBranch, branch: r.DefaultBranch, event: "push", prs: []any{},
	}, job, environment)
}

// RequestBranchDeploymentProtection is RequestDeploymentProtection for a
// workflow run on a push to branch, at its head.
func (r *Repo) RequestBranchDeploymentProtection(actions, protector *App, branch, job, environment string) (int64, []byte) {
	r.s.t.Helper()
	sha := r.Head(branch)
	return r.requestProtection(actions, protector, protectedDeploy{
		sha: sha, headSHA: sha, ref: "refs/heads/" + branch, branch: branch, event: "push", prs: []any{},
	}, job, environment)
}

// RequestPullRequestDeploymentProtection is RequestDeploymentProtection
// for a workflow run on the pull_request event of pull request number.
// As on GitHub, the run, its check suite and the checks of every other
// CI are on the pull request's head commit, but the job deploys
// GITHUB_SHA, "the last merge commit of the pull request merge branch"
// (https://docs.github.com/actions/writing-workflows/choosing-when-your-workflow-runs/events-that-trigger-workflows#pull_request):
// the deployment's sha is a merge commit made here, at
// refs/pull/<number>/merge, that no check is on.
func (r *Repo) RequestPullRequestDeploymentProtection(actions, protector *App, number int, job, environment string) (int64, []byte) {
	s := r.s
	s.t.Helper()
	var pr *PullRequest
	for _, p := range s.PullRequests(r.Owner, r.Name) {
		if p.Number == number {
			pr = &p
			break
		}
	}
	if pr == nil {
		s.t.Fatalf("githubtest: RequestPullRequestDeploymentProtection: no pull request #%d in %s", number, r.FullName())
	}
	headRepo := r
	if pr.HeadRepo != "" && pr.HeadRepo != r.FullName() {
		owner, name, _ := strings.Cut(pr.HeadRepo, "/")
		headRepo = s.Repo(owner, name)
	}
	base := r.Head(pr.BaseRef)
	tree, err := s.git(r.dir, nil, "merge-tree", "--write-tree", base, pr.HeadSHA)
	if err != nil {
		s.t.Fatalf("githubtest: merging pull request #%d: %v", number, err)
	}
	merge, err := s.git(r.dir, nil, "-c", "user.name=GitHub", "-c", "user.email=noreply@github.com", "commit-tree",
		strings.TrimSpace(string(tree)), "-p", base, "-p", pr.HeadSHA, "-m", fmt.Sprintf("Merge %s into %s", pr.HeadSHA, base))
	if err != nil {
		s.t.Fatalf("githubtest: merge commit of pull request #%d: %v", number, err)
	}
	mergeSHA := strings.TrimSpace(string(merge))
	ref := fmt.Sprintf("refs/pull/%d/merge", number)
	if _, err := s.git(r.dir, nil, "update-ref", ref, mergeSHA); err != nil {
		s.t.Fatalf("githubtest: %s: %v", ref, err)
	}
	minimal := map[string]any{
		"url": fmt.Sprintf("%s/api/v3/repos/%s/pulls/%d", s.URL, r.FullName(), number),
		"id":  number, "number": number,
		"head": map[string]any{"ref": pr.HeadRef, "sha": pr.HeadSHA, "repo": map[string]any{"id": r.ID, "name": r.Name, "url": r.APIURL()}},
		"base": map[string]any{"ref": pr.BaseRef, "sha": base, "repo": map[string]any{"id": r.ID, "name": r.Name, "url": r.APIURL()}},
	}
	return r.requestProtection(actions, protector, protectedDeploy{
		sha: mergeSHA, headSHA: pr.HeadSHA, ref: ref, branch: pr.HeadRef, event: "pull_request", prs: []any{minimal}, headRepo: headRepo,
	}, job, environment)
}

// protectedDeploy is what a waiting deployment job's run was started on:
// sha is the deployment's (GITHUB_SHA), headSHA the run's head_sha, where
// its check suite is.
type protectedDeploy struct {
	sha, headSHA, ref, branch, event string
	prs                              []any
	// headRepo is where the run's code comes from: a fork for a pull
	// request from one (nil: this repository).
	headRepo *Repo
}

func (r *Repo) requestProtection(actions, protector *App, d protectedDeploy, job, environment string) (int64, []byte) {
	s := r.s
	s.t.Helper()
	checkID := s.CreateCheckRunAs(actions, r.Owner, r.Name, d.headSHA, job, "waiting", "")
	s.mu.Lock()
	defer s.mu.Unlock()
	cr := s.checkRuns[checkID]
	inst := s.installationForLocked(protector.ID, r)
	if inst == nil {
		s.t.Fatalf("githubtest: RequestDeploymentProtection: %s is not installed on %s", protector.Slug, r.FullName())
	}
	if d.headRepo == nil {
		d.headRepo = r
	}
	run := &workflowRun{id: s.newIDLocked(), repo: r, headRepo: d.headRepo, sha: d.headSHA, branch: d.branch, event: d.event, suiteID: cr.CheckSuiteID, actor: "octocat",
		pending: map[string]int64{environment: protector.ID}}
	s.workflowRuns[run.id] = run
	deploymentID := s.newIDLocked()
	callback := fmt.Sprintf("%s/api/v3/repos/%s/actions/runs/%d/deployment_protection_rule", s.URL, r.FullName(), run.id)
	sender := s.accountJSON("octocat", s.accountIDLocked("octocat"), "User")
	p := map[string]any{
		"action":                  "requested",
		"environment":             environment,
		"event":                   d.event,
		"sha":                     d.sha,
		"ref":                     d.ref,
		"deployment_callback_url": callback,
		"deployment": map[string]any{
			"url": fmt.Sprintf("%s/api/v3/repos/%s/deployments/%d", s.URL, r.FullName(), deploymentID),
			"id":  deploymentID, "node_id": nodeID("010:Deployment", deploymentID),
			"sha": d.sha, "ref": strings.TrimPrefix(d.ref, "refs/heads/"), "task": "deploy", "payload": map[string]any{},
			"original_environment": environment, "environment": environment, "description": nil,
			"creator": sender, "created_at": iso(s.nowLocked()), "updated_at": iso(s.nowLocked()),
			"statuses_url":          fmt.Sprintf("%s/api/v3/repos/%s/deployments/%d/statuses", s.URL, r.FullName(), deploymentID),
			"repository_url":        r.APIURL(),
			"transient_environment": false, "production_environment": false,
		},
		"pull_requests": d.prs,
		"repository":    s.repoJSONLocked(r),
		"organization":  s.accountJSON(r.Owner, r.ownerID, "Organization"),
		"installation":  map[string]any{"id": inst.id, "node_id": nodeID("029:Installation", inst.id)},
		"sender":        sender,
	}
	return run.id, mustMarshal(p)
}

func (s *Server) getWorkflowRun(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	id, _ := strconv.ParseInt(r.PathValue("run_id"), 10, 64)
	s.mu.Lock()
	run := s.workflowRuns[id]
	if run == nil || run.repo != rc.repo {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "Not Found", docWorkflowRun)
		return
	}
	body := map[string]any{
		"id": run.id, "name": "deploy", "head_sha": run.sha, "head_branch": run.branch,
		"event": run.event, "status": "waiting", "conclusion": nil, "check_suite_id": run.suiteID,
		"url": fmt.Sprintf("%s/api/v3/repos/%s/actions/runs/%d", s.URL, run.repo.FullName(), run.id),
		// Who started the workflow (docWorkflowRun: actor, and
		// triggering_actor for a re-run), the deployment's sender.
		"actor":            s.accountJSON(run.actor, s.accountIDLocked(run.actor), "User"),
		"triggering_actor": s.accountJSON(run.actor, s.accountIDLocked(run.actor), "User"),
		"repository":       s.repoJSONLocked(run.repo),
		// A pull request from a fork runs the fork's code: head_repository
		// is the fork (docWorkflowRun).
		"head_repository": s.repoJSONLocked(run.headRepo),
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, body)
}

// reviewProtectionRule is the callback. Only an installation token of the
// App whose rule the environment waits on may answer, once, with a state
// GitHub knows; anything else is refused as GitHub does.
func (s *Server) reviewProtectionRule(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	body, _, ok := decodeBody(w, r)
	if !ok {
		return
	}
	env, envOK := body["environment_name"].(string)
	state, stateOK := body["state"].(string)
	comment, commentOK := body["comment"].(string)
	if body["comment"] == nil {
		commentOK = true
	}
	var errs []fieldError
	if !envOK || env == "" {
		errs = append(errs, fieldError{Resource: "WorkflowRun", Code: "missing_field", Field: "environment_name"})
	}
	if !stateOK || (state != "approved" && state != "rejected") {
		errs = append(errs, fieldError{Resource: "WorkflowRun", Code: "invalid", Field: "state"})
	}
	if !commentOK {
		errs = append(errs, fieldError{Resource: "WorkflowRun", Code: "invalid", Field: "comment"})
	}
	if len(errs) > 0 {
		writeValidationFailed(w, docProtectionRule, errs...)
		return
	}
	id, _ := strconv.ParseInt(r.PathValue("run_id"), 10, 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	run := s.workflowRuns[id]
	if run == nil || run.repo != rc.repo {
		writeError(w, http.StatusNotFound, "Not Found", docProtectionRule)
		return
	}
	if appID, ok := run.pending[env]; !ok || rc.app == nil || appID != rc.app.ID {
		// An App reviews only its own rule, and only while it waits.
		writeError(w, http.StatusUnprocessableEntity, "No pending custom deployment protection rule for this app and environment", docProtectionRule)
		return
	}
	delete(run.pending, env)
	s.protectionAnswers = append(s.protectionAnswers, ProtectionAnswer{RunID: id, AppID: rc.app.ID, Environment: env, State: state, Comment: comment, Time: s.nowLocked()})
	w.WriteHeader(http.StatusNoContent)
}

func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("githubtest: encoding a payload: %v", err))
	}
	return b
}

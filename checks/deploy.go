package checks

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/google/go-github/v60/github"

	"github.com/stagegate/stagegate/pipeline/engine"
)

// DeploymentsAPI is the part of GitHub's Deployments API the package
// uses; *github.RepositoriesService satisfies it.
type DeploymentsAPI interface {
	CreateDeployment(ctx context.Context, owner, repo string, req *github.DeploymentRequest) (*github.Deployment, *github.Response, error)
	CreateDeploymentStatus(ctx context.Context, owner, repo string, id int64, req *github.DeploymentStatusRequest) (*github.DeploymentStatus, *github.Response, error)
}

var _ DeploymentsAPI = (*github.RepositoriesService)(nil)

// DeploymentInfo describes a deployment StartDeployment records.
type DeploymentInfo struct {
	// Environment is the stage's environment; required.
	Environment string
	// URL is the deployed environment's address (Stage.URL), sent as
	// each status's environment_url when set.
	URL string
	// Stage is the deploy stage's name.
	Stage string
	// Approver is the login that approved the deploy, "" when none was
	// needed.
	Approver string
	// LogURL is the stage check's page, sent as each status's log_url;
	// SetLogURL sets it once known (TrackDeployment does).
	LogURL string
	// Description replaces the deployment's default description.
	Description string
}

// maxDeployDescription is GitHub's limit, in characters, on the
// description of a deployment and of a deployment status.
const maxDeployDescription = 140

// Deployment is a GitHub deployment of a run's commit, whose statuses
// follow its deploy stage. Its methods may be called from any goroutine;
// each status is written once, in order, and a call that would move the
// deployment backwards (InProgress after Finish) does nothing.
type Deployment struct {
	// ID is GitHub's ID of the deployment.
	ID int64

	api    DeploymentsAPI
	target Target
	info   DeploymentInfo

	mu       sync.Mutex
	logURL   string
	started  bool
	finished bool
}

// StartDeployment creates a deployment of t.HeadSHA to d.Environment and
// gives it the status queued. The request is built for stagegate's gate:
// ref is the exact SHA; required_contexts is empty, since stagegate runs
// its own gate and GitHub would otherwise check the commit's statuses
// again and refuse with 409 while stagegate's own checks are in
// progress; auto_merge is false, since a deploy must deploy the exact
// commit; transient_environment is false; production_environment is
// left to GitHub (true for the environment named "production"). The
// payload holds run_id, stage and approver.
//
// When the deployment was created but its queued status was not, the
// Deployment is returned with the error, so that it can still be
// finished.
func StartDeployment(ctx context.Context, api DeploymentsAPI, t Target, d DeploymentInfo) (*Deployment, error) {
	if d.Environment == "" {
		return nil, errors.New("checks: a deployment needs an environment")
	}
	payload := map[string]any{"run_id": t.RunID, "stage": d.Stage}
	if d.Approver != "" {
		payload["approver"] = strings.TrimPrefix(d.Approver, "@")
	}
	desc := d.Description
	if desc == "" {
		desc = fmt.Sprintf("stagegate run %s, stage %s", t.RunID, d.Stage)
		if d.Approver != "" {
			desc += ", approved by " + at(d.Approver)
		}
	}
	dep, _, err := api.CreateDeployment(ctx, t.Owner, t.Repo, &github.DeploymentRequest{
		Ref:                  github.String(t.HeadSHA),
		Task:                 github.String("deploy"),
		AutoMerge:            github.Bool(false),
		RequiredContexts:     &[]string{},
		Payload:              payload,
		Environment:          github.String(d.Environment),
		Description:          github.String(truncate(oneLine(desc), maxDeployDescription)),
		TransientEnvironment: github.Bool(false),
	})
	if err != nil {
		return nil, fmt.Errorf("checks: creating a deployment of %s to %s: %w", ShortSHA(t.HeadSHA), d.Environment, err)
	}
	dp := &Deployment{ID: dep.GetID(), api: api, target: t, info: d, logURL: d.LogURL}
	queued := "Cleared to deploy " + ShortSHA(t.HeadSHA)
	if d.Approver != "" {
		queued += ", approved by " + at(d.Approver)
	}
	if err := dp.status(ctx, "queued", queued); err != nil {
		return dp, err
	}
	return dp, nil
}

// SetLogURL sets the log_url of the statuses still to come; "" keeps
// the one there is.
func (d *Deployment) SetLogURL(u string) {
	if u == "" {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.logURL = u
}

// InProgress gives the deployment the status in_progress, when its stage
// starts. It does nothing once done, or after Finish.
func (d *Deployment) InProgress(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.started || d.finished {
		return nil
	}
	desc := fmt.Sprintf("Deploying %s", ShortSHA(d.target.HeadSHA))
	if d.info.Stage != "" {
		desc += " (stage " + d.info.Stage + ")"
	}
	if err := d.statusLocked(ctx, "in_progress", desc); err != nil {
		return err
	}
	d.started = true
	return nil
}

// Finish gives the deployment its final status from the stage's:
// success; failure for failure and timed_out (the deploy ran and did not
// work); error for cancelled, skipped and anything else (the deploy did
// not get to finish: a problem of stagegate or its host, not of what was
// deployed). A failure says "rolled back" when rolledBack is set, i.e.
// on_failure actions ran and succeeded. reason, the stage's, fills the
// rest of the 140 characters. It does nothing once done; a failed write
// may be retried.
func (d *Deployment) Finish(ctx context.Context, status engine.Status, rolledBack bool, reason string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.finished {
		return nil
	}
	state, desc := finalStatus(d.target.HeadSHA, status, rolledBack, reason)
	if err := d.statusLocked(ctx, state, desc); err != nil {
		return err
	}
	d.finished = true
	return nil
}

// finalStatus maps a stage's status to a deployment state and its
// description.
func finalStatus(sha string, status engine.Status, rolledBack bool, reason string) (state, desc string) {
	reason = oneLine(reason)
	var head, tail string
	switch status {
	case engine.StatusSuccess:
		return "success", "Deployed " + ShortSHA(sha)
	case engine.StatusFailure:
		state, head = "failure", "Failed"
	case engine.StatusTimedOut:
		state, head = "failure", "Timed out"
	case engine.StatusCancelled:
		state, head = "error", "Cancelled"
		reason = strings.TrimPrefix(reason, "cancelled: ")
	default:
		state, head = "error", "Not deployed"
	}
	if rolledBack && state == "failure" {
		tail = "; rolled back"
	}
	if reason == "" || reason == string(status) {
		return state, head + tail
	}
	room := maxDeployDescription - utf8.RuneCountInString(head+": "+tail)
	return state, head + ": " + truncate(reason, max(room, 1)) + tail
}

func (d *Deployment) status(ctx context.Context, state, desc string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.statusLocked(ctx, state, desc)
}

func (d *Deployment) statusLocked(ctx context.Context, state, desc string) error {
	req := &github.DeploymentStatusRequest{
		State:       github.String(state),
		Description: github.String(truncate(oneLine(desc), maxDeployDescription)),
		LogURL:      optional(d.logURL),
	}
	if d.info.URL != "" {
		req.EnvironmentURL = github.String(d.info.URL)
	}
	if _, _, err := d.api.CreateDeploymentStatus(ctx, d.target.Owner, d.target.Repo, d.ID, req); err != nil {
		return fmt.Errorf("checks: deployment %d to %s: status %s: %w", d.ID, d.info.Environment, state, err)
	}
	return nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// at is a login as people write it, "@alice".
func at(login string) string { return "@" + strings.TrimPrefix(login, "@") }

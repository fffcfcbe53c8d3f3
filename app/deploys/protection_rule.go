package deploys

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/google/go-github/v60/github"

	"github.com/stagegate/stagegate/app/access"
	"github.com/stagegate/stagegate/app/envpolicy"
	"github.com/stagegate/stagegate/app/gatewait"
	"github.com/stagegate/stagegate/app/ghevent"
	"github.com/stagegate/stagegate/app/outcome"
	"github.com/stagegate/stagegate/app/pipelineconf"
	"github.com/stagegate/stagegate/app/store"
	"github.com/stagegate/stagegate/checks"
	"github.com/stagegate/stagegate/pipeline"
	"github.com/stagegate/stagegate/pipeline/policy"
)

// stagegate as a custom deployment protection rule of GitHub Actions
// (https://docs.github.com/actions/how-tos/managing-workflow-runs-and-deployments/managing-deployments/creating-custom-deployment-protection-rules):
// a workflow job deploying to an environment that has the App as a rule
// waits until the App answers through the delivery's callback
// (https://docs.github.com/rest/actions/workflow-runs#review-custom-deployment-protection-rules-for-a-workflow-run).
// stagegate answers with its own deploy gate on the workflow's commit:
// every other check and status passed, and, when the commit's pipeline
// has a deploy stage for that environment, its require list, approval
// and environment lock. While something is still running the request is
// kept, and looked at again whenever a check or status of the commit
// changes.

// ProtectionRule records a deployment_protection_rule request and
// answers it at once when the gate decides.
func (a *Deploys) ProtectionRule(ctx context.Context, d store.Delivery, e *github.DeploymentProtectionRuleEvent) (string, error) {
	if e.GetAction() != "requested" {
		return "", outcome.Ignore("deployment_protection_rule %s", e.GetAction())
	}
	repo := ghevent.RepoFrom(e.GetInstallation(), e.GetRepo())
	sha := e.GetDeployment().GetSHA()
	env := e.GetEnvironment()
	runID, err := callbackRun(a.cfg.GitHubURL, e.GetDeploymentCallbackURL(), repo.FullName())
	if err != nil {
		return "", outcome.Ignore("deployment_protection_rule: %v", err)
	}
	if sha == "" || env == "" || repo.Installation == 0 {
		return "", outcome.Ignore("deployment_protection_rule without a commit, environment or installation")
	}
	// The deployment's sha is the workflow's GITHUB_SHA: for a pull
	// request, a merge commit no check is on. The checks (the workflow's
	// own, every other CI's, and an approval by /deploy) are on the run's
	// head_sha, the pull request's head
	// (https://docs.github.com/actions/writing-workflows/choosing-when-your-workflow-runs/events-that-trigger-workflows#pull_request).
	client, err := a.gh.Installation(ctx, repo.Installation)
	if err != nil {
		return "", fmt.Errorf("installation client: %w", err)
	}
	run, _, err := client.Actions.GetWorkflowRunByID(ctx, repo.Owner, repo.Name, runID)
	if err != nil {
		return "", fmt.Errorf("workflow run %d: %w", runID, err)
	}
	if head := run.GetHeadSHA(); head != "" {
		sha = head
	}
	req := store.ProtectionRequest{
		CallbackURL: e.GetDeploymentCallbackURL(), Environment: env, InstallationID: repo.Installation,
		Repo: repo.FullName(), SHA: sha, WorkflowRunID: runID,
	}
	if err := a.db.AddProtectionRequest(ctx, req); err != nil {
		return "", err
	}
	ref := protectionRef(d.Payload, e)
	return a.reviewProtection(ctx, req, &ref)
}

// protectionRef is the ref a workflow deploys, for the policy's
// branches: and tags: rules: the payload's ref (refs/heads/ or
// refs/tags/), or for a pull request's merge ref
// (refs/pull/N/merge) its head branch, as stagegate's own runs of a pull
// request are judged. go-github's event has no ref; the payload does
// (https://docs.github.com/webhooks/webhook-events-and-payloads#deployment_protection_rule).
func protectionRef(payload []byte, e *github.DeploymentProtectionRuleEvent) policy.Ref {
	var p struct {
		Ref string `json:"ref"`
	}
	_ = json.Unmarshal(payload, &p) // already parsed once; a missing ref is ""
	if b, ok := strings.CutPrefix(p.Ref, "refs/heads/"); ok {
		return policy.Ref{Branch: b}
	}
	if t, ok := strings.CutPrefix(p.Ref, "refs/tags/"); ok {
		return policy.Ref{Tag: t}
	}
	if len(e.PullRequests) > 0 {
		return policy.Ref{Branch: e.PullRequests[0].GetHead().GetRef()}
	}
	return policy.Ref{}
}

// callbackRun checks that a callback URL is the review endpoint of a
// workflow run of repo on the configured GitHub, and returns the run's
// id. The installation token is sent to that URL, so it is never taken
// from the payload unchecked.
func callbackRun(apiURL, callback, repo string) (int64, error) {
	base, err := url.Parse(strings.TrimSuffix(apiURL, "/") + "/")
	if err != nil {
		return 0, fmt.Errorf("GitHub URL: %w", err)
	}
	u, err := url.Parse(callback)
	if err != nil || u.Scheme != base.Scheme || !strings.EqualFold(u.Host, base.Host) || u.RawQuery != "" || u.User != nil {
		return 0, fmt.Errorf("callback URL %q is not on %s", callback, base.Host)
	}
	rest, ok := strings.CutPrefix(u.Path, base.Path+"repos/")
	if !ok {
		return 0, fmt.Errorf("callback URL %q is not a repository's", callback)
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 6 || !strings.EqualFold(parts[0]+"/"+parts[1], repo) || parts[2] != "actions" || parts[3] != "runs" || parts[5] != "deployment_protection_rule" {
		return 0, fmt.Errorf("callback URL %q is not a workflow run review of %s", callback, repo)
	}
	id, err := strconv.ParseInt(parts[4], 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("callback URL %q: bad run id", callback)
	}
	return id, nil
}

// ReviewPendingProtection looks again at the requests waiting on a
// commit whose checks or statuses changed.
func (a *Deploys) ReviewPendingProtection(ctx context.Context, repo, sha string) {
	pending, err := a.db.PendingProtectionRequests(ctx, repo, sha)
	if err != nil {
		logger(ctx).Error().Err(err).Msg("pending protection requests")
		return
	}
	for _, p := range pending {
		if result, err := a.reviewProtection(ctx, p, nil); err != nil {
			logger(ctx).Warn().Err(err).Int64("workflow_run", p.WorkflowRunID).Msg("protection rule review")
		} else {
			logger(ctx).Info().Int64("workflow_run", p.WorkflowRunID).Str("environment", p.Environment).Msg(result)
		}
	}
}

// reviewProtection evaluates the gate for a request and answers it when
// it decides. ref, when known (on the request's delivery), is checked
// against the policy's branches: and tags:; a refusal answers at once.
func (a *Deploys) reviewProtection(ctx context.Context, p store.ProtectionRequest, ref *policy.Ref) (string, error) {
	client, err := a.gh.Installation(ctx, p.InstallationID)
	if err != nil {
		return "", fmt.Errorf("installation client: %w", err)
	}
	gate, err := a.protectionGate(ctx, client, p, ref)
	if _, transient := gatewait.TransientGitHub(err); transient {
		return fmt.Sprintf("protection rule for %s waits: GitHub did not answer (%v)", p.Environment, err), nil
	}
	if err != nil {
		return "", err
	}
	state, comment := "", ""
	switch gate.Decide() {
	case checks.Proceed:
		state, comment = "approved", fmt.Sprintf("stagegate: every requirement of %s is met on %s", p.Environment, ghevent.ShortSHA(p.SHA))
	case checks.Refuse:
		state, comment = "rejected", "stagegate: "+gate.Refusal()
	default:
		return fmt.Sprintf("protection rule for %s waits: %s", p.Environment, waitingOn(gate)), nil
	}
	if first, err := a.db.ProtectionAnswered(ctx, p.CallbackURL, p.Environment); err != nil || !first {
		return "protection rule already answered", err
	}
	if err := answerProtection(ctx, client, p, state, comment); err != nil {
		if uerr := a.db.ProtectionUnanswered(ctx, p.CallbackURL, p.Environment); uerr != nil {
			err = errors.Join(err, uerr)
		}
		return "", err
	}
	return fmt.Sprintf("protection rule for %s %s", p.Environment, state), nil
}

// maxProtectionComment keeps the comment short; GitHub shows it on the
// workflow run.
const maxProtectionComment = 1024

func answerProtection(ctx context.Context, client *github.Client, p store.ProtectionRequest, state, comment string) error {
	if len(comment) > maxProtectionComment {
		comment = comment[:maxProtectionComment-3] + "..."
	}
	req, err := client.NewRequest(http.MethodPost, p.CallbackURL, map[string]string{
		"environment_name": p.Environment, "state": state, "comment": comment,
	})
	if err != nil {
		return fmt.Errorf("protection rule answer: %w", err)
	}
	if _, err := client.Do(ctx, req, nil); err != nil {
		return fmt.Errorf("protection rule answer for run %d: %w", p.WorkflowRunID, err)
	}
	return nil
}

// protectionGate is the deploy gate of the request's commit. The
// workflow's own jobs that have not finished (the deploy job waiting on
// this rule among them) are left out: they wait for the answer.
func (a *Deploys) protectionGate(ctx context.Context, client *github.Client, p store.ProtectionRequest, ref *policy.Ref) (checks.Gate, error) {
	owner, name := ghevent.SplitRepo(p.Repo)
	gate := checks.Gate{Stage: "GitHub Actions", Environment: p.Environment, SHA: p.SHA}
	run, _, err := client.Actions.GetWorkflowRunByID(ctx, owner, name, p.WorkflowRunID)
	if err != nil {
		return gate, fmt.Errorf("workflow run %d: %w", p.WorkflowRunID, err)
	}
	if hr := run.GetHeadRepository(); hr.GetID() != 0 && hr.GetID() != run.GetRepository().GetID() {
		// A pull request from a fork runs the fork's code, which
		// stagegate never deploys (its own deploy stages do not run for
		// forks either); the fork's branch names mean nothing here.
		gate.Requirements = append(gate.Requirements, checks.Requirement{Kind: checks.KindPolicy, Name: "fork", State: checks.Failed,
			Detail: "the workflow runs code of the fork " + hr.GetFullName() + ", which stagegate does not approve for deploys"})
		return gate, nil
	}
	// The policy is the deploy gate's: the trusted sources' (the default
	// branch's environments:, the organization's default, GitHub's
	// settings), made stricter by the commit's own file. The commit alone
	// must not decide: a branch that drops its deploy stage or its
	// approval would otherwise deploy unreviewed.
	var commit *pipeline.Pipeline
	if conf, err := pipelineconf.Load(ctx, client.Repositories, owner, name, p.SHA); err == nil && conf.Valid() {
		commit = conf.Pipeline
	} else if err != nil && !errors.Is(err, pipelineconf.ErrNoPipeline) {
		return gate, err
	}
	preq := envpolicy.Request{Owner: owner, Repo: name, Environment: p.Environment, Commit: commit}
	if ref != nil {
		preq.Branch, preq.Tag = ref.Branch, ref.Tag
	}
	loaded, err := envpolicy.Load(ctx, client.Repositories, client.Repositories, preq)
	if err != nil {
		return gate, fmt.Errorf("could not read the deploy policy of %s: %w", p.Environment, err)
	}
	pol := loaded.Policy
	if ref != nil && pol.Known() {
		// GitHub's environment exists (its rule called), so the policy is
		// always known on GitHub; an environment stagegate's sources do
		// not name is not refused here.
		gate.Requirements = append(gate.Requirements, policyRequirement(loaded))
	}
	// The workflow's own jobs that have not finished (the deploy job
	// waiting on this rule among them) wait for the answer: they are left
	// out, but only in the run's own check suite, so that a job of the
	// same name elsewhere (another workflow's build) still counts.
	opts := a.checkOptions(pol)
	skipped := map[string]bool{}
	opts.Skip = func(cr *github.CheckRun) bool {
		own := cr.GetCheckSuite().GetID() == run.GetCheckSuiteID() && cr.GetStatus() != "completed"
		if own {
			skipped[cr.GetName()] = true
		}
		return own
	}
	reqs, err := checks.LoadChecks(ctx, client.Checks, client.Repositories, owner, name, p.SHA, opts)
	if err != nil {
		return gate, err
	}
	for _, r := range withRequired(reqs, pol.Require) {
		// A required name only the workflow's own unfinished job has is
		// not waited for: it may wait on this very answer.
		if r.Kind == checks.KindCheck && r.State == checks.Waiting && r.URL == "" && r.Detail == "has not reported yet" && skipped[r.Name] {
			continue
		}
		gate.Requirements = append(gate.Requirements, r)
	}
	if manualBeyondGitHub(pol.ManualBy) {
		r := checks.Requirement{Kind: checks.KindApproval, Name: "approval", State: checks.Waiting, Detail: "waiting for /deploy"}
		if ap, err := a.db.GetApproval(ctx, p.Repo, p.SHA, store.ApprovalDeploy, p.Environment); err == nil {
			// As in the deploy gate, the approver must still be allowed,
			// and not be who started the workflow when self-review is
			// prevented.
			err := a.mayApprove(ctx, client, store.Run{Repo: p.Repo, SHA: p.SHA, Actor: run.GetActor().GetLogin()}, ap.Approver, p.Environment, pol)
			if why, forbidden := access.IsForbidden(err); forbidden {
				r.Detail = "the approval no longer counts: " + why
			} else if err != nil {
				return gate, err
			} else {
				r.State, r.Detail = checks.Met, "approved by @"+ap.Approver
			}
		} else if !errors.Is(err, store.ErrNotFound) {
			return gate, err
		}
		gate.Requirements = append(gate.Requirements, r)
	}
	if holder := a.environments.HolderOf(ctx, p.Repo, p.Environment); holder != "" {
		gate.Requirements = append(gate.Requirements, checks.Requirement{Kind: checks.KindEnvironment, Name: p.Environment,
			State: checks.Waiting, Detail: "deploy of run " + holder + " in progress"})
	}
	return gate, nil
}

// manualBeyondGitHub reports whether a source other than GitHub's own
// environment settings asks for an approval: GitHub enforces its
// required reviewers on a workflow job itself, before or beside this rule.
func manualBeyondGitHub(by []string) bool {
	for _, name := range by {
		if !strings.HasPrefix(name, envpolicy.GitHubSourcePrefix) {
			return true
		}
	}
	return false
}

// waitingOn names what a waiting gate waits for.
func waitingOn(g checks.Gate) string {
	var names []string
	for _, r := range g.Requirements {
		if r.State != checks.Met {
			names = append(names, r.Name)
		}
	}
	return strings.Join(names, ", ")
}

package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-github/v60/github"

	"github.com/stagegate/stagegate/app/access"
	"github.com/stagegate/stagegate/app/ghevent"
	"github.com/stagegate/stagegate/app/store"
	"github.com/stagegate/stagegate/checks"
	"github.com/stagegate/stagegate/pipeline"
)

// commandDeploy is /deploy [environment [commit]] on a pull request: it
// approves the deploy stage of the run of the pull request's head commit,
// if that is the commit the approver saw or named (approval_head.go).
func (a *App) commandDeploy(ctx context.Context, cc commandContext, env, named string) (commandDone, error) {
	pr, err := a.pullRequest(ctx, cc)
	if err != nil {
		return commandDone{}, err
	}
	sha, err := a.approvedHead(ctx, cc, pr, named, "/deploy")
	if err != nil {
		return commandDone{}, err
	}
	run, err := a.checksOwner(ctx, cc.repo.FullName(), sha)
	if errors.Is(err, store.ErrNotFound) {
		return commandDone{}, access.Forbidden{Why: fmt.Sprintf("@%s stagegate has no run for %s to deploy", cc.login, short(sha))}
	}
	if err != nil {
		return commandDone{}, err
	}
	st, err := deployStage(run, env)
	if err != nil {
		return commandDone{}, access.Forbidden{Why: "@" + cc.login + " " + err.Error()}
	}
	return a.approveDeploy(ctx, cc.client, run, st, cc.login, cc.delivery)
}

// deployStage picks the stage a /deploy is for: the one deploying to env,
// or the only deploy stage when env is empty.
func deployStage(run store.Run, env string) (*pipeline.Stage, error) {
	p, err := runPipeline(run)
	if err != nil {
		return nil, err
	}
	var deploys []*pipeline.Stage
	var envs []string
	for _, s := range p.Stages {
		if s.Deploy() {
			deploys = append(deploys, s)
			envs = append(envs, s.Environment)
			if s.Environment == env {
				return s, nil
			}
		}
	}
	switch {
	case len(deploys) == 0:
		return nil, errors.New("this pipeline has no deploy stage (a stage with an environment)")
	case env != "":
		return nil, fmt.Errorf("no stage deploys to %q; the environments are %s", env, strings.Join(envs, ", "))
	case len(deploys) > 1:
		return nil, fmt.Errorf("name the environment: /deploy %s", strings.Join(envs, " or /deploy "))
	}
	return deploys[0], nil
}

// approveDeploy checks that login may deploy and that nothing on the
// commit is failing, records the approval for that commit, and lets the
// run's gate proceed: the waiting run is woken, or a finished run is run
// again from the deploy stage.
func (a *App) approveDeploy(ctx context.Context, client *github.Client, run store.Run, st *pipeline.Stage, login, delivery string) (commandDone, error) {
	p, err := runPipeline(run)
	if err != nil {
		return commandDone{}, err
	}
	// Who may approve, and whether the ref may deploy at all, come from
	// the trusted policy, never from the run's own file alone.
	loaded, err := deployPolicy(ctx, client, run, p, st.Environment)
	if err != nil {
		return commandDone{}, err
	}
	if ok, why := loaded.Policy.AllowsRef(loaded.Ref); !ok {
		return commandDone{}, access.Forbidden{Why: fmt.Sprintf("@%s cannot deploy to %s: %s", login, st.Environment, why)}
	}
	if err := a.mayApprove(ctx, client, run, login, st.Environment, loaded.Policy); err != nil {
		return commandDone{}, err
	}
	if why := a.cannotDeploy(ctx, run, st); why != "" {
		return commandDone{}, access.Forbidden{Why: "@" + login + " " + why}
	}
	reqs, err := a.loadChecks(ctx, client, run, loaded.Policy)
	if err != nil {
		return commandDone{}, err
	}
	gate := checks.Gate{Stage: st.Name, Environment: st.Environment, SHA: run.SHA, Requirements: reqs}
	if gate.Decide() == checks.Refuse {
		return commandDone{}, access.Forbidden{Why: "@" + login + " " + gate.Refusal()}
	}
	if err := a.db.Approve(ctx, store.Approval{Repo: run.Repo, SHA: run.SHA, Kind: store.ApprovalDeploy, Scope: st.Environment, Approver: login}); err != nil {
		return commandDone{}, err
	}
	if run.Status != store.StatusCompleted {
		a.wakeGates(ctx, run.Repo, run.SHA)
		return commandDone{result: fmt.Sprintf("deploy of %s to %s approved by %s", short(run.SHA), st.Environment, login)}, nil
	}
	req := rerunRequest(run, delivery)
	req.event.Actor = login
	req.rerunOf, req.rerunFrom = run.ID, st.Name
	result, err := a.startRun(ctx, req)
	if err != nil {
		return commandDone{}, err
	}
	return commandDone{result: "deploy approved: " + result}, nil
}

// cannotDeploy says why a run's deploy stage cannot deploy whatever the
// approval: it was superseded, it is a fork's, its condition is false for
// the event, or a stage before it failed.
func (a *App) cannotDeploy(ctx context.Context, run store.Run, st *pipeline.Stage) string {
	if run.SupersededBy != "" {
		return fmt.Sprintf("run %s was superseded by run %s: deploy the newer commit", run.ID, run.SupersededBy)
	}
	if run.Fork {
		return "deploy stages do not run for pull requests from forks"
	}
	p, err := runPipeline(run)
	if err != nil {
		return err.Error()
	}
	for _, sp := range pipeline.Decide(p, eventOf(run)).Stages {
		if sp.Stage.Name == st.Name && !sp.Run {
			return fmt.Sprintf("stage %s does not run for %s: %s", st.Name, short(run.SHA), sp.Reason)
		}
	}
	if run.Status != store.StatusCompleted {
		return ""
	}
	stages, err := a.db.StagesForRun(ctx, run.ID)
	if err != nil {
		return ""
	}
	for _, s := range stages {
		if s.Name == st.Name {
			break
		}
		if s.Conclusion != "success" && s.Conclusion != "skipped" {
			return fmt.Sprintf("stage %s of run %s did not pass (%s); /retry it first", s.Name, run.ID, s.Conclusion)
		}
	}
	return ""
}

// commandOkToTest lets the head commit of a fork's pull request run, if
// it is the commit the approver saw or named (approval_head.go). The
// approval is for that commit only: a new push needs a new /ok-to-test.
func (a *App) commandOkToTest(ctx context.Context, cc commandContext, named string) (commandDone, error) {
	if err := access.MayWrite(ctx, cc.client, cc.repo.Owner, cc.repo.Name, cc.login, "approve a fork's pull request for testing"); err != nil {
		return commandDone{}, err
	}
	pr, err := a.pullRequest(ctx, cc)
	if err != nil {
		return commandDone{}, err
	}
	if _, err := a.approvedHead(ctx, cc, pr, named, "/ok-to-test"); err != nil {
		return commandDone{}, err
	}
	ev, need, fork := ghevent.PullRequestEventOf(pr, cc.login)
	if err := a.db.Approve(ctx, store.Approval{Repo: cc.repo.FullName(), SHA: ev.SHA, Kind: store.ApprovalOkToTest, Approver: cc.login}); err != nil {
		return commandDone{}, err
	}
	result, err := a.startRun(ctx, runRequest{repo: cc.repo, event: ev, compare: need, fork: fork, delivery: cc.delivery})
	var ign errIgnored
	if errors.As(err, &ign) {
		return commandDone{result: ign.why, reply: fmt.Sprintf("@%s approved %s, but it starts no run: %s", cc.login, short(ev.SHA), ign.why)}, nil
	}
	if err != nil {
		return commandDone{}, err
	}
	return commandDone{result: result}, nil
}

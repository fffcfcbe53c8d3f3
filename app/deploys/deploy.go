package deploys

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

// DeployStage picks the stage a /deploy is for: the one deploying to env,
// or the only deploy stage when env is empty.
func DeployStage(run store.Run, env string) (*pipeline.Stage, error) {
	p, err := RunPipeline(run)
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

// ApproveDeploy checks that login may deploy and that nothing on the
// commit is failing, records the approval for that commit, and lets the
// run's gate proceed: the waiting run is woken, or a finished run is run
// again from the deploy stage.
func (a *Deploys) ApproveDeploy(ctx context.Context, client *github.Client, run store.Run, st *pipeline.Stage, login, delivery string) (string, error) {
	p, err := RunPipeline(run)
	if err != nil {
		return "", err
	}
	// Who may approve, and whether the ref may deploy at all, come from
	// the trusted policy, never from the run's own file alone.
	loaded, err := deployPolicy(ctx, client, run, p, st.Environment)
	if err != nil {
		return "", err
	}
	if ok, why := loaded.Policy.AllowsRef(loaded.Ref); !ok {
		return "", access.Forbidden{Why: fmt.Sprintf("@%s cannot deploy to %s: %s", login, st.Environment, why)}
	}
	if err := a.mayApprove(ctx, client, run, login, st.Environment, loaded.Policy); err != nil {
		return "", err
	}
	if why := a.cannotDeploy(ctx, run, st); why != "" {
		return "", access.Forbidden{Why: "@" + login + " " + why}
	}
	reqs, err := a.loadChecks(ctx, client, run, loaded.Policy)
	if err != nil {
		return "", err
	}
	gate := checks.Gate{Stage: st.Name, Environment: st.Environment, SHA: run.SHA, Requirements: reqs}
	if gate.Decide() == checks.Refuse {
		return "", access.Forbidden{Why: "@" + login + " " + gate.Refusal()}
	}
	if err := a.db.Approve(ctx, store.Approval{Repo: run.Repo, SHA: run.SHA, Kind: store.ApprovalDeploy, Scope: st.Environment, Approver: login}); err != nil {
		return "", err
	}
	if run.Status != store.StatusCompleted {
		a.waiters.Wake(ctx, run.Repo, run.SHA)
		return fmt.Sprintf("deploy of %s to %s approved by %s", ghevent.ShortSHA(run.SHA), st.Environment, login), nil
	}
	result, err := a.rerun(ctx, run, st.Name, login, delivery)
	if err != nil {
		return "", err
	}
	return "deploy approved: " + result, nil
}

// cannotDeploy says why a run's deploy stage cannot deploy whatever the
// approval: it was superseded, it is a fork's, its condition is false for
// the event, or a stage before it failed.
func (a *Deploys) cannotDeploy(ctx context.Context, run store.Run, st *pipeline.Stage) string {
	if run.SupersededBy != "" {
		return fmt.Sprintf("run %s was superseded by run %s: deploy the newer commit", run.ID, run.SupersededBy)
	}
	if run.Fork {
		return "deploy stages do not run for pull requests from forks"
	}
	p, err := RunPipeline(run)
	if err != nil {
		return err.Error()
	}
	for _, sp := range pipeline.Decide(p, ghevent.FromRun(run)).Stages {
		if sp.Stage.Name == st.Name && !sp.Run {
			return fmt.Sprintf("stage %s does not run for %s: %s", st.Name, ghevent.ShortSHA(run.SHA), sp.Reason)
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

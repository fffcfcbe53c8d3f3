package deploys

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/stagegate/stagegate/app/access"
	"github.com/stagegate/stagegate/app/gatewait"
	"github.com/stagegate/stagegate/app/ghevent"
	"github.com/stagegate/stagegate/app/running"
	"github.com/stagegate/stagegate/app/store"
	"github.com/stagegate/stagegate/checks"
	"github.com/stagegate/stagegate/pipeline"
	"github.com/stagegate/stagegate/pipeline/engine"
	"github.com/stagegate/stagegate/pipeline/policy"
)

// Gate guards a run's deploy stages. It waits, without polling,
// until every other check on the commit has passed, the stage is
// approved if it must be, and its environment is free; then it records a
// GitHub deployment for the stage.
type Gate struct {
	a        *Deploys
	run      store.Run
	client   *github.Client
	reporter *checks.Reporter
	// slot is the run's build slot, given back while the gate waits.
	slot *running.Slot
	// pipeline is the run's own file, which can make the policy of its
	// environments stricter only.
	pipeline *pipeline.Pipeline
	// policies are the policies last evaluated, by stage; reached is
	// when each stage reached its gate, for wait timers, and due when
	// the current stage's timer ends. Only the engine's stage loop
	// touches them.
	policies map[string]policy.Policy
	reached  map[string]time.Time
	due      time.Time
}

// Secrets implements engine.Run.GateSecrets: the secrets of the
// environment, under the policy the passed gate was evaluated with.
func (g *Gate) Secrets(st *pipeline.Stage) map[string]string {
	pol, ok := g.policies[st.Name]
	if !ok {
		return nil
	}
	return environmentSecrets(pol)
}

// Gate implements engine.Run.Gate.
func (g *Gate) Gate(ctx context.Context, st *pipeline.Stage) (func(), error) {
	changed, stop := g.a.waiters.Watch(g.run.Repo, g.run.SHA)
	defer stop()
	defer g.a.environments.Gating(g.run.ID)()
	g.slot.Release()
	release, err := g.wait(ctx, st, changed)
	if err != nil {
		return nil, err
	}
	if err := g.slot.Acquire(ctx); err != nil {
		release()
		return nil, err
	}
	return release, nil
}

// wait re-evaluates the gate whenever something about the commit
// changes, until the stage may run or may not.
func (g *Gate) wait(ctx context.Context, st *pipeline.Stage, changed <-chan struct{}) (func(), error) {
	failures := 0
	for {
		gate, err := g.evaluate(ctx, st)
		if asked, ok := gatewait.TransientGitHub(err); ok {
			// GitHub did not answer: that is no verdict on the checks.
			failures++
			again := gatewait.RetryDelay(failures, asked)
			g.reporter.ShowGate(gatewait.Unreadable(gate, err, again))
			if err := gatewait.WaitToReadAgain(ctx, again, changed); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		failures = 0
		g.reporter.ShowGate(gate)
		g.a.gateShown(ctx, g.run.ID, gate)
		decision := gate.Decide()
		if decision == checks.Wait && waitsOnlyForEnvironment(gate) {
			// The environment's line is where to wait: admit queues for
			// it in order, and no event would wake this loop when the
			// deploy ahead ends.
			decision = checks.Proceed
		}
		switch decision {
		case checks.Refuse:
			return nil, errors.New(gate.Refusal())
		case checks.Proceed:
			release, ok, err := g.admit(ctx, st, changed)
			if err != nil || ok {
				return release, err
			}
			// Something changed while waiting for the environment: look
			// at every requirement again.
			continue
		}
		if err := g.sleep(ctx, changed); err != nil {
			return nil, err
		}
	}
}

// sleep waits until something about the commit changes or the wait
// timer ends.
func (g *Gate) sleep(ctx context.Context, changed <-chan struct{}) error {
	var timeUp <-chan time.Time
	if !g.due.IsZero() {
		t := time.NewTimer(time.Until(g.due))
		defer t.Stop()
		timeUp = t.C
	}
	select {
	case <-changed:
	case <-timeUp:
	case <-ctx.Done():
		return context.Cause(ctx)
	}
	return nil
}

// admit takes the environment, waiting in line for it, and checks the
// requirements once more before starting the deployment: they may have
// changed while the deploy waited.
func (g *Gate) admit(ctx context.Context, st *pipeline.Stage, changed <-chan struct{}) (func(), bool, error) {
	release, err := g.a.environments.Acquire(ctx, g.run.Repo, st.Environment, g.run.ID)
	if err != nil {
		return nil, false, err
	}
	gate, err := g.evaluate(ctx, st)
	if _, ok := gatewait.TransientGitHub(err); ok {
		// Not admitted yet: wait will look again.
		release()
		return nil, false, nil
	}
	if err != nil {
		release()
		return nil, false, err
	}
	if gate.Decide() != checks.Proceed {
		release()
		return nil, false, nil
	}
	g.reporter.ShowGate(gate)
	g.a.gateShown(ctx, g.run.ID, gate)
	owner, name := ghevent.SplitRepo(g.run.Repo)
	approver := ""
	if a, err := g.a.db.GetApproval(ctx, g.run.Repo, g.run.SHA, store.ApprovalDeploy, st.Environment); err == nil {
		approver = a.Approver
	}
	d, err := checks.StartDeployment(ctx, g.client.Repositories, checks.Target{Owner: owner, Repo: name, HeadSHA: g.run.SHA, RunID: g.run.ID},
		checks.DeploymentInfo{Environment: st.Environment, URL: st.URL, Stage: st.Name, Approver: approver})
	if err != nil {
		if d != nil {
			// Created, but its first status failed: end it, rather than
			// leave it pending on the environment's page.
			_ = d.Finish(ctx, engine.StatusCancelled, false, "stagegate could not start this deployment")
		}
		release()
		return nil, false, fmt.Errorf("could not create the GitHub deployment: %w", err)
	}
	// Remembered, so that the next process ends it if this one dies
	// during the deploy.
	if err := g.a.db.RecordDeployment(ctx, store.Deployment{RunID: g.run.ID, Stage: st.Name, DeploymentID: d.ID}); err != nil {
		logger(ctx).Error().Err(err).Msg("record deployment")
	}
	// The reporter posts the deployment's in_progress and final statuses
	// with the stage check's page as their log.
	g.reporter.TrackDeployment(st.Name, d)
	return release, true, nil
}

// evaluate gathers the requirements of a deploy stage: the policy's
// consent to the ref, the other checks on the commit, the wait timer,
// the approval and the environment. The engine calls the
// gate only once the earlier stages have passed.
func (g *Gate) evaluate(ctx context.Context, st *pipeline.Stage) (checks.Gate, error) {
	gate := checks.Gate{Stage: st.Name, Environment: st.Environment, SHA: g.run.SHA}
	gate.Requirements = append(gate.Requirements, checks.Requirement{Kind: "stages", Name: "earlier stages", State: checks.Met, Detail: "passed"})
	// The policy comes from trusted sources, read now: a change merged
	// while the deploy waits counts.
	loaded, err := deployPolicy(ctx, g.client, g.run, g.pipeline, st.Environment)
	if err != nil {
		return gate, err
	}
	pol := loaded.Policy
	if g.policies == nil {
		g.policies, g.reached = map[string]policy.Policy{}, map[string]time.Time{}
	}
	g.policies[st.Name] = pol
	allowed := policyRequirement(loaded)
	gate.Requirements = append(gate.Requirements, allowed)
	if allowed.State == checks.Failed {
		return gate, nil
	}
	// stagegate's own checks never count: the summary is in progress
	// while the run waits, deploy checks would wait for each other, and
	// the earlier stages are a requirement of their own.
	reqs, err := g.a.loadChecks(ctx, g.client, g.run, pol)
	if err != nil {
		return gate, fmt.Errorf("could not read the checks of %s: %w", ghevent.ShortSHA(g.run.SHA), err)
	}
	gate.Requirements = append(gate.Requirements, reqs...)
	if _, ok := g.reached[st.Name]; !ok {
		g.reached[st.Name] = time.Now()
	}
	g.due = time.Time{}
	if r, due, ok := waitTimer(pol, g.reached[st.Name], time.Now()); ok {
		gate.Requirements = append(gate.Requirements, r)
		if r.State == checks.Waiting {
			g.due = due
		}
	}
	if pol.Manual {
		r := checks.Requirement{Kind: "approval", Name: "approval", State: checks.Waiting, Detail: "waiting for /deploy or the Deploy button"}
		if a, err := g.a.db.GetApproval(ctx, g.run.Repo, g.run.SHA, store.ApprovalDeploy, st.Environment); err == nil {
			// The approver must still be allowed under the policy as it
			// is now: reviewers may have been required since.
			err := g.a.mayApprove(ctx, g.client, g.run, a.Approver, st.Environment, pol)
			if why, forbidden := access.IsForbidden(err); forbidden {
				r.Detail = "the approval no longer counts: " + why
			} else if err != nil {
				return gate, err
			} else {
				r.State, r.Detail = checks.Met, fmt.Sprintf("approved by @%s for %s", a.Approver, ghevent.ShortSHA(g.run.SHA))
			}
		} else if !errors.Is(err, store.ErrNotFound) {
			return gate, err
		}
		gate.Requirements = append(gate.Requirements, r)
	}
	env := checks.Requirement{Kind: "environment", Name: st.Environment, State: checks.Met, Detail: "free"}
	if holder := g.a.environments.HolderOf(ctx, g.run.Repo, st.Environment); holder != "" && holder != g.run.ID {
		env.State, env.Detail = checks.Waiting, "deploy of run "+holder+" in progress"
	}
	gate.Requirements = append(gate.Requirements, env)
	return gate, nil
}

// waitsOnlyForEnvironment reports whether every requirement but the
// environment is met.
func waitsOnlyForEnvironment(g checks.Gate) bool {
	for _, r := range g.Requirements {
		if r.State != checks.Met && r.Kind != checks.KindEnvironment {
			return false
		}
	}
	return true
}

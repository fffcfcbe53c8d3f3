package deploys

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/stagegate/stagegate/app/access"
	"github.com/stagegate/stagegate/app/envpolicy"
	"github.com/stagegate/stagegate/app/ghevent"
	"github.com/stagegate/stagegate/app/pipelineconf"
	"github.com/stagegate/stagegate/app/store"
	"github.com/stagegate/stagegate/checks"
	"github.com/stagegate/stagegate/pipeline"
	"github.com/stagegate/stagegate/pipeline/policy"
)

// deployPolicy loads the policy of environment env for a deploy of run,
// whose own pipeline file is p: the trusted sources', made stricter by
// p's.
func deployPolicy(ctx context.Context, client *github.Client, run store.Run, p *pipeline.Pipeline, env string) (*envpolicy.Loaded, error) {
	owner, name := ghevent.SplitRepo(run.Repo)
	ev := ghevent.FromRun(run)
	l, err := envpolicy.Load(ctx, client.Repositories, client.Repositories, envpolicy.Request{
		Owner: owner, Repo: name, Environment: env, Commit: p, Branch: run.Branch, Tag: run.Tag, Event: &ev,
	})
	if err != nil {
		return nil, fmt.Errorf("could not read the deploy policy of %s: %w", env, err)
	}
	return l, nil
}

// policyRequirement is the gate's requirement that the policy lets the
// run's ref deploy to the environment.
func policyRequirement(l *envpolicy.Loaded) checks.Requirement {
	r := checks.Requirement{Kind: checks.KindPolicy, Name: "deploy policy"}
	if ok, why := l.Policy.AllowsRef(l.Ref); !ok {
		r.State, r.Detail = checks.Failed, why
		return r
	}
	r.State, r.Detail = checks.Met, fmt.Sprintf("%s may deploy (%s)", l.Ref, strings.Join(l.Policy.Defined, "; "))
	return r
}

// checkOptions are the options that read the commit's checks under the
// policy: only its required names when a trusted source lists them, else
// every check.
func (a *Deploys) checkOptions(pol policy.Policy) checks.CheckOptions {
	opts := checks.CheckOptions{OwnAppID: a.cfg.AppID, Exclude: checks.OwnCheck}
	if pol.Exclusive {
		opts.Require = pol.Require
	}
	return opts
}

// withRequired adds a waiting requirement for each name in require that
// the commit's checks do not have yet: names the commit asks for on top
// of every check.
func withRequired(reqs []checks.Requirement, require []string) []checks.Requirement {
	for _, name := range require {
		if checks.OwnCheck(name) || slices.ContainsFunc(reqs, func(r checks.Requirement) bool { return r.Name == name }) {
			continue
		}
		reqs = append(reqs, checks.Requirement{Kind: checks.KindCheck, Name: name, State: checks.Waiting, Detail: "has not reported yet"})
	}
	return reqs
}

// loadChecks reads the commit's checks as the policy counts them.
func (a *Deploys) loadChecks(ctx context.Context, client *github.Client, run store.Run, pol policy.Policy) ([]checks.Requirement, error) {
	owner, name := ghevent.SplitRepo(run.Repo)
	reqs, err := checks.LoadChecks(ctx, client.Checks, client.Repositories, owner, name, run.SHA, a.checkOptions(pol))
	if err != nil {
		return nil, err
	}
	return withRequired(reqs, pol.Require), nil
}

// maxRerunHops bounds the walk from a re-run to the run it repeats.
const maxRerunHops = 20

// initiator is who started the deploy for self-review: the actor of the
// first run of a chain of re-runs, since a re-run started by an approval
// carries the approver as its actor.
func (a *Deploys) initiator(ctx context.Context, run store.Run) string {
	for range maxRerunHops {
		if run.RerunOf == "" {
			break
		}
		prev, err := a.db.GetRun(ctx, run.RerunOf)
		if err != nil {
			break
		}
		run = prev
	}
	return run.Actor
}

// mayApprove allows login to approve a deploy under the policy.
func (a *Deploys) mayApprove(ctx context.Context, client *github.Client, run store.Run, login, env string, pol policy.Policy) error {
	owner, name := ghevent.SplitRepo(run.Repo)
	perm, err := access.Permission(ctx, client, owner, name, login)
	if err != nil {
		return err
	}
	ok, why, err := pol.MayApprove(policy.Approver{
		Login: login, Writer: access.CanWrite(perm), Permission: perm, Repo: run.Repo,
		Member: func(team string) (bool, error) {
			org, slug, _ := strings.Cut(team, "/")
			return access.TeamMember(ctx, client, org, slug, login)
		},
	}, a.initiator(ctx, run))
	if err != nil {
		return err
	}
	if !ok {
		return access.Forbidden{Why: fmt.Sprintf("@%s cannot deploy to %s: %s", login, env, why)}
	}
	return nil
}

// waitTimer is the gate's requirement of the environment's wait timer,
// counted from when the run reached the gate; due is when it ends.
func waitTimer(pol policy.Policy, reached, now time.Time) (checks.Requirement, time.Time, bool) {
	if pol.WaitTimer <= 0 {
		return checks.Requirement{}, time.Time{}, false
	}
	due := reached.Add(pol.WaitTimer)
	r := checks.Requirement{Kind: checks.KindWaitTimer, Name: "", State: checks.Met,
		Detail: fmt.Sprintf("%s, set by %s, passed", pol.WaitTimer, pol.WaitTimerBy)}
	if now.Before(due) {
		r.State = checks.Waiting
		r.Detail = fmt.Sprintf("%s, set by %s: until %s", pol.WaitTimer, pol.WaitTimerBy, due.UTC().Format("15:04:05 UTC"))
	}
	return r, due, true
}

// environmentSecrets reads the values of the policy's secrets, for the
// actions of a deploy whose gate passed.
func environmentSecrets(pol policy.Policy) map[string]string {
	out := map[string]string{}
	for _, name := range pol.Secrets {
		if v, ok := lookupSecret(name); ok {
			out[name] = v
		}
	}
	return out
}

// trustedPipelineSecrets narrows lookup to the pipeline-wide secrets the
// trusted file grants: a branch cannot ask for a secret by naming it.
func trustedPipelineSecrets(p *pipeline.Pipeline, trusted *pipelineconf.Trusted) func(string) (string, bool) {
	allowed := policy.PipelineSecrets(p, trusted.Pipeline())
	return func(name string) (string, bool) {
		if !slices.Contains(allowed, name) {
			return "", false
		}
		return lookupSecret(name)
	}
}

// errNoTrusted marks a run whose trusted files could not be read.
var errNoTrusted = errors.New("could not read the default branch's pipeline file")

// RunTrust is what a run needs of its trusted files: the secrets lookup
// and the summary's notes. It reads them only when the run needs them:
// for pipeline-wide secrets, or for a pull request whose change to
// `environments:` the summary should point out.
func (a *Deploys) RunTrust(ctx context.Context, client *github.Client, run store.Run, p *pipeline.Pipeline) (lookup func(string) (string, bool), notes []string, err error) {
	pr := run.Event == string(pipeline.EventPullRequest)
	needSecrets := !run.Fork && len(p.Secrets) > 0
	if !needSecrets && !pr {
		return lookupSecret, nil, nil
	}
	owner, name := ghevent.SplitRepo(run.Repo)
	trusted, err := pipelineconf.LoadTrusted(ctx, client.Repositories, owner, name)
	switch {
	case err != nil && needSecrets:
		return nil, nil, fmt.Errorf("%w: %w", errNoTrusted, err)
	case err != nil:
		// Only the note is lost; a fork's run gets no secrets anyway.
		logger(ctx).Warn().Err(err).Msg("read the trusted pipeline file for the summary's note")
		return lookupSecret, nil, nil
	}
	if pr {
		if changed := policy.EnvironmentsChanged(p, trusted.Pipeline()); len(changed) > 0 {
			notes = append(notes, fmt.Sprintf("ℹ️ This pull request changes `environments:` (%s). The change takes effect once it is merged into %s: until then deploys follow the policy of %s's %s.",
				strings.Join(changed, ", "), trusted.DefaultBranch, trusted.DefaultBranch, pipeline.DefaultFile))
		}
	}
	return trustedPipelineSecrets(p, trusted), notes, nil
}

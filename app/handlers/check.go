package handlers

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-github/v60/github"

	"github.com/stagegate/stagegate/app/access"
	"github.com/stagegate/stagegate/app/comments"
	"github.com/stagegate/stagegate/app/deploys"
	"github.com/stagegate/stagegate/app/ghevent"
	"github.com/stagegate/stagegate/app/outcome"
	"github.com/stagegate/stagegate/app/store"
	"github.com/stagegate/stagegate/checks"
	"github.com/stagegate/stagegate/pipeline"
)

// handleCheckRun re-runs a stage, and the stages after it, when someone
// clicks "Re-run" on its check. Earlier stages' results and artifacts are
// reused.
func (a *Handlers) handleCheckRun(ctx context.Context, d store.Delivery, e *github.CheckRunEvent) (string, error) {
	repo := ghevent.RepoFrom(e.GetInstallation(), e.GetRepo())
	switch e.GetAction() {
	case "completed":
		// A check that ends may open, or close, a deploy gate.
		a.waiters.Wake(ctx, repo.FullName(), e.GetCheckRun().GetHeadSHA())
		a.deploys.ReviewPendingProtection(ctx, repo.FullName(), e.GetCheckRun().GetHeadSHA())
		return "", outcome.Ignore("check %s completed: gates of %s told", e.GetCheckRun().GetName(), ghevent.ShortSHA(e.GetCheckRun().GetHeadSHA()))
	case "requested_action":
		return a.handleDeployButton(ctx, d, repo, e)
	case "rerequested":
	default:
		return "", outcome.Ignore("check_run %s", e.GetAction())
	}
	if e.GetCheckRun().GetApp().GetID() != a.cfg.AppID {
		return "", outcome.Ignore("check run of another app")
	}
	runID, stage := checks.ParseExternalID(e.GetCheckRun().GetExternalID())
	old, err := a.db.GetRun(ctx, runID)
	if errors.Is(err, store.ErrNotFound) {
		return "", outcome.Ignore("check run %d belongs to no known run", e.GetCheckRun().GetID())
	}
	if err != nil {
		return "", fmt.Errorf("load run: %w", err)
	}
	req := RerunRequest(old, d.GUID)
	req.Event.Actor = e.GetSender().GetLogin()
	if stage != "" {
		req.RerunOf, req.RerunFrom = old.ID, stage
	}
	return a.runs.Start(ctx, req)
}

// handleCheckSuite re-runs the whole pipeline for a SHA when the suite is
// re-requested. A "requested" suite is ignored: the push that created it
// has started the run already.
func (a *Handlers) handleCheckSuite(ctx context.Context, d store.Delivery, e *github.CheckSuiteEvent) (string, error) {
	repo := ghevent.RepoFrom(e.GetInstallation(), e.GetRepo())
	switch e.GetAction() {
	case "completed":
		a.waiters.Wake(ctx, repo.FullName(), e.GetCheckSuite().GetHeadSHA())
		a.deploys.ReviewPendingProtection(ctx, repo.FullName(), e.GetCheckSuite().GetHeadSHA())
		return "", outcome.Ignore("check suite completed: gates of %s told", ghevent.ShortSHA(e.GetCheckSuite().GetHeadSHA()))
	case "rerequested":
	default:
		return "", outcome.Ignore("check_suite %s", e.GetAction())
	}
	old, err := a.runs.ChecksOwner(ctx, repo.FullName(), e.GetCheckSuite().GetHeadSHA())
	if errors.Is(err, store.ErrNotFound) {
		return "", outcome.Ignore("no run for %s to re-run", e.GetCheckSuite().GetHeadSHA())
	}
	if err != nil {
		return "", fmt.Errorf("load run: %w", err)
	}
	req := RerunRequest(old, d.GUID)
	req.Event.Actor = e.GetSender().GetLogin()
	return a.runs.Start(ctx, req)
}

// RerunRequest asks for a run of the same event as an earlier run.
func RerunRequest(old store.Run, delivery string) RunRequest {
	owner, name, _ := strings.Cut(old.Repo, "/")
	return RunRequest{
		Repo:     ghevent.RepoRef{Installation: old.InstallationID, Owner: owner, Name: name},
		Event:    ghevent.FromRun(old),
		Fork:     old.Fork,
		Delivery: delivery,
		Again:    true,
	}
}

// handleStatus tells the deploy gates of a commit that one of its commit
// statuses changed.
func (a *Handlers) handleStatus(ctx context.Context, e *github.StatusEvent) (string, error) {
	repo := ghevent.RepoFrom(e.GetInstallation(), e.GetRepo())
	a.waiters.Wake(ctx, repo.FullName(), e.GetSHA())
	a.deploys.ReviewPendingProtection(ctx, repo.FullName(), e.GetSHA())
	return "", outcome.Ignore("status %s is %s: gates of %s told", e.GetContext(), e.GetState(), ghevent.ShortSHA(e.GetSHA()))
}

// handleDeployButton is a click on a deploy stage's Deploy button: the
// same approval as /deploy, by whoever clicked.
func (a *Handlers) handleDeployButton(ctx context.Context, d store.Delivery, repo ghevent.RepoRef, e *github.CheckRunEvent) (string, error) {
	if e.GetCheckRun().GetApp().GetID() != a.cfg.AppID || e.GetRequestedAction().Identifier != checks.DeployActionID {
		return "", outcome.Ignore("requested action %q of check %s", e.GetRequestedAction().Identifier, e.GetCheckRun().GetName())
	}
	runID, stage := checks.ParseExternalID(e.GetCheckRun().GetExternalID())
	run, err := a.db.GetRun(ctx, runID)
	if err != nil {
		return "", fmt.Errorf("load run of the Deploy button: %w", err)
	}
	st, err := stageOf(run, stage)
	if err != nil {
		return "", err
	}
	client, err := a.gh.Installation(ctx, repo.Installation)
	if err != nil {
		return "", fmt.Errorf("installation client: %w", err)
	}
	login := e.GetSender().GetLogin()
	result, err := a.deploys.ApproveDeploy(ctx, client, run, st, login, d.GUID)
	if why, forbidden := access.IsForbidden(err); forbidden {
		// A button has no reply of its own: answer on the pull requests
		// the check belongs to, or, for a push, on the check itself.
		prs := e.GetCheckRun().PullRequests
		for _, pr := range prs {
			if err := comments.Reply(ctx, client, repo, pr.GetNumber(), why); err != nil {
				return "", err
			}
		}
		if len(prs) == 0 {
			if err := noteOnCheck(ctx, client, repo, e.GetCheckRun(), "⛔ "+why); err != nil {
				return "", err
			}
		}
		return "refused: " + why, nil
	}
	return result, err
}

// stageOf finds a stage of a run's pipeline by name.
func stageOf(run store.Run, name string) (*pipeline.Stage, error) {
	p, err := deploys.RunPipeline(run)
	if err != nil {
		return nil, err
	}
	for _, s := range p.Stages {
		if s.Name == name {
			return s, nil
		}
	}
	return nil, fmt.Errorf("run %s has no stage %q", run.ID, name)
}

// noteOnCheck puts a note above a check run's summary, keeping its
// title, conclusion and buttons.
func noteOnCheck(ctx context.Context, client *github.Client, repo ghevent.RepoRef, cr *github.CheckRun, note string) error {
	out := cr.GetOutput()
	summary := checks.WithNote(note, out.GetSummary())
	_, _, err := client.Checks.UpdateCheckRun(ctx, repo.Owner, repo.Name, cr.GetID(), github.UpdateCheckRunOptions{
		Name:   cr.GetName(),
		Output: &github.CheckRunOutput{Title: github.String(out.GetTitle()), Summary: github.String(summary)},
	})
	if err != nil {
		return fmt.Errorf("note the refusal on check %d: %w", cr.GetID(), err)
	}
	return nil
}

package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/go-github/v60/github"

	"github.com/stagegate/stagegate/app/store"
	"github.com/stagegate/stagegate/checks"
)

// handleCheckRun re-runs a stage, and the stages after it, when someone
// clicks "Re-run" on its check. Earlier stages' results and artifacts are
// reused.
func (a *App) handleCheckRun(ctx context.Context, d store.Delivery, e *github.CheckRunEvent) (string, error) {
	if e.GetAction() != "rerequested" {
		return "", ignored("check_run %s", e.GetAction())
	}
	if e.GetCheckRun().GetApp().GetID() != a.cfg.AppID {
		return "", ignored("check run of another app")
	}
	runID, stage := checks.ParseExternalID(e.GetCheckRun().GetExternalID())
	old, err := a.db.GetRun(ctx, runID)
	if errors.Is(err, store.ErrNotFound) {
		return "", ignored("check run %d belongs to no known run", e.GetCheckRun().GetID())
	}
	if err != nil {
		return "", fmt.Errorf("load run: %w", err)
	}
	req := rerunRequest(old, d.GUID)
	req.event.Actor = e.GetSender().GetLogin()
	if stage != "" {
		req.rerunOf, req.rerunFrom = old.ID, stage
	}
	return a.startRun(ctx, req)
}

// handleCheckSuite re-runs the whole pipeline for a SHA when the suite is
// re-requested. A "requested" suite is ignored: the push that created it
// has started the run already.
func (a *App) handleCheckSuite(ctx context.Context, d store.Delivery, e *github.CheckSuiteEvent) (string, error) {
	if e.GetAction() != "rerequested" {
		return "", ignored("check_suite %s", e.GetAction())
	}
	repo := repoFrom(e.GetInstallation(), e.GetRepo())
	old, err := a.db.LatestRunForSHA(ctx, repo.FullName(), e.GetCheckSuite().GetHeadSHA())
	if errors.Is(err, store.ErrNotFound) {
		return "", ignored("no run for %s to re-run", e.GetCheckSuite().GetHeadSHA())
	}
	if err != nil {
		return "", fmt.Errorf("load run: %w", err)
	}
	req := rerunRequest(old, d.GUID)
	req.event.Actor = e.GetSender().GetLogin()
	return a.startRun(ctx, req)
}

// rerunRequest asks for a run of the same event as an earlier run.
func rerunRequest(old store.Run, delivery string) runRequest {
	owner, name := splitRepo(old.Repo)
	return runRequest{
		repo:     repoRef{Installation: old.InstallationID, Owner: owner, Name: name},
		event:    eventOf(old),
		fork:     old.Fork,
		delivery: delivery,
	}
}

package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/google/go-github/v60/github"

	"github.com/stagegate/stagegate/app/ghevent"
	"github.com/stagegate/stagegate/app/logkey"
	"github.com/stagegate/stagegate/app/queue"
	"github.com/stagegate/stagegate/app/rundirs"
	"github.com/stagegate/stagegate/app/source"
	"github.com/stagegate/stagegate/app/store"
	"github.com/stagegate/stagegate/checks"
)

// errShuttingDown cancels the runs still going when a stop's grace period
// ends; they are queued again for the next start.
var errShuttingDown = errors.New("stagegate is shutting down")

// reconcile finds the runs a previous process left in progress (it was
// killed, or its machine stopped), concludes their check runs so none
// stays in progress forever, and queues each run again as a new run.
func (a *App) reconcile(ctx context.Context) error {
	a.runs.MoveLegacyDirs(ctx)
	// Nothing runs yet: whatever is in the scratch directories was left
	// by a process that died.
	for _, dir := range rundirs.ScratchRoots(a.cfg.DataDir) {
		if err := emptyDir(dir); err != nil {
			logger(ctx).Warn().Err(err).Str("dir", dir).Msg("clean up after a previous process")
		}
	}
	// The runs in progress that no replica holds: this process's
	// predecessor's, once their leases lapsed, and those of a replica
	// that died; a live replica's runs are its own.
	if _, err := a.replica.RecoverOrphans(ctx); err != nil {
		return err
	}
	// A queued run's job may be gone (discarded while the process
	// stopped); a second job for a run is harmless, since a run starts
	// once.
	queued, err := a.db.QueuedRuns(ctx)
	if err != nil {
		return err
	}
	for _, run := range queued {
		if _, err := a.queue.Insert(ctx, queue.RunArgs{RunID: run.ID}, nil); err != nil {
			return fmt.Errorf("queue run %s again: %w", run.ID, err)
		}
	}
	return nil
}

// emptyDir removes everything inside dir.
func emptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var errs []error
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		// A build may have left read-only directories.
		errs = append(errs, source.Remove(filepath.Join(abs, e.Name())))
	}
	return errors.Join(errs...)
}

// restartRun concludes an interrupted run's checks as cancelled, with
// the reason and the run that replaces it, and queues that new run.
func (a *App) restartRun(ctx context.Context, run store.Run, why string) error {
	// Reload: the check run ids were recorded while the run went on.
	run, err := a.db.GetRun(ctx, run.ID)
	if err != nil {
		return err
	}
	p, err := runPipeline(run)
	if err != nil {
		return err
	}
	next := run
	next.ID, next.Status, next.Conclusion, next.Reason = "", "", "", ""
	next.SummaryCheckID, next.SupersededBy = 0, ""
	// The new run starts at the stage that was interrupted, reusing the
	// results, outputs and artifacts of the stages that had passed, as a
	// re-run from a stage does.
	if from, err := a.resumeFrom(ctx, run); err != nil {
		return err
	} else if from != "" {
		next.RerunOf, next.RerunFromStage = run.ID, from
	}
	cloneURL, err := a.db.CloneURL(ctx, run.ID)
	if err != nil {
		return err
	}
	next, err = a.runs.Record(ctx, next, p, cloneURL)
	if err != nil {
		return err
	}
	reason := fmt.Sprintf("%s; it started again as run %s", why, next.ID)
	if err := a.concludeChecks(ctx, run, reason); err != nil {
		logger(ctx).Error().Err(err).Str(logkey.Run, run.ID).Msg("conclude checks of an interrupted run")
	}
	if err := a.endDeployments(ctx, run, reason); err != nil {
		logger(ctx).Error().Err(err).Str(logkey.Run, run.ID).Msg("end deployments of an interrupted run")
	}
	if err := a.db.FinishRun(ctx, run.ID, "cancelled", reason); err != nil && !errors.Is(err, store.ErrRunFinished) {
		return err
	}
	logger(ctx).Warn().Str(logkey.Run, run.ID).Str("new_run", next.ID).Msg(why)
	return nil
}

// concludeChecks ends every check run of a run that is not completed.
func (a *App) concludeChecks(ctx context.Context, run store.Run, reason string) error {
	stages, err := a.db.StagesForRun(ctx, run.ID)
	if err != nil {
		return err
	}
	// The check ids the store recorded, by id, with their names.
	open := map[int64]string{}
	if run.SummaryCheckID != 0 {
		open[run.SummaryCheckID] = checks.SummaryName
	}
	for _, s := range stages {
		if s.CheckRunID != 0 && s.Status != store.StatusCompleted {
			open[s.CheckRunID] = checks.CheckName(s.Name)
		}
	}
	client, err := a.gh.Installation(ctx, run.InstallationID)
	if err != nil {
		return err
	}
	owner, name := ghevent.SplitRepo(run.Repo)
	// A process killed right after creating a check, before recording its
	// id, leaves one only GitHub knows: find the run's checks by their
	// external id.
	listed, err := a.openChecksOf(ctx, client, run)
	if err != nil {
		return err
	}
	for id, checkName := range listed {
		open[id] = checkName
	}
	var errs []error
	for id, checkName := range open {
		_, _, err := client.Checks.UpdateCheckRun(ctx, owner, name, id, github.UpdateCheckRunOptions{
			Name:       checkName,
			Status:     github.String("completed"),
			Conclusion: github.String("cancelled"),
			Output:     &github.CheckRunOutput{Title: github.String("Cancelled"), Summary: github.String(reason)},
		})
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// openChecksOf lists the run's check runs on GitHub that are not
// completed, by id with their names.
func (a *App) openChecksOf(ctx context.Context, client *github.Client, run store.Run) (map[int64]string, error) {
	owner, name := ghevent.SplitRepo(run.Repo)
	out := map[int64]string{}
	opts := &github.ListCheckRunsOptions{AppID: github.Int64(a.cfg.AppID), Filter: github.String("all"), ListOptions: github.ListOptions{PerPage: 100}}
	for {
		res, resp, err := client.Checks.ListCheckRunsForRef(ctx, owner, name, run.SHA, opts)
		if err != nil {
			return nil, fmt.Errorf("list the checks of %s: %w", ghevent.ShortSHA(run.SHA), err)
		}
		for _, c := range res.CheckRuns {
			if runID, _ := checks.ParseExternalID(c.GetExternalID()); runID == run.ID && c.GetStatus() != "completed" {
				out[c.GetID()] = c.GetName()
			}
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

// endDeployments gives the deployments an interrupted run left going a
// final "error" status, so the environment's page does not show them in
// progress forever.
func (a *App) endDeployments(ctx context.Context, run store.Run, reason string) error {
	deps, err := a.db.UnfinishedDeployments(ctx, run.ID)
	if err != nil || len(deps) == 0 {
		return err
	}
	client, err := a.gh.Installation(ctx, run.InstallationID)
	if err != nil {
		return err
	}
	owner, name := ghevent.SplitRepo(run.Repo)
	if r := []rune(reason); len(r) > 140 {
		reason = string(r[:139]) + "…"
	}
	for _, d := range deps {
		if _, _, err := client.Repositories.CreateDeploymentStatus(ctx, owner, name, d.DeploymentID, &github.DeploymentStatusRequest{
			State: github.String("error"), Description: github.String(reason),
		}); err != nil {
			return err
		}
	}
	return a.db.FinishDeployments(ctx, run.ID)
}

// resumeFrom is the first stage of an interrupted run that had not
// passed, when stages before it had: where the run picks up again. It is
// "" when the run must start from the beginning.
func (a *App) resumeFrom(ctx context.Context, run store.Run) (string, error) {
	stages, err := a.db.StagesForRun(ctx, run.ID)
	if err != nil {
		return "", err
	}
	for i, s := range stages {
		passed := s.Status == store.StatusCompleted && (s.Conclusion == "success" || s.Conclusion == "skipped")
		if !passed {
			if i == 0 {
				return "", nil
			}
			return s.Name, nil
		}
	}
	return "", nil
}

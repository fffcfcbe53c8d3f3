package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"time"

	"github.com/google/go-github/v60/github"
	"github.com/riverqueue/river"

	"github.com/stagegate/stagegate/app/deploys"
	"github.com/stagegate/stagegate/app/ghevent"
	"github.com/stagegate/stagegate/app/logkey"
	"github.com/stagegate/stagegate/app/queue"
	"github.com/stagegate/stagegate/app/replica"
	"github.com/stagegate/stagegate/app/rundirs"
	"github.com/stagegate/stagegate/app/runlog"
	"github.com/stagegate/stagegate/app/running"
	"github.com/stagegate/stagegate/app/runs"
	"github.com/stagegate/stagegate/app/source"
	"github.com/stagegate/stagegate/app/store"
	"github.com/stagegate/stagegate/checks"
	"github.com/stagegate/stagegate/pipeline"
	"github.com/stagegate/stagegate/pipeline/engine"
	"github.com/stagegate/stagegate/pipeline/runner"
)

// runWorker executes one run.
type runWorker struct {
	river.WorkerDefaults[queue.RunArgs]
	app *App
}

// Timeout: a run is bounded by its actions' own timeouts, not River's.
func (w *runWorker) Timeout(*river.Job[queue.RunArgs]) time.Duration { return -1 }

func (w *runWorker) Work(ctx context.Context, job *river.Job[queue.RunArgs]) error {
	return w.app.execute(ctx, job.Args.RunID)
}

// checkCloseTimeout bounds the final check updates after a run, which
// must be sent even when the run's own context has been cancelled.
const checkCloseTimeout = 2 * time.Minute

// execute runs a queued run, unless it has completed (superseded while it
// waited), is already running, or waits behind an older run.
func (a *App) execute(ctx context.Context, runID string) error {
	run, err := a.db.GetRun(ctx, runID)
	if err != nil {
		return fmt.Errorf("load run: %w", err)
	}
	log := a.log.With().Str(logkey.Run, run.ID).Str(logkey.Repo, run.Repo).Str(logkey.SHA, run.SHA).
		Int64(logkey.Installation, run.InstallationID).Logger()
	ctx = log.WithContext(ctx)
	if run.Status != store.StatusQueued {
		return nil
	}
	if run.Mode == string(pipeline.ModeQueued) {
		first, err := a.runs.FirstInLine(ctx, run)
		if err != nil {
			return err
		}
		if !first {
			log.Info().Msg("run waits for an older run of its branch")
			return nil
		}
	}
	// Errors up to StartRun leave the run queued, and River tries the
	// job again; after it, the run concludes itself.
	client, err := a.gh.Installation(ctx, run.InstallationID)
	if err != nil {
		return fmt.Errorf("installation client: %w", err)
	}
	s := a.slots.Hold()
	if err := s.Acquire(ctx); err != nil {
		return err
	}
	defer s.Release()
	// Registered before the run starts, so a cancel that arrives in
	// between reaches it.
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if err := a.replica.Hold(ctx, run.ID, cancel); err != nil {
		if errors.Is(err, replica.ErrHeldElsewhere) {
			log.Info().Msg("run is executing on another replica")
			return nil
		}
		return err
	}
	defer a.replica.Release(context.WithoutCancel(ctx), run.ID)
	if started, err := a.db.StartRun(ctx, run.ID); err != nil || !started {
		return err
	}

	res, unsent := a.executeRun(runCtx, run, client, s)

	// The conclusion is recorded even if the job's context has ended.
	finishCtx, done := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer done()
	if errors.Is(context.Cause(runCtx), replica.ErrLeaseLost) {
		// Another replica took the run over: it concludes it.
		log.Warn().Msg("run stopped: its lease was lost")
		return nil
	}
	if a.interruptedByShutdown(runCtx) {
		if err := a.restartRun(finishCtx, run, "stagegate shut down during this run"); err != nil {
			log.Error().Err(err).Msg("queue the interrupted run again")
		}
		return nil
	}
	// Marked before the run completes, so the background never sees a
	// completed run whose unsent conclusions are not yet marked.
	if unsent {
		if err := a.db.SetChecksUnsent(finishCtx, run.ID, true); err != nil {
			log.Error().Err(err).Msg("record unsent check conclusions")
		}
	}
	conclusion := checks.RunConclusion(res.Status)
	if err := a.db.FinishRun(finishCtx, run.ID, conclusion, res.Reason); err != nil && !errors.Is(err, store.ErrRunFinished) {
		log.Error().Err(err).Msg("record run conclusion")
	}
	a.metrics.runs.WithLabelValues(conclusion).Inc()
	log.Info().Str("conclusion", conclusion).Str("reason", res.Reason).Dur("duration", res.Duration).Msg("run finished")
	a.runs.StartNext(finishCtx, run)
	return nil
}

// interruptedByShutdown tells a run stopped because the process is
// stopping (by its own cause, or by River cancelling the job first) from
// one cancelled for a reason of its own.
func (a *App) interruptedByShutdown(runCtx context.Context) bool {
	cause := context.Cause(runCtx)
	if cause == nil {
		return false
	}
	if errors.Is(cause, errShuttingDown) {
		return true
	}
	var own runs.Cancellation
	return a.stopping.Load() && !errors.As(cause, &own)
}

// executeRun fetches the source and runs the engine, reporting to the
// checks and the store. It always concludes the run's checks.
func (a *App) executeRun(ctx context.Context, run store.Run, client *github.Client, s *running.Slot) (res engine.Result, unsent bool) {
	p, err := runPipeline(run)
	if err != nil {
		return engine.Result{RunID: run.ID, Status: engine.StatusFailure, Reason: err.Error()}, false
	}
	if p.Name == "" {
		p.Name = repoName(run.Repo)
	}
	ev := ghevent.FromRun(run)
	plan := pipeline.Decide(p, ev)
	if run.Fork {
		plan = withoutDeploys(plan)
	}
	owner, name := ghevent.SplitRepo(run.Repo)
	secrets, notes, trustErr := a.deploys.RunTrust(ctx, client, run, p)
	dirs := a.dirs(run)

	positions := map[string]int{}
	for i, s := range p.Stages {
		positions[s.Name] = i
	}
	// The file index fills in once the source is fetched, before any
	// stage can produce an annotation: the engine's events reach the
	// reporter after Prepare returns.
	var files *checks.FileIndex
	reporter := checks.NewReporter(client.Checks, checks.Target{Owner: owner, Repo: name, HeadSHA: run.SHA, RunID: run.ID},
		a.runs.WithBudget(ctx, run.InstallationID, checks.Options{
			Files: func(path string) bool { return files != nil && files.Has(path) },
			FilesNamed: func(base string) []string {
				if files == nil {
					return nil
				}
				return files.Named(base)
			},
			Workspace:  dirs.Workspace,
			OnCheckRun: a.recordCheckRun(ctx, run.ID),
			Notes:      notes,
			// The run's page, where its reader may see it; otherwise
			// GitHub's own page of the check.
			DetailsURL: a.runPageURL(ctx, run),
		}))
	// The reporter outlives a cancelled run: cancelled checks must still
	// be concluded. Close bounds it.
	reporter.Start(context.WithoutCancel(ctx))
	rec := runlog.NewRecorder(a.db, run.ID, positions, a.logPolicy(), reporter)
	rec.Changed = a.runChanged(run.ID)
	rec.Start(context.WithoutCancel(ctx))

	defer func() {
		// HOME and TMPDIR may hold what the build made read-only.
		if err := source.Remove(dirs.Temp); err != nil {
			logger(ctx).Warn().Err(err).Msg("remove the run's HOME and TMPDIR")
		}
	}()
	var workspace string
	defer func() {
		if workspace != "" {
			_ = source.Remove(workspace)
		}
	}()
	previous, prevErr := a.runs.PreviousResults(ctx, run)
	gate := a.deploys.Gate(run, client, reporter, s, p)
	e := &engine.Engine{Runner: a.opts.Runner, Observer: observers{reporter, rec}, Integrations: a.cloud.Runner, Runners: a.runners()}
	res = e.Run(ctx, engine.Run{
		ID: run.ID, Pipeline: p, Plan: plan, Event: ev, Gate: gate.Gate, GateSecrets: gate.Secrets,
		// HOME and TMPDIR are the run's own, and the run sees none of
		// the data dir but its own directories.
		ArtifactDir: dirs.Artifacts, TempDir: dirs.Temp, Home: dirs.Home, Access: a.actionAccess(),
		LookupEnv: deploys.LookupPassEnv, LookupSecret: secrets, WithholdSecrets: run.Fork, Previous: previous,
		ActionEnv: a.cloud.ActionEnv(p, run, gate.DeployAWS), ArtifactStore: a.keptArtifacts(run),
		Prepare: func(ctx context.Context) (string, error) {
			if prevErr != nil {
				return "", prevErr
			}
			if trustErr != nil {
				return "", trustErr
			}
			started := time.Now()
			ws, err := a.fetch(ctx, run)
			logger(ctx).Info().Err(err).Dur("duration", time.Since(started)).Msg("source fetched")
			if err != nil {
				return "", fmt.Errorf("could not fetch the source: %w", err)
			}
			workspace = ws
			files = checks.NewFileIndex(listFiles(ws))
			return ws, nil
		},
	})
	closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), checkCloseTimeout)
	defer cancel()
	if err := reporter.Close(closeCtx); err != nil {
		// The background sends the conclusions again from the store.
		logger(ctx).Error().Err(err).Msg("conclude check runs; they will be sent again")
		unsent = true
	} else if err := a.db.FinishDeployments(context.WithoutCancel(ctx), run.ID); err != nil {
		logger(ctx).Error().Err(err).Msg("record finished deployments")
	}
	rec.Close()
	return res, unsent
}

func (a *App) fetch(ctx context.Context, run store.Run) (string, error) {
	// Not the API client's token: git gets one that reads this
	// repository and nothing else.
	token, _, err := a.gh.FetchToken(ctx, run.InstallationID, run.Repo)
	if err != nil {
		return "", fmt.Errorf("fetch token: %w", err)
	}
	cloneURL, err := a.runs.CloneURL(ctx, run)
	if err != nil {
		return "", err
	}
	return source.Fetch(ctx, source.FetchOptions{
		Root: a.dirs(run).Workspaces, RunID: run.ID,
		CloneURL: cloneURL, SHA: run.SHA, Token: token,
	})
}

// withoutDeploys skips the deploy stages of a fork's run: its pipeline
// file is the fork's own, so who may deploy and whether approval is
// needed would be the fork author's to say.
func withoutDeploys(plan pipeline.Plan) pipeline.Plan {
	out := plan
	out.Stages = append([]pipeline.StagePlan(nil), plan.Stages...)
	for i, sp := range out.Stages {
		if sp.Run && sp.Stage.Deploy() {
			out.Stages[i].Run = false
			out.Stages[i].Reason = "skipped: deploy stages do not run for pull requests from forks"
		}
	}
	return out
}

// recordCheckRun keeps the ids of a run's check runs, so that a later
// process can conclude them if this one dies.
func (a *App) recordCheckRun(ctx context.Context, runID string) func(stage string, id int64) {
	ctx = context.WithoutCancel(ctx)
	return func(stage string, id int64) {
		var err error
		if stage == "" {
			err = a.db.SetSummaryCheck(ctx, runID, id)
		} else {
			err = a.db.SetStageCheckRun(ctx, runID, stage, id)
		}
		if err != nil {
			logger(ctx).Error().Err(err).Str(logkey.Stage, stage).Int64("check_run", id).Msg("record check run id")
		}
	}
}

func repoName(full string) string {
	_, name := ghevent.SplitRepo(full)
	return name
}

// listFiles lists the workspace's files relative to it, for annotations.
func listFiles(root string) []string {
	var files []string
	_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		if !d.IsDir() {
			if rel, err := filepath.Rel(root, path); err == nil {
				files = append(files, filepath.ToSlash(rel))
			}
		}
		return nil
	})
	return files
}

// observers fans events out to several observers, in order.
type observers []engine.Observer

func (o observers) Observe(e engine.Event) {
	for _, ob := range o {
		ob.Observe(e)
	}
}

// dirs are the run's directories.
func (a *App) dirs(run store.Run) rundirs.Dirs { return rundirs.Of(a.cfg.DataDir, run.ID, run.Fork) }

// actionAccess is what the App adds to the run's own directories in what
// its actions may see.
func (a *App) actionAccess() runner.Access {
	return runner.Access{Hidden: rundirs.HiddenFromActions(a.cfg.DataDir, a.cfg.DatabaseURL())}
}

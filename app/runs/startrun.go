package runs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/google/go-github/v60/github"

	"github.com/stagegate/stagegate/app/deploys"
	"github.com/stagegate/stagegate/app/ghevent"
	"github.com/stagegate/stagegate/app/logkey"
	"github.com/stagegate/stagegate/app/pipelineconf"
	"github.com/stagegate/stagegate/app/queue"
	"github.com/stagegate/stagegate/app/store"
	"github.com/stagegate/stagegate/checks"
	"github.com/stagegate/stagegate/pipeline"
)

// Request is an event that may start a run.
type Request struct {
	Repo  ghevent.RepoRef
	Event pipeline.Event
	// Compare is where to find the changed files when the payload did not
	// list them; asked only if the pipeline filters on them.
	Compare *ghevent.CompareRange
	// Fork marks untrusted code: a pull request from another repository.
	Fork     bool
	Delivery string
	// RerunOf and RerunFrom make a re-run that reuses the results of the
	// stages before RerunFrom.
	RerunOf, RerunFrom string
	// Again marks a run of a commit asked for again (a re-requested
	// suite), which supersedes nothing.
	Again bool
}

// Start reads the pipeline at the event's SHA, decides whether it
// runs, and records and queues the run. It is the one place where runs
// begin, whatever the event.
func (a *Runs) Start(ctx context.Context, req Request) (string, error) {
	if isPushOfBranch(req.Event.Kind, req.Event.Branch) {
		// One run per commit for a push and its pull request (onerun.go).
		pr, found, err := a.pullRequestRunOf(ctx, req.Repo.FullName(), req.Event.SHA, req.Event.Branch)
		if err != nil {
			return "", err
		}
		if found {
			return "", ignored("pull request #%d runs %s (run %s); the push starts no second run", pr.PR, ghevent.ShortSHA(req.Event.SHA), pr.ID)
		}
	}
	client, err := a.gh.Installation(ctx, req.Repo.Installation)
	if err != nil {
		return "", fmt.Errorf("installation client: %w", err)
	}
	conf, err := pipelineconf.Load(ctx, client.Repositories, req.Repo.Owner, req.Repo.Name, req.Event.SHA)
	switch {
	case errors.Is(err, pipelineconf.ErrNoPipeline):
		if unreadable, uerr := a.deploys.OrgDefaultUnreadable(ctx, req.Repo.Installation, err); uerr != nil {
			return "", fmt.Errorf("read pipeline: %w", uerr)
		} else if unreadable {
			if err := deploys.ReportOrgDefaultUnreadable(ctx, client.Checks, req.Repo.Owner, req.Repo.Name, req.Event.SHA); err != nil {
				return "", err
			}
			return fmt.Sprintf("no %s; %s/.github cannot be read: noted on the stagegate check", pipeline.DefaultFile, req.Repo.Owner), nil
		}
		return "", ignored("%s uses no pipeline (no %s, no default in %s/.github)", req.Repo.FullName(), pipeline.DefaultFile, req.Repo.Owner)
	case errors.Is(err, pipelineconf.ErrCommitNotFound):
		return "", ignored("commit %s no longer exists", req.Event.SHA)
	case err != nil:
		return "", fmt.Errorf("read pipeline: %w", err)
	}
	if !conf.Valid() {
		target := checks.Target{Owner: req.Repo.Owner, Repo: req.Repo.Name, HeadSHA: req.Event.SHA}
		if err := checks.ReportConfigError(ctx, client.Checks, target, conf.Errors); err != nil {
			return "", fmt.Errorf("report invalid pipeline: %w", err)
		}
		return fmt.Sprintf("invalid %s: %d errors reported", conf.Path, len(conf.Errors)), nil
	}
	p := conf.Pipeline
	ev := req.Event
	if req.Compare != nil && ev.ChangedFiles == nil && ghevent.NeedsChangedFiles(p, ev.Kind) {
		ev.ChangedFiles = a.changedFiles(ctx, client, req.Repo, *req.Compare)
	}
	plan := pipeline.Decide(p, ev)
	if !plan.Triggered {
		return "", ignored("%s", plan.Reason)
	}
	run := store.Run{
		InstallationID: req.Repo.Installation, Repo: req.Repo.FullName(), SHA: ev.SHA,
		Event: string(ev.Kind), Branch: ev.Branch, Tag: ev.Tag, BaseBranch: ev.BaseBranch, PR: ev.PR,
		Actor: ev.Actor, Fork: req.Fork, Mode: string(p.Mode),
		Pipeline: string(conf.Raw), PipelinePath: conf.Path, PipelineSource: string(conf.Source),
		ChangedFiles: ev.ChangedFiles, DeliveryGUID: req.Delivery,
		RerunOf: req.RerunOf, RerunFromStage: req.RerunFrom,
	}
	run, err = a.Record(ctx, run, p, req.Repo.CloneURL)
	if err != nil {
		return "", err
	}
	logger(ctx).Info().Str(logkey.Run, run.ID).Str(logkey.SHA, run.SHA).Msg("run queued")
	// The push and the pull request's event are processed concurrently:
	// whichever is recorded second sees the other.
	if isPushOfBranch(ev.Kind, ev.Branch) {
		if pr, found, err := a.pullRequestRunOf(ctx, run.Repo, run.SHA, run.Branch); err == nil && found {
			a.Cancel(ctx, run, errServedByPullRequest(pr))
			return "", ignored("pull request #%d runs %s (run %s); push run %s cancelled", pr.PR, ghevent.ShortSHA(run.SHA), pr.ID, run.ID)
		}
	}
	a.takeOverPushRuns(ctx, run)
	if req.RerunOf == "" && !req.Again {
		// Running a commit again, from a check or a command, does not
		// cancel what runs for the branch's newer commits.
		a.applyMode(ctx, run, p.Mode)
	}
	return "run " + run.ID + " queued", nil
}

// Record writes the run, its stages and its job in one transaction,
// with the clone URL GitHub gave for the repository ("" when the request
// carried none: a re-run, whose fetch then asks the API).
func (a *Runs) Record(ctx context.Context, run store.Run, p *pipeline.Pipeline, cloneURL string) (store.Run, error) {
	err := a.db.WithTx(ctx, func(tx *sql.Tx) error {
		db := a.db.InTx(tx)
		var err error
		if run, err = db.CreateRun(ctx, run); err != nil {
			return err
		}
		if cloneURL != "" {
			if err := db.SetCloneURL(ctx, run.ID, cloneURL); err != nil {
				return err
			}
		}
		for i, s := range p.Stages {
			if err := db.UpsertStage(ctx, store.Stage{RunID: run.ID, Name: s.Name, Position: i, Status: store.StatusQueued}); err != nil {
				return err
			}
		}
		_, err = a.queue.InsertTx(ctx, tx, queue.RunArgs{RunID: run.ID}, nil)
		return err
	})
	if err != nil {
		return run, fmt.Errorf("record run: %w", err)
	}
	return run, nil
}

// maxCompareFiles is how many files GitHub's compare API lists at most;
// a comparison that reaches it may be missing some.
const maxCompareFiles = 300

// changedFiles asks the compare API for the files between two commits.
// Failing that, the files stay unknown and path filters are not applied:
// running too much is better than silently running nothing.
func (a *Runs) changedFiles(ctx context.Context, client *github.Client, repo ghevent.RepoRef, r ghevent.CompareRange) []string {
	cmp, _, err := client.Repositories.CompareCommits(ctx, repo.Owner, repo.Name, r.Base, r.Head, &github.ListOptions{PerPage: 100})
	if err != nil {
		logger(ctx).Warn().Err(err).Str("base", r.Base).Str("head", r.Head).Msg("compare failed; changed files unknown")
		return nil
	}
	if len(cmp.Files) >= maxCompareFiles {
		return nil
	}
	files := make([]string, 0, len(cmp.Files))
	for _, f := range cmp.Files {
		files = append(files, f.GetFilename())
		if prev := f.GetPreviousFilename(); prev != "" {
			files = append(files, prev)
		}
	}
	return files
}

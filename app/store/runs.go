package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Status is where a run or stage is, in GitHub's check run terms.
type Status string

// Statuses.
const (
	StatusQueued     Status = "queued"
	StatusInProgress Status = "in_progress"
	StatusCompleted  Status = "completed"
)

// Run is one execution of a repository's pipeline.
type Run struct {
	// ID is made by CreateRun when empty; see NewID.
	ID             string
	InstallationID int64
	// Repo is owner/name.
	Repo string
	SHA  string
	// Event is push or pull_request.
	Event      string
	Branch     string
	Tag        string
	BaseBranch string
	// PR is the pull request number, 0 for a push.
	PR    int
	Actor string
	// Fork marks a pull request from a fork: untrusted code.
	Fork bool
	// ConcurrencyKey groups the runs that the pipeline's mode orders
	// against each other; CreateRun fills it in with ConcurrencyKey.
	ConcurrencyKey string
	Mode           string
	Status         Status
	Conclusion     string
	Reason         string
	// Pipeline is the text of the pipeline file the run uses; PipelinePath
	// where it was read and PipelineSource whether from the repository
	// ("repo") or the organisation's default ("org").
	Pipeline       string
	PipelinePath   string
	PipelineSource string
	// ChangedFiles is nil when unknown, which is not the same as none.
	ChangedFiles   []string
	SummaryCheckID int64
	SupersededBy   string
	RerunOf        string
	RerunFromStage string
	DeliveryGUID   string
	CreatedAt      time.Time
	StartedAt      time.Time
	FinishedAt     time.Time
}

// ConcurrencyKey is the key under which runs of one pull request, branch
// or tag exclude each other: "pr:42", "branch:main" or "tag:v1.2".
func ConcurrencyKey(branch, tag string, pr int) string {
	switch {
	case pr != 0:
		return "pr:" + strconv.Itoa(pr)
	case tag != "":
		return "tag:" + tag
	}
	return "branch:" + branch
}

const runColumns = `id, installation_id, repo, sha, event, branch, tag, base_branch, pr, actor, fork,
    concurrency_key, mode, status, conclusion, reason, pipeline, pipeline_path, pipeline_source,
    changed_files, summary_check_id, superseded_by, rerun_of, rerun_from_stage, delivery_guid,
    created_at, started_at, finished_at`

func scanRun(s scanner) (Run, error) {
	var (
		r                          Run
		changed                    sql.NullString
		created, started, finished sql.NullInt64
	)
	err := s.Scan(&r.ID, &r.InstallationID, &r.Repo, &r.SHA, &r.Event, &r.Branch, &r.Tag, &r.BaseBranch,
		&r.PR, &r.Actor, &r.Fork, &r.ConcurrencyKey, &r.Mode, &r.Status, &r.Conclusion, &r.Reason,
		&r.Pipeline, &r.PipelinePath, &r.PipelineSource, &changed, &r.SummaryCheckID, &r.SupersededBy,
		&r.RerunOf, &r.RerunFromStage, &r.DeliveryGUID, &created, &started, &finished)
	if err != nil {
		return Run{}, err
	}
	if changed.Valid {
		if err := json.Unmarshal([]byte(changed.String), &r.ChangedFiles); err != nil {
			return Run{}, fmt.Errorf("run %s: changed files: %w", r.ID, err)
		}
		if r.ChangedFiles == nil {
			r.ChangedFiles = []string{}
		}
	}
	r.CreatedAt, r.StartedAt, r.FinishedAt = fromMillis(created), fromMillis(started), fromMillis(finished)
	return r, nil
}

// CreateRun stores a new run and returns it with the defaults filled in:
// ID, ConcurrencyKey, Status queued and CreatedAt now.
func (db *DB) CreateRun(ctx context.Context, r Run) (Run, error) {
	if r.ID == "" {
		r.ID = NewID()
	}
	if r.ConcurrencyKey == "" {
		r.ConcurrencyKey = ConcurrencyKey(r.Branch, r.Tag, r.PR)
	}
	if r.Status == "" {
		r.Status = StatusQueued
	}
	if r.CreatedAt.IsZero() {
		r.CreatedAt = db.now()
	}
	var changed any
	if r.ChangedFiles != nil {
		b, err := json.Marshal(r.ChangedFiles)
		if err != nil {
			return Run{}, fmt.Errorf("store: create run: %w", err)
		}
		changed = string(b)
	}
	_, err := db.exec(ctx, `INSERT INTO runs (`+runColumns+`)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.InstallationID, r.Repo, r.SHA, r.Event, r.Branch, r.Tag, r.BaseBranch, r.PR, r.Actor, r.Fork,
		r.ConcurrencyKey, r.Mode, r.Status, r.Conclusion, r.Reason, r.Pipeline, r.PipelinePath, r.PipelineSource,
		changed, r.SummaryCheckID, r.SupersededBy, r.RerunOf, r.RerunFromStage, r.DeliveryGUID,
		millis(r.CreatedAt), millis(r.StartedAt), millis(r.FinishedAt))
	if err != nil {
		return Run{}, fmt.Errorf("store: create run %s: %w", r.ID, err)
	}
	return r, nil
}

// GetRun returns the run, or ErrNotFound.
func (db *DB) GetRun(ctx context.Context, id string) (Run, error) {
	var r Run
	err := db.get(ctx, `SELECT `+runColumns+` FROM runs WHERE id = ?`, []any{id}, func(s scanner) (err error) {
		r, err = scanRun(s)
		return err
	})
	if err != nil {
		return Run{}, fmt.Errorf("store: run %s: %w", id, err)
	}
	return r, nil
}

// SetRunStatus moves a run to queued or in_progress; the first move to
// in_progress sets StartedAt. A completed run is left alone and the
// error is ErrRunFinished: a run superseded while it waited must not
// start. Use FinishRun to complete a run.
func (db *DB) SetRunStatus(ctx context.Context, id string, status Status) error {
	if status != StatusQueued && status != StatusInProgress {
		return fmt.Errorf("store: run %s: status %q: want queued or in_progress (FinishRun completes)", id, status)
	}
	var started any
	if status == StatusInProgress {
		started = db.now().UnixMilli()
	}
	res, err := db.exec(ctx, `UPDATE runs SET status = ?, started_at = COALESCE(started_at, ?)
WHERE id = ? AND status <> 'completed'`, status, started, id)
	return db.runUpdated(ctx, "set status of", id, res, err)
}

// FinishRun completes a run with a conclusion (success, failure,
// cancelled, ...) and a reason for people. A run completes once: the
// second call's error is ErrRunFinished.
func (db *DB) FinishRun(ctx context.Context, id, conclusion, reason string) error {
	res, err := db.exec(ctx, `UPDATE runs SET status = 'completed', conclusion = ?, reason = ?, finished_at = ?
WHERE id = ? AND status <> 'completed'`, conclusion, reason, db.now().UnixMilli(), id)
	return db.runUpdated(ctx, "finish", id, res, err)
}

// MarkSuperseded records that byRunID replaces the run. It only marks:
// the caller cancels or finishes the run. ErrRunFinished if the run has
// completed already.
func (db *DB) MarkSuperseded(ctx context.Context, runID, byRunID string) error {
	res, err := db.exec(ctx, `UPDATE runs SET superseded_by = ? WHERE id = ? AND status <> 'completed'`, byRunID, runID)
	return db.runUpdated(ctx, "supersede", runID, res, err)
}

// runUpdated tells a missing run (ErrNotFound) from a completed one
// (ErrRunFinished) when a guarded update changed nothing.
func (db *DB) runUpdated(ctx context.Context, what, id string, res sql.Result, err error) error {
	err = mustAffect(res, err)
	if errors.Is(err, ErrNotFound) {
		if _, gerr := db.GetRun(ctx, id); gerr == nil {
			err = ErrRunFinished
		}
	}
	if err != nil {
		return fmt.Errorf("store: %s run %s: %w", what, id, err)
	}
	return nil
}

// SetSummaryCheck records the id of the run's summary check run.
func (db *DB) SetSummaryCheck(ctx context.Context, runID string, checkRunID int64) error {
	err := mustAffect(db.exec(ctx, `UPDATE runs SET summary_check_id = ? WHERE id = ?`, checkRunID, runID))
	if err != nil {
		return fmt.Errorf("store: set summary check of run %s: %w", runID, err)
	}
	return nil
}

// RunsInProgress lists the runs marked in_progress, oldest first. After a
// restart these are the runs the process died in the middle of.
func (db *DB) RunsInProgress(ctx context.Context) ([]Run, error) {
	return db.runs(ctx, "runs in progress", `SELECT `+runColumns+` FROM runs
WHERE status = 'in_progress' ORDER BY created_at, id`)
}

// QueuedRuns lists the runs waiting to start, oldest first: at start-up
// their jobs are inserted again, since a job may have been lost (a
// process stopped while the job waited for a build slot).
func (db *DB) QueuedRuns(ctx context.Context) ([]Run, error) {
	return db.runs(ctx, "queued runs", `SELECT `+runColumns+` FROM runs
WHERE status = 'queued' ORDER BY created_at, id`)
}

// ActiveRunsForKey lists the queued and in-progress runs of the repo under
// one concurrency key, oldest first: the runs a new one supersedes, or
// waits behind.
func (db *DB) ActiveRunsForKey(ctx context.Context, repo, key string) ([]Run, error) {
	return db.runs(ctx, "active runs", `SELECT `+runColumns+` FROM runs
WHERE repo = ? AND concurrency_key = ? AND status IN ('queued', 'in_progress')
ORDER BY created_at, id`, repo, key)
}

// LatestRunForSHA returns the newest run of the commit, or ErrNotFound.
func (db *DB) LatestRunForSHA(ctx context.Context, repo, sha string) (Run, error) {
	var r Run
	err := db.get(ctx, `SELECT `+runColumns+` FROM runs WHERE repo = ? AND sha = ?
ORDER BY created_at DESC, id DESC LIMIT 1`, []any{repo, sha}, func(s scanner) (err error) {
		r, err = scanRun(s)
		return err
	})
	if err != nil {
		return Run{}, fmt.Errorf("store: latest run of %s@%s: %w", repo, sha, err)
	}
	return r, nil
}

// RunsForPR lists the pull request's runs, newest first.
func (db *DB) RunsForPR(ctx context.Context, repo string, pr int) ([]Run, error) {
	if pr <= 0 {
		// 0 is how pushes are stored, not a pull request.
		return nil, nil
	}
	return db.runs(ctx, "runs for pull request", `SELECT `+runColumns+` FROM runs
WHERE repo = ? AND pr = ? ORDER BY created_at DESC, id DESC`, repo, pr)
}

func (db *DB) runs(ctx context.Context, what, query string, args ...any) ([]Run, error) {
	out, err := list(ctx, db, query, args, scanRun)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	return out, nil
}

// StartRun moves a queued run to in_progress and reports whether it did:
// false when the run is already running or completed, so that two
// workers handed the same run (a rescued job, a redelivery) start it once.
func (db *DB) StartRun(ctx context.Context, id string) (bool, error) {
	res, err := db.exec(ctx, `UPDATE runs SET status = 'in_progress', started_at = COALESCE(started_at, ?)
WHERE id = ? AND status = 'queued'`, db.now().UnixMilli(), id)
	if err != nil {
		return false, fmt.Errorf("store: start run %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: start run %s: %w", id, err)
	}
	return n == 1, nil
}

package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// Stage is one stage of a run, and its check run.
type Stage struct {
	RunID string
	Name  string
	// Position is the stage's index in the pipeline, from 0.
	Position   int
	Status     Status
	Conclusion string
	Reason     string
	// CheckRunID is 0 until the check run exists.
	CheckRunID int64
	StartedAt  time.Time
	FinishedAt time.Time
	// Outputs are the KEY=value pairs its actions wrote.
	Outputs map[string]string
	// Artifacts are the paths the stage stored, relative to the run's
	// artifact store.
	Artifacts []string
}

const stageColumns = `s.run_id, s.name, s.position, s.status, s.conclusion, s.reason, s.check_run_id,
    s.started_at, s.finished_at, s.outputs, s.artifacts`

func scanStage(sc scanner) (Stage, error) {
	var (
		s                 Stage
		started, finished sql.NullInt64
		outputs, arts     string
	)
	err := sc.Scan(&s.RunID, &s.Name, &s.Position, &s.Status, &s.Conclusion, &s.Reason, &s.CheckRunID,
		&started, &finished, &outputs, &arts)
	if err != nil {
		return Stage{}, err
	}
	s.StartedAt, s.FinishedAt = fromMillis(started), fromMillis(finished)
	if err := json.Unmarshal([]byte(outputs), &s.Outputs); err != nil {
		return Stage{}, fmt.Errorf("stage %s of run %s: outputs: %w", s.Name, s.RunID, err)
	}
	if err := json.Unmarshal([]byte(arts), &s.Artifacts); err != nil {
		return Stage{}, fmt.Errorf("stage %s of run %s: artifacts: %w", s.Name, s.RunID, err)
	}
	return s, nil
}

// UpsertStage stores the stage, replacing what was stored under its run
// and name. A zero CheckRunID keeps the stored one, so that recording
// progress never forgets the check run made for the stage.
func (db *DB) UpsertStage(ctx context.Context, s Stage) error {
	if s.Status == "" {
		s.Status = StatusQueued
	}
	outputs, err := json.Marshal(nonNilMap(s.Outputs))
	if err != nil {
		return fmt.Errorf("store: stage %s of run %s: %w", s.Name, s.RunID, err)
	}
	arts, err := json.Marshal(nonNilSlice(s.Artifacts))
	if err != nil {
		return fmt.Errorf("store: stage %s of run %s: %w", s.Name, s.RunID, err)
	}
	_, err = db.exec(ctx, `INSERT INTO stages
    (run_id, name, position, status, conclusion, reason, check_run_id, started_at, finished_at, outputs, artifacts)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (run_id, name) DO UPDATE SET
    position = excluded.position,
    status = excluded.status,
    conclusion = excluded.conclusion,
    reason = excluded.reason,
    check_run_id = CASE WHEN excluded.check_run_id <> 0 THEN excluded.check_run_id ELSE stages.check_run_id END,
    started_at = excluded.started_at,
    finished_at = excluded.finished_at,
    outputs = excluded.outputs,
    artifacts = excluded.artifacts`,
		s.RunID, s.Name, s.Position, s.Status, s.Conclusion, s.Reason, s.CheckRunID,
		millis(s.StartedAt), millis(s.FinishedAt), string(outputs), string(arts))
	if err != nil {
		return fmt.Errorf("store: upsert stage %s of run %s: %w", s.Name, s.RunID, err)
	}
	return nil
}

// SetStageCheckRun records the check run made for a stage already stored
// with UpsertStage; ErrNotFound otherwise.
func (db *DB) SetStageCheckRun(ctx context.Context, runID, stage string, checkRunID int64) error {
	err := mustAffect(db.exec(ctx, `UPDATE stages SET check_run_id = ? WHERE run_id = ? AND name = ?`,
		checkRunID, runID, stage))
	if err != nil {
		return fmt.Errorf("store: set check run of stage %s of run %s: %w", stage, runID, err)
	}
	return nil
}

// StagesForRun lists the run's stages in pipeline order.
func (db *DB) StagesForRun(ctx context.Context, runID string) ([]Stage, error) {
	out, err := list(ctx, db, `SELECT `+stageColumns+` FROM stages s WHERE s.run_id = ? ORDER BY s.position, s.name`,
		[]any{runID}, scanStage)
	if err != nil {
		return nil, fmt.Errorf("store: stages of run %s: %w", runID, err)
	}
	return out, nil
}

// FindStageByCheckRun returns the stage whose check run this is, for the
// check_run events GitHub sends when someone presses Re-run or a button.
// The repo guards against a check run id from another repository.
func (db *DB) FindStageByCheckRun(ctx context.Context, repo string, checkRunID int64) (Stage, error) {
	var s Stage
	err := ErrNotFound
	if checkRunID != 0 {
		err = db.get(ctx, `SELECT `+stageColumns+` FROM stages s JOIN runs r ON r.id = s.run_id
WHERE s.check_run_id = ? AND r.repo = ?`, []any{checkRunID, repo}, func(sc scanner) (err error) {
			s, err = scanStage(sc)
			return err
		})
	}
	if err != nil {
		return Stage{}, fmt.Errorf("store: stage of check run %d in %s: %w", checkRunID, repo, err)
	}
	return s, nil
}

// Action is how one attempt of an action went.
type Action struct {
	RunID string
	Stage string
	Name  string
	// Attempt counts from 1.
	Attempt int
	// Rollback marks the stage's on_failure actions.
	Rollback bool
	Status   string
	ExitCode int
	Reason   string
	Started  time.Time
	Duration time.Duration
}

// RecordAction stores an action attempt, replacing an earlier record of
// the same attempt (started, then finished).
func (db *DB) RecordAction(ctx context.Context, a Action) error {
	if a.Attempt == 0 {
		a.Attempt = 1
	}
	_, err := db.exec(ctx, `INSERT INTO actions
    (run_id, stage, name, attempt, is_rollback, status, exit_code, reason, started_at, duration_ms)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (run_id, stage, name, attempt, is_rollback) DO UPDATE SET
    status = excluded.status,
    exit_code = excluded.exit_code,
    reason = excluded.reason,
    started_at = excluded.started_at,
    duration_ms = excluded.duration_ms`,
		a.RunID, a.Stage, a.Name, a.Attempt, a.Rollback, a.Status, a.ExitCode, a.Reason,
		millis(a.Started), a.Duration.Milliseconds())
	if err != nil {
		return fmt.Errorf("store: record action %s/%s of run %s: %w", a.Stage, a.Name, a.RunID, err)
	}
	return nil
}

// ActionsForRun lists the run's action attempts by stage order, then as
// they started.
func (db *DB) ActionsForRun(ctx context.Context, runID string) ([]Action, error) {
	out, err := list(ctx, db, `SELECT a.run_id, a.stage, a.name, a.attempt, a.is_rollback, a.status, a.exit_code,
    a.reason, a.started_at, a.duration_ms
FROM actions a LEFT JOIN stages s ON s.run_id = a.run_id AND s.name = a.stage
WHERE a.run_id = ?
ORDER BY s.position, a.stage, a.is_rollback, a.started_at, a.name, a.attempt`,
		[]any{runID}, func(sc scanner) (Action, error) {
			var (
				a       Action
				started sql.NullInt64
				ms      int64
			)
			err := sc.Scan(&a.RunID, &a.Stage, &a.Name, &a.Attempt, &a.Rollback, &a.Status, &a.ExitCode,
				&a.Reason, &started, &ms)
			a.Started, a.Duration = fromMillis(started), time.Duration(ms)*time.Millisecond
			return a, err
		})
	if err != nil {
		return nil, fmt.Errorf("store: actions of run %s: %w", runID, err)
	}
	return out, nil
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func nonNilSlice(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

package store

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// LogLine is one line an action wrote, secrets already masked.
type LogLine struct {
	RunID string
	// Seq orders the run's lines; AppendLogLines assigns it.
	Seq    int64
	Stage  string
	Action string
	// Attempt and Rollback say which attempt of the action wrote the line.
	Attempt  int
	Rollback bool
	// Stream is stdout, stderr or system.
	Stream string
	// Time defaults to now.
	Time time.Time
	Text string
}

const (
	qLastLogSeq    = `SELECT COALESCE(MAX(seq), 0) FROM log_lines WHERE run_id = ?`
	qInsertLogLine = `INSERT INTO log_lines (run_id, seq, stage, action, attempt, is_rollback, stream, logged_at, line)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
)

// AppendLogLines stores lines in one transaction and sets each one's Seq,
// continuing from the run's last stored line. Lines are many and small,
// so the statement is prepared once and the commit is paid per batch:
// callers should buffer (a few hundred lines or a fraction of a second)
// rather than call this per line. One writer per run: two concurrent
// batches of the same run would race for the same Seq on Postgres.
func (db *DB) AppendLogLines(ctx context.Context, lines []LogLine) error {
	if len(lines) == 0 {
		return nil
	}
	now := db.now()
	err := db.inTx(ctx, func(q *DB) error {
		last, err := q.stmt(ctx, qLastLogSeq)
		if err != nil {
			return err
		}
		ins, err := q.stmt(ctx, qInsertLogLine)
		if err != nil {
			return err
		}
		next := map[string]int64{}
		for i := range lines {
			l := &lines[i]
			seq, ok := next[l.RunID]
			if !ok {
				if err := last.QueryRowContext(ctx, l.RunID).Scan(&seq); err != nil {
					return err
				}
			}
			seq++
			next[l.RunID] = seq
			l.Seq = seq
			if l.Attempt == 0 {
				l.Attempt = 1
			}
			if l.Time.IsZero() {
				l.Time = now
			}
			if _, err := ins.ExecContext(ctx, l.RunID, l.Seq, l.Stage, l.Action, l.Attempt, l.Rollback,
				l.Stream, l.Time.UnixMilli(), l.Text); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: append %d log lines: %w", len(lines), err)
	}
	return nil
}

// LogTail returns the last n lines of a run, oldest first: of one action
// of one stage, of the whole stage when action is empty, of the whole run
// when stage is empty too. Every attempt's lines are included, in order.
func (db *DB) LogTail(ctx context.Context, runID, stage, action string, n int) ([]LogLine, error) {
	if n <= 0 {
		return nil, nil
	}
	var (
		query string
		args  []any
	)
	switch {
	case stage == "":
		query, args = logCols+` WHERE run_id = ? ORDER BY seq DESC LIMIT ?`, []any{runID, n}
	case action == "":
		query, args = logCols+` WHERE run_id = ? AND stage = ? ORDER BY seq DESC LIMIT ?`, []any{runID, stage, n}
	default:
		query, args = logCols+` WHERE run_id = ? AND stage = ? AND action = ? ORDER BY seq DESC LIMIT ?`,
			[]any{runID, stage, action, n}
	}
	out, err := list(ctx, db, query, args, scanLogLine)
	if err != nil {
		return nil, fmt.Errorf("store: log tail of run %s: %w", runID, err)
	}
	slices.Reverse(out)
	return out, nil
}

// Artifact is a file a stage stored.
type Artifact struct {
	RunID string
	Stage string
	// Path is relative to the run's artifact store, slash-separated.
	Path   string
	Size   int64
	SHA256 string
}

const qUpsertArtifact = `INSERT INTO artifacts (run_id, stage, path, size, sha256) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (run_id, stage, path) DO UPDATE SET size = excluded.size, sha256 = excluded.sha256`

// RecordArtifacts stores arts in one transaction, replacing earlier
// records of the same run, stage and path.
func (db *DB) RecordArtifacts(ctx context.Context, arts []Artifact) error {
	if len(arts) == 0 {
		return nil
	}
	err := db.inTx(ctx, func(q *DB) error {
		return q.each(ctx, qUpsertArtifact, len(arts), func(i int) []any {
			a := arts[i]
			return []any{a.RunID, a.Stage, a.Path, a.Size, a.SHA256}
		})
	})
	if err != nil {
		return fmt.Errorf("store: record %d artifacts: %w", len(arts), err)
	}
	return nil
}

// ArtifactsForRun lists the run's artifacts in stage order, then by path.
func (db *DB) ArtifactsForRun(ctx context.Context, runID string) ([]Artifact, error) {
	out, err := list(ctx, db, `SELECT a.run_id, a.stage, a.path, a.size, a.sha256
FROM artifacts a LEFT JOIN stages s ON s.run_id = a.run_id AND s.name = a.stage
WHERE a.run_id = ? ORDER BY s.position, a.stage, a.path`, []any{runID}, func(s scanner) (Artifact, error) {
		var a Artifact
		err := s.Scan(&a.RunID, &a.Stage, &a.Path, &a.Size, &a.SHA256)
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: artifacts of run %s: %w", runID, err)
	}
	return out, nil
}

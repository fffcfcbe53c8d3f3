package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// The log queries of the run page. An action's log is every line of its
// attempts and rollbacks of that name, in the order written; a line's
// number is its place in that log. Every query is bounded by a limit, so
// a 20 MB log is read a page at a time.

const logCols = `SELECT run_id, seq, stage, action, attempt, is_rollback, stream, logged_at, line FROM log_lines`

func scanLogLine(s scanner) (LogLine, error) {
	var (
		l  LogLine
		ms int64
	)
	err := s.Scan(&l.RunID, &l.Seq, &l.Stage, &l.Action, &l.Attempt, &l.Rollback, &l.Stream, &ms, &l.Text)
	l.Time = time.UnixMilli(ms).UTC()
	return l, err
}

// ActionLogLen is how many lines of an action's log are stored.
func (db *DB) ActionLogLen(ctx context.Context, runID, stage, action string) (int64, error) {
	var n int64
	err := db.get(ctx, `SELECT COUNT(*) FROM log_lines WHERE run_id = ? AND stage = ? AND action = ?`,
		[]any{runID, stage, action}, func(s scanner) error { return s.Scan(&n) })
	if err != nil {
		return 0, fmt.Errorf("store: log length of %s/%s: %w", stage, action, err)
	}
	return n, nil
}

// ActionLogPage returns at most limit lines of an action's log from line
// number from (counted from 1).
func (db *DB) ActionLogPage(ctx context.Context, runID, stage, action string, from int64, limit int) ([]LogLine, error) {
	out, err := list(ctx, db, logCols+` WHERE run_id = ? AND stage = ? AND action = ? ORDER BY seq LIMIT ? OFFSET ?`,
		[]any{runID, stage, action, limit, max(from-1, 0)}, scanLogLine)
	if err != nil {
		return nil, fmt.Errorf("store: log of %s/%s from line %d: %w", stage, action, from, err)
	}
	return out, nil
}

// ActionLogAfter returns at most limit lines of an action's log written
// after the line with seq after: the next lines for a reader following
// the log, or the next chunk of a download.
func (db *DB) ActionLogAfter(ctx context.Context, runID, stage, action string, after int64, limit int) ([]LogLine, error) {
	out, err := list(ctx, db, logCols+` WHERE run_id = ? AND stage = ? AND action = ? AND seq > ? ORDER BY seq LIMIT ?`,
		[]any{runID, stage, action, after, limit}, scanLogLine)
	if err != nil {
		return nil, fmt.Errorf("store: log of %s/%s after %d: %w", stage, action, after, err)
	}
	return out, nil
}

// LogMatch is a line of an action's log that contains what was searched
// for, with its line number.
type LogMatch struct {
	Number int64
	Line   LogLine
}

// SearchActionLog returns the first limit lines of an action's log that
// contain text (case-insensitive for ASCII on SQLite, as LIKE is), with
// their line numbers.
func (db *DB) SearchActionLog(ctx context.Context, runID, stage, action, text string, limit int) ([]LogMatch, error) {
	esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(text)
	out, err := list(ctx, db, `SELECT n, run_id, seq, stage, action, attempt, is_rollback, stream, logged_at, line FROM (
    SELECT ROW_NUMBER() OVER (ORDER BY seq) AS n, run_id, seq, stage, action, attempt, is_rollback, stream, logged_at, line
    FROM log_lines WHERE run_id = ? AND stage = ? AND action = ?
) numbered WHERE line LIKE ? ESCAPE '\' ORDER BY seq LIMIT ?`,
		[]any{runID, stage, action, "%" + esc + "%", limit}, func(s scanner) (LogMatch, error) {
			var (
				m  LogMatch
				ms int64
			)
			l := &m.Line
			err := s.Scan(&m.Number, &l.RunID, &l.Seq, &l.Stage, &l.Action, &l.Attempt, &l.Rollback, &l.Stream, &ms, &l.Text)
			l.Time = time.UnixMilli(ms).UTC()
			return m, err
		})
	if err != nil {
		return nil, fmt.Errorf("store: search log of %s/%s: %w", stage, action, err)
	}
	return out, nil
}

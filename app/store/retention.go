package store

import (
	"context"
	"fmt"
	"time"
)

// pruneBatch bounds the rows one statement deletes, so that the single
// writer is never held for long by a large expiry.
const pruneBatch = 5000

const (
	qPruneLogLines = `DELETE FROM log_lines WHERE (run_id, seq) IN
(SELECT run_id, seq FROM log_lines WHERE logged_at < ? LIMIT ?)`
	// A delivery not processed yet is kept whatever its age: its job
	// still needs it.
	qPruneDeliveries = `DELETE FROM deliveries WHERE guid IN
(SELECT guid FROM deliveries WHERE received_at < ? AND processed_at IS NOT NULL LIMIT ?)`
	qDeleteActionLines = `DELETE FROM log_lines WHERE run_id = ? AND stage = ? AND action = ? AND attempt = ?
AND is_rollback = ? AND seq > ? AND seq <= ?`
)

// PruneBefore deletes the log lines logged and the processed deliveries
// received before cutoff, in batches, and returns how many of each.
func (db *DB) PruneBefore(ctx context.Context, cutoff time.Time) (lines, deliveries int64, err error) {
	if lines, err = db.pruneBatches(ctx, qPruneLogLines, cutoff); err != nil {
		return lines, 0, fmt.Errorf("store: prune log lines: %w", err)
	}
	if deliveries, err = db.pruneBatches(ctx, qPruneDeliveries, cutoff); err != nil {
		return lines, deliveries, fmt.Errorf("store: prune deliveries: %w", err)
	}
	return lines, deliveries, nil
}

func (db *DB) pruneBatches(ctx context.Context, query string, cutoff time.Time) (int64, error) {
	var total int64
	for {
		res, err := db.exec(ctx, query, cutoff.UnixMilli(), pruneBatch)
		if err != nil {
			return total, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, err
		}
		total += n
		if n < pruneBatch || ctx.Err() != nil {
			return total, ctx.Err()
		}
	}
}

// DeleteActionLines deletes the lines of one attempt of an action with
// seq in (after, upTo]: the middle of a log cut to its head and tail.
func (db *DB) DeleteActionLines(ctx context.Context, l LogLine, after, upTo int64) error {
	if _, err := db.exec(ctx, qDeleteActionLines, l.RunID, l.Stage, l.Action, l.Attempt, l.Rollback, after, upTo); err != nil {
		return fmt.Errorf("store: cut log of %s/%s: %w", l.Stage, l.Action, err)
	}
	return nil
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// CancelChannel is the channel RequestCancel notifies, with the run id as
// payload: the replica executing the run looks for its requests.
const CancelChannel = "stagegate_cancel"

// CancelRequest asks for a run to be cancelled, wherever it executes.
type CancelRequest struct {
	RunID       string
	Reason      string
	RequestedAt time.Time
	// ConsumedAt is when the replica holding the run's lease took the
	// request; zero while pending.
	ConsumedAt time.Time
}

// RequestCancel records a request to cancel the run and notifies
// CancelChannel. The first request's reason stands; asking again changes
// nothing and reports false.
func (db *DB) RequestCancel(ctx context.Context, runID, reason string, now time.Time) (bool, error) {
	var n int64
	err := db.inTx(ctx, func(q *DB) error {
		res, err := q.exec(ctx, `INSERT INTO cancel_requests (run_id, reason, requested_at) VALUES (?, ?, ?)
ON CONFLICT (run_id) DO NOTHING`, runID, reason, now.UnixMilli())
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		return q.Notify(ctx, CancelChannel, runID)
	})
	if err != nil {
		return false, fmt.Errorf("store: request cancel of run %s: %w", runID, err)
	}
	return n == 1, nil
}

// TakeCancels returns the pending requests for the runs whose leases
// owner holds, and marks them consumed: each request is returned once,
// to one caller, even when the owner's goroutines or replicas ask at
// once (the update locks each row it changes; a second update of the
// same row sees it consumed). A request for a run not leased stays
// pending until a replica claims the run.
func (db *DB) TakeCancels(ctx context.Context, owner string, now time.Time) ([]CancelRequest, error) {
	out, err := list(ctx, db, `UPDATE cancel_requests SET consumed_at = ?
WHERE consumed_at IS NULL AND run_id IN (SELECT run_id FROM run_leases WHERE owner = ?)
RETURNING run_id, reason, requested_at, consumed_at`,
		[]any{now.UnixMilli(), owner}, scanCancel)
	if err != nil {
		return nil, fmt.Errorf("store: cancel requests for %s: %w", owner, err)
	}
	return out, nil
}

// CancelRequested returns the run's cancel request, consumed or not, or
// ErrNotFound: a replica starting or resuming a run checks it first.
func (db *DB) CancelRequested(ctx context.Context, runID string) (CancelRequest, error) {
	var c CancelRequest
	err := db.get(ctx, `SELECT run_id, reason, requested_at, consumed_at FROM cancel_requests WHERE run_id = ?`,
		[]any{runID}, func(s scanner) (err error) { c, err = scanCancel(s); return err })
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return CancelRequest{}, fmt.Errorf("store: cancel request of run %s: %w", runID, ErrNotFound)
		}
		return CancelRequest{}, fmt.Errorf("store: cancel request of run %s: %w", runID, err)
	}
	return c, nil
}

func scanCancel(s scanner) (CancelRequest, error) {
	var (
		c         CancelRequest
		requested int64
		consumed  sql.NullInt64
	)
	if err := s.Scan(&c.RunID, &c.Reason, &requested, &consumed); err != nil {
		return CancelRequest{}, err
	}
	c.RequestedAt = time.UnixMilli(requested).UTC()
	c.ConsumedAt = fromMillis(consumed)
	return c, nil
}

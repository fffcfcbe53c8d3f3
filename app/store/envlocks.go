package store

import (
	"context"
	"fmt"
	"time"
)

// The per-environment deploy lock, across replicas: runs line up for an
// environment in arrival order, and the first in line whose run holds a
// live lease (ClaimRun) holds the lock. A holder keeps it until it
// releases it or its lease lapses; a waiting run whose lease lapses loses
// its place, since no replica is left to take its turn.

// DeployChannel is the channel ReleaseDeploy notifies, with the payload
// "repo environment": gates waiting on any replica look again.
const DeployChannel = "stagegate_deploy"

// The next seq is computed in the insert. Two replicas enqueueing at once
// on Postgres may compute the same one: the unique index on seq rejects
// the second, which retries (enqueueDeployAttempts).
const qEnqueueDeploy = `INSERT INTO env_lock_queue (repo, environment, run_id, seq, enqueued_at)
SELECT ?, ?, ?, COALESCE(MAX(seq), 0) + 1, ? FROM env_lock_queue WHERE repo = ? AND environment = ?
ON CONFLICT (repo, environment, run_id) DO NOTHING`

const enqueueDeployAttempts = 20

// liveEntry is true for a line entry whose run holds a live lease.
const liveEntry = `EXISTS (SELECT 1 FROM run_leases l WHERE l.run_id = env_lock_queue.run_id AND l.expires_at > ?)`

// EnqueueDeploy puts the run at the end of the environment's line; a run
// already in line keeps its place. Call it outside a transaction: on
// Postgres a lost race for a place is retried, which a transaction
// aborted by the failed insert could not do.
func (db *DB) EnqueueDeploy(ctx context.Context, repo, env, runID string, now time.Time) error {
	var err error
	for range enqueueDeployAttempts {
		_, err = db.exec(ctx, qEnqueueDeploy, repo, env, runID, now.UnixMilli(), repo, env)
		if err == nil || !IsUniqueViolation(err) || db.tx != nil {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("store: enqueue run %s for %s %s: %w", runID, repo, env, err)
	}
	return nil
}

// TryAcquireDeploy reports whether the run holds the environment's lock
// now: whether it is first in line once the entries of lapsed leases are
// dropped. A run not in line (never enqueued, released, or dropped
// because its lease lapsed) gets ErrNotFound: it must enqueue again, at
// the end.
func (db *DB) TryAcquireDeploy(ctx context.Context, repo, env, runID string, now time.Time) (bool, error) {
	var head string
	err := db.inTx(ctx, func(q *DB) error {
		if _, err := q.exec(ctx, `DELETE FROM env_lock_queue WHERE repo = ? AND environment = ? AND NOT `+liveEntry,
			repo, env, now.UnixMilli()); err != nil {
			return err
		}
		var n int
		if err := q.get(ctx, `SELECT COUNT(*) FROM env_lock_queue WHERE repo = ? AND environment = ? AND run_id = ?`,
			[]any{repo, env, runID}, func(s scanner) error { return s.Scan(&n) }); err != nil {
			return err
		}
		if n == 0 {
			return ErrNotFound
		}
		return q.get(ctx, `SELECT run_id FROM env_lock_queue WHERE repo = ? AND environment = ? ORDER BY seq LIMIT 1`,
			[]any{repo, env}, func(s scanner) error { return s.Scan(&head) })
	})
	if err != nil {
		return false, fmt.Errorf("store: deploy lock %s %s for run %s: %w", repo, env, runID, err)
	}
	return head == runID, nil
}

// DeployHolder returns the run that holds the environment's lock at now:
// the first in line with a live lease; "" when none does.
func (db *DB) DeployHolder(ctx context.Context, repo, env string, now time.Time) (string, error) {
	line, err := db.DeployLine(ctx, repo, env, now)
	if err != nil || len(line) == 0 {
		return "", err
	}
	return line[0], nil
}

// DeployLine lists the runs in the environment's line whose leases live
// at now, the holder first.
func (db *DB) DeployLine(ctx context.Context, repo, env string, now time.Time) ([]string, error) {
	out, err := list(ctx, db, `SELECT run_id FROM env_lock_queue WHERE repo = ? AND environment = ? AND `+liveEntry+` ORDER BY seq`,
		[]any{repo, env, now.UnixMilli()}, func(s scanner) (id string, err error) { return id, s.Scan(&id) })
	if err != nil {
		return nil, fmt.Errorf("store: deploy line %s %s: %w", repo, env, err)
	}
	return out, nil
}

// ReleaseDeploy takes the run out of the environment's line, holder or
// not, reports whether it was in it, and notifies DeployChannel so that
// the next in line, on whichever replica, looks again.
func (db *DB) ReleaseDeploy(ctx context.Context, repo, env, runID string) (bool, error) {
	var n int64
	err := db.inTx(ctx, func(q *DB) error {
		res, err := q.exec(ctx, `DELETE FROM env_lock_queue WHERE repo = ? AND environment = ? AND run_id = ?`, repo, env, runID)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		// Sent when the transaction commits, on Postgres.
		return q.Notify(ctx, DeployChannel, repo+" "+env)
	})
	if err != nil {
		return false, fmt.Errorf("store: release deploy lock %s %s for run %s: %w", repo, env, runID, err)
	}
	return n == 1, nil
}

package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Lease is a replica's hold on an executing run.
type Lease struct {
	RunID string
	// Owner names the replica.
	Owner     string
	ClaimedAt time.Time
	ExpiresAt time.Time
}

// The claim is one statement: Postgres locks the conflicting row, so of
// replicas claiming at once exactly one row update (or insert) happens;
// SQLite writes one at a time anyway.
const qClaimRun = `INSERT INTO run_leases (run_id, owner, claimed_at, expires_at) VALUES (?, ?, ?, ?)
ON CONFLICT (run_id) DO UPDATE SET owner = excluded.owner, claimed_at = excluded.claimed_at, expires_at = excluded.expires_at
WHERE run_leases.owner = excluded.owner OR run_leases.expires_at <= ?`

// ClaimRun gives owner the lease on the run until now+ttl, and reports
// whether it did: when the run has no lease, when owner already holds it
// (the claim is then renewed), or when the lease of another owner lapsed
// (a takeover). While another owner's lease lives it fails. The run must
// exist.
func (db *DB) ClaimRun(ctx context.Context, runID, owner string, now time.Time, ttl time.Duration) (bool, error) {
	if owner == "" || ttl <= 0 {
		return false, fmt.Errorf("store: claim run %s: want an owner and a positive ttl", runID)
	}
	res, err := db.exec(ctx, qClaimRun, runID, owner, now.UnixMilli(), now.Add(ttl).UnixMilli(), now.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("store: claim run %s: %w", runID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: claim run %s: %w", runID, err)
	}
	return n == 1, nil
}

// HeartbeatRun extends owner's lease on the run to now+ttl, and reports
// false when owner no longer holds a live lease: it lapsed, was released
// or was taken over. The owner must then stop working the run, since
// another replica may already be.
func (db *DB) HeartbeatRun(ctx context.Context, runID, owner string, now time.Time, ttl time.Duration) (bool, error) {
	res, err := db.exec(ctx, `UPDATE run_leases SET expires_at = ? WHERE run_id = ? AND owner = ? AND expires_at > ?`,
		now.Add(ttl).UnixMilli(), runID, owner, now.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("store: heartbeat run %s: %w", runID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: heartbeat run %s: %w", runID, err)
	}
	return n == 1, nil
}

// ReleaseRun ends owner's lease on the run, and reports whether owner
// held one (live or lapsed but not taken over).
func (db *DB) ReleaseRun(ctx context.Context, runID, owner string) (bool, error) {
	res, err := db.exec(ctx, `DELETE FROM run_leases WHERE run_id = ? AND owner = ?`, runID, owner)
	if err != nil {
		return false, fmt.Errorf("store: release run %s: %w", runID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: release run %s: %w", runID, err)
	}
	return n == 1, nil
}

const leaseColumns = `run_id, owner, claimed_at, expires_at`

func scanLease(s scanner) (Lease, error) {
	var (
		l                  Lease
		claimed, expiresAt int64
	)
	if err := s.Scan(&l.RunID, &l.Owner, &claimed, &expiresAt); err != nil {
		return Lease{}, err
	}
	l.ClaimedAt = time.UnixMilli(claimed).UTC()
	l.ExpiresAt = time.UnixMilli(expiresAt).UTC()
	return l, nil
}

// ExpiredLeases lists the leases that lapsed at or before now, oldest
// lapse first: runs whose replica stopped renewing them, to be claimed
// and concluded or resumed.
func (db *DB) ExpiredLeases(ctx context.Context, now time.Time) ([]Lease, error) {
	out, err := list(ctx, db, `SELECT `+leaseColumns+` FROM run_leases WHERE expires_at <= ? ORDER BY expires_at, run_id`,
		[]any{now.UnixMilli()}, scanLease)
	if err != nil {
		return nil, fmt.Errorf("store: expired leases: %w", err)
	}
	return out, nil
}

// LeasesOf lists owner's leases, live or lapsed, by run id.
func (db *DB) LeasesOf(ctx context.Context, owner string) ([]Lease, error) {
	out, err := list(ctx, db, `SELECT `+leaseColumns+` FROM run_leases WHERE owner = ? ORDER BY run_id`,
		[]any{owner}, scanLease)
	if err != nil {
		return nil, fmt.Errorf("store: leases of %s: %w", owner, err)
	}
	return out, nil
}

// RunLease returns the run's lease, or ErrNotFound when it has none.
func (db *DB) RunLease(ctx context.Context, runID string) (Lease, error) {
	var l Lease
	err := db.get(ctx, `SELECT `+leaseColumns+` FROM run_leases WHERE run_id = ?`, []any{runID},
		func(s scanner) (err error) { l, err = scanLease(s); return err })
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return Lease{}, fmt.Errorf("store: lease of run %s: %w", runID, ErrNotFound)
		}
		return Lease{}, fmt.Errorf("store: lease of run %s: %w", runID, err)
	}
	return l, nil
}

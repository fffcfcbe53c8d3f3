package store

import (
	"context"
	"fmt"
	"time"
)

// As qClaimRun: one statement, so of replicas claiming at once one wins.
const qClaimRole = `INSERT INTO replica_roles (name, owner, expires_at) VALUES (?, ?, ?)
ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
WHERE replica_roles.owner = excluded.owner OR replica_roles.expires_at <= ?`

// ClaimRole gives owner the named role until now+ttl, and reports
// whether it did: when nobody holds it, when owner does (renewed), or
// when its holder's claim lapsed.
func (db *DB) ClaimRole(ctx context.Context, name, owner string, now time.Time, ttl time.Duration) (bool, error) {
	if owner == "" || ttl <= 0 {
		return false, fmt.Errorf("store: claim role %s: want an owner and a positive ttl", name)
	}
	res, err := db.exec(ctx, qClaimRole, name, owner, now.Add(ttl).UnixMilli(), now.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("store: claim role %s: %w", name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: claim role %s: %w", name, err)
	}
	return n == 1, nil
}

// ReleaseRole gives up owner's hold on the role.
func (db *DB) ReleaseRole(ctx context.Context, name, owner string) error {
	if _, err := db.exec(ctx, `DELETE FROM replica_roles WHERE name = ? AND owner = ?`, name, owner); err != nil {
		return fmt.Errorf("store: release role %s: %w", name, err)
	}
	return nil
}

// DropLeasesExcept deletes every run lease owner does not hold, and
// reports how many: on a database only one process uses (SQLite), the
// leases another owner left are a dead predecessor's, to be taken over at
// start without waiting for them to lapse.
func (db *DB) DropLeasesExcept(ctx context.Context, owner string) (int64, error) {
	res, err := db.exec(ctx, `DELETE FROM run_leases WHERE owner <> ?`, owner)
	if err != nil {
		return 0, fmt.Errorf("store: drop leases: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: drop leases: %w", err)
	}
	return n, nil
}

// LapsedRoles lists the roles whose names start with prefix and whose
// holders stopped renewing them at or before now, by holder.
func (db *DB) LapsedRoles(ctx context.Context, prefix string, now time.Time) (map[string]string, error) {
	type role struct{ name, owner string }
	out, err := list(ctx, db, `SELECT name, owner FROM replica_roles WHERE substr(name, 1, ?) = ? AND expires_at <= ? ORDER BY name`,
		[]any{len(prefix), prefix, now.UnixMilli()}, func(s scanner) (r role, err error) { return r, s.Scan(&r.name, &r.owner) })
	if err != nil {
		return nil, fmt.Errorf("store: lapsed roles: %w", err)
	}
	m := make(map[string]string, len(out))
	for _, r := range out {
		m[r.name] = r.owner
	}
	return m, nil
}

// RescueJobsOf makes the jobs a dead River client (a replica that
// stopped renewing its liveness) left running available again, so that
// another replica works them now rather than after River's rescue delay
// of an hour. Postgres only: on SQLite one process uses the database, and
// River's own rescue applies. Reports how many jobs it gave back.
func (db *DB) RescueJobsOf(ctx context.Context, clientID string) (int64, error) {
	if db.root.pgx == nil {
		return 0, nil
	}
	res, err := db.exec(ctx, `UPDATE river_job SET state = 'available', scheduled_at = now()
WHERE state = 'running' AND attempted_by[array_length(attempted_by, 1)] = ?`, clientID)
	if err != nil {
		return 0, fmt.Errorf("store: rescue the jobs of %s: %w", clientID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: rescue the jobs of %s: %w", clientID, err)
	}
	return n, nil
}

// LeaveDeployLines takes the run out of every environment's line, and
// notifies DeployChannel when it was in one: for a run taken over from a
// replica that died, whose place (or lock) would otherwise be freed only
// when a waiting replica next looks.
func (db *DB) LeaveDeployLines(ctx context.Context, runID string) error {
	err := db.inTx(ctx, func(q *DB) error {
		res, err := q.exec(ctx, `DELETE FROM env_lock_queue WHERE run_id = ?`, runID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		return q.Notify(ctx, DeployChannel, "")
	})
	if err != nil {
		return fmt.Errorf("store: take run %s out of the deploy lines: %w", runID, err)
	}
	return nil
}

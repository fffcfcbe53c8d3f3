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

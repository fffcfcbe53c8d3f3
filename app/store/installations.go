package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Installation is a GitHub App installation on an account.
type Installation struct {
	ID           int64
	AccountLogin string
	// AccountType is "User" or "Organization".
	AccountType string
	Suspended   bool
	Deleted     bool
	// UpdatedAt defaults to now.
	UpdatedAt time.Time
}

// UpsertInstallation stores inst, replacing what was known about it
// unless what is stored was learnt later than inst.UpdatedAt: a listing
// read at start must not undo a webhook processed meanwhile.
func (db *DB) UpsertInstallation(ctx context.Context, inst Installation) error {
	if inst.UpdatedAt.IsZero() {
		inst.UpdatedAt = db.now()
	}
	_, err := db.exec(ctx, `INSERT INTO installations (id, account_login, account_type, suspended, deleted, updated_at)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET
    account_login = excluded.account_login,
    account_type = excluded.account_type,
    suspended = excluded.suspended,
    deleted = excluded.deleted,
    updated_at = excluded.updated_at
WHERE installations.updated_at <= excluded.updated_at`,
		inst.ID, inst.AccountLogin, inst.AccountType, inst.Suspended, inst.Deleted, millis(inst.UpdatedAt))
	if err != nil {
		return fmt.Errorf("store: upsert installation %d: %w", inst.ID, err)
	}
	return nil
}

// InstallationActive reports whether the installation is neither
// suspended nor deleted. An installation never seen is ErrNotFound rather
// than false: after the database is lost, every installation is unknown
// but most are still active.
func (db *DB) InstallationActive(ctx context.Context, id int64) (bool, error) {
	var suspended, deleted bool
	err := db.get(ctx, `SELECT suspended, deleted FROM installations WHERE id = ?`, []any{id},
		func(s scanner) error { return s.Scan(&suspended, &deleted) })
	if err != nil {
		return false, fmt.Errorf("store: installation %d: %w", id, err)
	}
	return !suspended && !deleted, nil
}

// Installations lists every installation, deleted ones included, by id.
func (db *DB) Installations(ctx context.Context) ([]Installation, error) {
	out, err := list(ctx, db, `SELECT id, account_login, account_type, suspended, deleted, updated_at
FROM installations ORDER BY id`, nil, func(s scanner) (Installation, error) {
		var (
			inst    Installation
			updated sql.NullInt64
		)
		err := s.Scan(&inst.ID, &inst.AccountLogin, &inst.AccountType, &inst.Suspended, &inst.Deleted, &updated)
		inst.UpdatedAt = fromMillis(updated)
		return inst, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: installations: %w", err)
	}
	return out, nil
}

// AddInstallationRepos records that the installation can see repos
// (owner/name). An installation not stored yet is created bare: the
// installation_repositories event can arrive before its installation
// event.
func (db *DB) AddInstallationRepos(ctx context.Context, id int64, repos []string) error {
	err := db.inTx(ctx, func(q *DB) error {
		if _, err := q.exec(ctx, qEnsureInstallation, id, db.now().UnixMilli()); err != nil {
			return err
		}
		return q.each(ctx, qAddRepo, len(repos), func(i int) []any { return []any{id, repos[i]} })
	})
	if err != nil {
		return fmt.Errorf("store: add repos to installation %d: %w", id, err)
	}
	return nil
}

// RemoveInstallationRepos forgets repos for the installation.
func (db *DB) RemoveInstallationRepos(ctx context.Context, id int64, repos []string) error {
	err := db.inTx(ctx, func(q *DB) error {
		return q.each(ctx, qRemoveRepo, len(repos), func(i int) []any { return []any{id, repos[i]} })
	})
	if err != nil {
		return fmt.Errorf("store: remove repos from installation %d: %w", id, err)
	}
	return nil
}

const (
	qEnsureInstallation = `INSERT INTO installations (id, updated_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING`
	qAddRepo            = `INSERT INTO installation_repos (installation_id, repo) VALUES (?, ?)
ON CONFLICT (installation_id, repo) DO NOTHING`
	qRemoveRepo = `DELETE FROM installation_repos WHERE installation_id = ? AND repo = ?`
)

// InstallationRepos lists the installation's repos, sorted.
func (db *DB) InstallationRepos(ctx context.Context, id int64) ([]string, error) {
	out, err := list(ctx, db, `SELECT repo FROM installation_repos WHERE installation_id = ? ORDER BY repo`,
		[]any{id}, func(s scanner) (string, error) {
			var r string
			err := s.Scan(&r)
			return r, err
		})
	if err != nil {
		return nil, fmt.Errorf("store: repos of installation %d: %w", id, err)
	}
	return out, nil
}

package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"slices"
	"strconv"
	"strings"
)

// The app's migrations are numbered files, NNNN_what.sql, applied in
// order and never edited once released: a change is a new file.
//
//go:embed migrations/*.sql
var migrationFS embed.FS

var discardLogger = slog.New(slog.DiscardHandler)

type migration struct {
	version int
	name    string
	sql     string
}

func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, fmt.Errorf("store: migrations: %w", err)
	}
	var out []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("store: migration %s: name must be NNNN_what.sql", e.Name())
		}
		text, err := fs.ReadFile(migrationFS, path.Join("migrations", e.Name()))
		if err != nil {
			return nil, fmt.Errorf("store: migration %s: %w", e.Name(), err)
		}
		out = append(out, migration{version: v, name: e.Name(), sql: string(text)})
	}
	slices.SortFunc(out, func(a, b migration) int { return a.version - b.version })
	for i := 1; i < len(out); i++ {
		if out[i].version == out[i-1].version {
			return nil, fmt.Errorf("store: migrations %s and %s have the same version", out[i-1].name, out[i].name)
		}
	}
	return out, nil
}

func latestMigration() (int, error) {
	ms, err := migrations()
	if err != nil || len(ms) == 0 {
		return 0, err
	}
	return ms[len(ms)-1].version, nil
}

// Migrate brings the database up to date: the app's own tables, then
// River's. It is idempotent, so it runs on every start. Each migration is
// a transaction: one that fails leaves no trace, and one that another
// process applied meanwhile is skipped. On Postgres, replicas starting
// at once take turns (migrationLock).
func (db *DB) Migrate(ctx context.Context) error {
	if db.tx != nil {
		return fmt.Errorf("store: Migrate called on a transaction view")
	}
	ms, err := migrations()
	if err != nil {
		return err
	}
	if db.root.pgx != nil {
		unlock, err := db.migrationLock(ctx)
		if err != nil {
			return err
		}
		defer unlock()
	}
	if _, err := db.root.sql.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
    version    BIGINT PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at BIGINT NOT NULL
)`); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	for _, m := range ms {
		if err := db.apply(ctx, m); err != nil {
			return err
		}
	}
	// On SQLite another process (the CLI, a second serve) may be applying
	// River's migrations at the same moment, and one of the two fails on
	// what the other created; run again, it finds them applied.
	err = db.riverMigrate(ctx)
	for attempt := 1; err != nil && db.root.pgx == nil && attempt < 5 && ctx.Err() == nil; attempt++ {
		err = db.riverMigrate(ctx)
	}
	if err != nil {
		return fmt.Errorf("store: river migrations: %w", err)
	}
	// Prepared now, on the pool, so that their first use inside a
	// transaction does not have to prepare a throwaway copy.
	for _, q := range txQueries {
		if _, err := db.stmt(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// migrationLockID is the Postgres advisory lock that replicas starting
// at once take in turn to migrate: the first migrates, the others find
// nothing to do. (CREATE TABLE IF NOT EXISTS and River's migrations are
// not safe to run concurrently.)
const migrationLockID = 0x5354_4147_4547_5445 // "STAGEGTE"

// migrationLock takes the advisory lock on a connection of its own and
// returns what releases it.
func (db *DB) migrationLock(ctx context.Context) (unlock func(), err error) {
	conn, err := db.root.sql.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: migrate: %w", err)
	}
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, int64(migrationLockID)); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("store: migrate: lock: %w", err)
	}
	return func() {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(migrationLockID))
		_ = conn.Close()
	}, nil
}

func (db *DB) apply(ctx context.Context, m migration) error {
	err := db.WithTx(ctx, func(tx *sql.Tx) error {
		var n int
		q := db.root.dialect.rebind("SELECT COUNT(*) FROM schema_migrations WHERE version = ?")
		if err := tx.QueryRowContext(ctx, q, m.version).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return err
		}
		q = db.root.dialect.rebind("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)")
		_, err := tx.ExecContext(ctx, q, m.version, m.name, db.now().UnixMilli())
		return err
	})
	if err != nil {
		return fmt.Errorf("store: migration %s: %w", m.name, err)
	}
	return nil
}

// txQueries are the queries run inside transactions: on every webhook,
// every batch of log lines, and in the store's own batches.
var txQueries = []string{
	qInsertDelivery, qInsertLogLine, qLastLogSeq, qUpsertArtifact,
	qEnsureInstallation, qAddRepo, qRemoveRepo,
	qBodySeen, qRememberBody, qRecordPullHead,
}

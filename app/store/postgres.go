package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

var postgresDialect = dialect{name: "postgres", dollar: true}

// openPostgres opens a pgx pool on url and the database/sql view of it
// that the store's queries use; River's pgx driver shares the pool (see
// Pgx). Unlike SQLite's single connection, the pool has several, so
// transactions run side by side and Postgres's row locks and unique
// indexes, not a process-wide write lock, keep them apart.
func openPostgres(ctx context.Context, rawURL string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(rawURL)
	if err != nil {
		// pgx quotes the URL with its password masked; mask it again in
		// case a future version does not.
		msg := strings.ReplaceAll(err.Error(), rawURL, redact(rawURL))
		if u, perr := url.Parse(rawURL); perr == nil {
			if pw, ok := u.User.Password(); ok && pw != "" {
				msg = strings.ReplaceAll(msg, pw, "***")
			}
		}
		return nil, fmt.Errorf("store: database URL %s: not a valid postgres URL: %s", redact(rawURL), msg)
	}
	cfg.MaxConnIdleTime = 5 * time.Minute
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", redact(rawURL), err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: open %s: %w", redact(rawURL), err)
	}
	db := stdlib.OpenDBFromPool(pool)
	r := &root{
		sql:     db,
		pgx:     pool,
		dialect: postgresDialect,
		dsnPath: postgresName(rawURL),
		now:     time.Now,
		stmts:   map[string]*sql.Stmt{},
	}
	return &DB{root: r, x: db}, nil
}

// postgresName names the database for messages: host and database,
// never the password.
func postgresName(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "postgres"
	}
	return "postgres://" + u.Host + u.Path
}

// Pgx returns the pgx pool on Postgres, for River's pgx driver and
// LISTEN; nil on SQLite. Do not close it: Close does.
func (db *DB) Pgx() *pgxpool.Pool { return db.root.pgx }

// Rebind writes query's ? placeholders as the database wants them, for
// SQL run on SQL() directly.
func (db *DB) Rebind(query string) string { return db.root.dialect.rebind(query) }

// IsUniqueViolation reports whether err is a unique or primary key
// violation, on either database.
func IsUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505" // unique_violation
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// isPostgresURL reports whether url names a Postgres database.
func isPostgresURL(url string) bool {
	return strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://")
}

// Package store is stagegate's durable state: webhook deliveries,
// installations, runs and everything a run records (stages, actions, log
// lines, artifacts). River's job tables live in the same database so that
// a job can be inserted in the same transaction as the rows it acts on.
//
// The database is an embedded SQLite file by default, or Postgres
// (postgres://), which replicas will share. The SQL is written once, in the
// subset both accept: ? placeholders (rebound to $n for Postgres),
// INSERT ... ON CONFLICT, BIGINT unix-millisecond timestamps instead of
// either database's date types, TEXT for JSON, and ids made by NewID
// rather than by a sequence. A second database is a new dialect and an
// opener, not a rewrite.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stagegate/stagegate/internal/fanout"
)

// ErrNotFound is returned, wrapped, when the row asked for does not exist.
var ErrNotFound = errors.New("not found")

// ErrRunFinished is returned, wrapped, when a run that has already
// completed is asked to change status: whoever finished it first wins.
var ErrRunFinished = errors.New("run already completed")

// DB is the store. Its methods are safe for concurrent use.
//
// A DB made by InTx runs every method inside that transaction instead.
type DB struct {
	root *root
	// x runs the queries: root.sql, or the transaction of an InTx view.
	x  execer
	tx *sql.Tx
}

// root is what the DB and its transaction views share.
type root struct {
	sql     *sql.DB
	pgx     *pgxpool.Pool // on Postgres: the pool sql wraps
	dialect dialect
	dsnPath string // the file, for messages
	now     func() time.Time

	mu    sync.Mutex
	stmts map[string]*sql.Stmt

	// hub delivers notifications on SQLite (see Notify).
	hub fanout.Keyed[string]

	// migrated caches a successful Ready: migrations cannot be undone
	// under a running process, so /readyz need not ask again.
	migrated atomic.Bool
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// SQL returns the connection pool, for River's driver. Do not change its
// pool settings: see Open.
func (db *DB) SQL() *sql.DB { return db.root.sql }

// Dialect names the database kind: "sqlite" or "postgres".
func (db *DB) Dialect() string { return db.root.dialect.name }

// Close closes the database. Stop the queue first: River uses the same
// pool.
func (db *DB) Close() error {
	if db.tx != nil {
		return errors.New("store: Close called on a transaction view")
	}
	r := db.root
	r.mu.Lock()
	for q, s := range r.stmts {
		_ = s.Close()
		delete(r.stmts, q)
	}
	r.mu.Unlock()
	err := r.sql.Close()
	if r.pgx != nil {
		// Closing the database/sql view leaves the pool it wraps open.
		r.pgx.Close()
	}
	if err != nil {
		return fmt.Errorf("store: close %s: %w", r.dsnPath, err)
	}
	return nil
}

// WithTx runs fn in a transaction, committed when fn returns nil and
// rolled back otherwise (or when fn panics). fn's error is returned as is.
// Use InTx(tx) for the store's methods and queue.InsertTx for jobs.
//
// On SQLite the pool has one connection and the transaction holds it: a
// call on db itself (not on db.InTx(tx)) inside fn waits for that
// connection until ctx ends. Keep fn short for the same reason: River
// and every other caller wait while it runs.
//
// On Postgres transactions run side by side, at READ COMMITTED: what
// reads a row and then writes on what it read must decide in one
// statement (INSERT ... ON CONFLICT ... WHERE, UPDATE ... WHERE) or lock
// the row, where SQLite's single writer made the read-then-write safe.
//
// On a view made by InTx, WithTx joins the existing transaction.
func (db *DB) WithTx(ctx context.Context, fn func(*sql.Tx) error) (err error) {
	if db.tx != nil {
		return fn(db.tx)
	}
	tx, err := db.root.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
	}()
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// InTx returns a view of db whose methods run in tx. It is valid until tx
// commits or rolls back.
func (db *DB) InTx(tx *sql.Tx) *DB {
	return &DB{root: db.root, x: tx, tx: tx}
}

// inTx runs fn with a view in a transaction: db's own when it has one,
// a new one otherwise.
func (db *DB) inTx(ctx context.Context, fn func(*DB) error) error {
	if db.tx != nil {
		return fn(db)
	}
	return db.WithTx(ctx, func(tx *sql.Tx) error { return fn(db.InTx(tx)) })
}

// stmt returns the prepared statement for query, prepared once per
// process: with SQLite's single connection each query is then parsed
// exactly once, which matters for the ones run on every webhook and log
// line.
func (db *DB) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	r := db.root
	r.mu.Lock()
	s, ok := r.stmts[query]
	r.mu.Unlock()
	switch {
	case ok && db.tx != nil:
		return db.tx.StmtContext(ctx, s), nil
	case ok:
		return s, nil
	case db.tx != nil:
		// Preparing on the pool would wait for the connection this
		// transaction holds. The statement closes with the transaction;
		// Migrate prepares the ones used in transactions ahead.
		p, err := db.tx.PrepareContext(ctx, r.dialect.rebind(query))
		if err != nil {
			return nil, fmt.Errorf("store: prepare: %w", err)
		}
		return p, nil
	}
	p, err := r.sql.PrepareContext(ctx, r.dialect.rebind(query))
	if err != nil {
		return nil, fmt.Errorf("store: prepare: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if s, ok = r.stmts[query]; ok {
		_ = p.Close()
		return s, nil
	}
	r.stmts[query] = p
	return p, nil
}

// each runs the prepared statement n times, with args(i) for the i-th.
func (db *DB) each(ctx context.Context, query string, n int, args func(i int) []any) error {
	if n == 0 {
		return nil
	}
	s, err := db.stmt(ctx, query)
	if err != nil {
		return err
	}
	for i := range n {
		if _, err := s.ExecContext(ctx, args(i)...); err != nil {
			return err
		}
	}
	return nil
}

// exec runs a prepared statement.
func (db *DB) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	s, err := db.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(ctx, args...)
}

// query runs a prepared query.
func (db *DB) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	s, err := db.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}

// get hands the one row of a prepared query to scan, and returns
// ErrNotFound when there is none.
func (db *DB) get(ctx context.Context, query string, args []any, scan func(scanner) error) error {
	rows, err := db.query(ctx, query, args...)
	if err != nil {
		return err
	}
	defer func() { _ = rows.Close() }()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return ErrNotFound
	}
	if err := scan(rows); err != nil {
		return err
	}
	return rows.Close()
}

// list scans every row of a prepared query with scan.
func list[T any](ctx context.Context, db *DB, query string, args []any, scan func(scanner) (T, error)) ([]T, error) {
	rows, err := db.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// mustAffect turns an update that matched no row into ErrNotFound.
func mustAffect(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

type scanner interface{ Scan(dest ...any) error }

// Timestamps are stored as unix milliseconds, NULL when unset: the same
// BIGINT in SQLite and Postgres, sortable and compared as numbers, and
// the precision River's SQLite driver keeps too.

func millis(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

func fromMillis(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.UnixMilli(n.Int64).UTC()
}

func (db *DB) now() time.Time { return db.root.now() }

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	// The pure-Go SQLite: stagegate builds without cgo.
	_ "modernc.org/sqlite"
)

// busyTimeout is how long SQLite waits for another process's lock (the
// CLI reading the database, a backup) before SQLITE_BUSY.
const busyTimeout = 10 * time.Second

// dialect holds what differs between databases.
type dialect struct {
	name string
	// dollar placeholders: Postgres wants $1, $2, ... where SQLite takes ?.
	dollar bool
}

var sqliteDialect = dialect{name: "sqlite"}

// rebind rewrites ? placeholders for the dialect. Queries are written
// with ? everywhere; a ? inside a quoted string is left alone.
func (d dialect) rebind(q string) string {
	if !d.dollar || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	n, quoted := 0, false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'':
			quoted = !quoted
		case c == '?' && !quoted:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// Open opens the database at url:
//
//	sqlite://stagegate.db          relative to the working directory
//	sqlite:///var/lib/stagegate.db absolute
//
//	postgres://user:password@host:5432/dbname?sslmode=...  (or postgresql://)
//
// The SQLite file is created if missing; its directory must exist. A
// Postgres database must exist. Call Migrate before anything else.
func Open(ctx context.Context, url string) (*DB, error) {
	switch {
	case strings.HasPrefix(url, "sqlite://"):
		return openSQLite(ctx, strings.TrimPrefix(url, "sqlite://"))
	case isPostgresURL(url):
		return openPostgres(ctx, url)
	}
	return nil, fmt.Errorf("store: database URL %q: want sqlite://PATH or postgres://USER@HOST/DB", redact(url))
}

func openSQLite(ctx context.Context, path string) (*DB, error) {
	switch {
	case path == "":
		return nil, errors.New("store: sqlite:// needs a file path, such as sqlite://stagegate.db")
	case path == ":memory:" || strings.HasPrefix(path, "file:"):
		// Each pooled connection would see its own empty database, and
		// nothing would survive the restart deduplication exists for.
		return nil, fmt.Errorf("store: sqlite://%s: only a file path is supported", path)
	case strings.ContainsAny(path, "?#"):
		return nil, fmt.Errorf("store: sqlite://%s: the path must not contain ? or # (parameters are not supported)", path)
	}
	dir := filepath.Dir(path)
	if info, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("store: database directory %s does not exist", dir)
	} else if err != nil {
		return nil, fmt.Errorf("store: database directory: %w", err)
	} else if !info.IsDir() {
		return nil, fmt.Errorf("store: database directory %s is not a directory", dir)
	}

	if err := makePrivate(path); err != nil {
		return nil, err
	}

	// WAL lets readers in other processes work alongside the writer, and
	// with synchronous=NORMAL a commit is a write to the WAL without an
	// fsync: a power cut can lose the last commits but never corrupts the
	// file. BEGIN IMMEDIATE takes the write lock up front, so that a
	// transaction never has to upgrade a read lock held against another
	// process, which fails with SQLITE_BUSY whatever busy_timeout says.
	dsn := path + "?_txlock=immediate" +
		"&_pragma=busy_timeout(" + strconv.FormatInt(busyTimeout.Milliseconds(), 10) + ")" +
		"&_pragma=journal_mode(WAL)" +
		"&_pragma=synchronous(NORMAL)" +
		"&_pragma=foreign_keys(ON)"
	pool, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	// One connection. SQLite allows one writer at a time, and River runs
	// many things in parallel (fetches, completions, maintenance, the
	// notification poller). With more connections they fail with
	// SQLITE_BUSY under load, even with busy_timeout, when a reader
	// upgrades to a writer; with one, database/sql queues them instead.
	// The cost is that a transaction holds everyone up: see WithTx.
	pool.SetMaxOpenConns(1)
	pool.SetMaxIdleConns(1)
	pool.SetConnMaxLifetime(0)
	pool.SetConnMaxIdleTime(0)

	var mode string
	if err := pool.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		_ = pool.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if !strings.EqualFold(mode, "wal") {
		_ = pool.Close()
		return nil, fmt.Errorf("store: open %s: journal mode is %s, not WAL (is it on a network file system?)", path, mode)
	}
	r := &root{
		sql:     pool,
		dialect: sqliteDialect,
		dsnPath: path,
		now:     time.Now,
		stmts:   map[string]*sql.Stmt{},
	}
	return &DB{root: r, x: pool}, nil
}

// dbFileMode is the mode of the database and its companions: they hold
// every delivery, log and approval, and builds must not read them.
const dbFileMode = 0o600

// makePrivate creates the database file 0600 before SQLite opens it, and
// makes an existing one and its WAL and shared-memory files 0600. SQLite
// gives the -wal and -shm files it creates the mode of the database file
// (os_unix.c, findCreateFileMode), whatever the umask, so they follow.
func makePrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, dbFileMode)
	if err != nil {
		return fmt.Errorf("store: create %s: %w", path, err)
	}
	// Chmod on the descriptor: the umask may have taken bits from the
	// create mode, and an existing file keeps whatever mode it had.
	err = f.Chmod(dbFileMode)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("store: make %s private: %w", path, err)
	}
	for _, suffix := range []string{"-wal", "-shm", "-journal"} {
		if err := os.Chmod(path+suffix, dbFileMode); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("store: make %s private: %w", path+suffix, err)
		}
	}
	return nil
}

// redact hides a password in a URL for messages.
func redact(url string) string {
	scheme, rest, ok := strings.Cut(url, "://")
	if !ok {
		return url
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		if user, _, ok := strings.Cut(rest[:at], ":"); ok {
			return scheme + "://" + user + ":***" + rest[at:]
		}
	}
	return url
}

// Ready reports whether the database answers and is fully migrated, for
// /readyz.
func (db *DB) Ready(ctx context.Context) error {
	if err := db.root.sql.PingContext(ctx); err != nil {
		return fmt.Errorf("store: database %s: %w", db.root.dsnPath, err)
	}
	if db.root.migrated.Load() {
		return nil
	}
	latest, err := latestMigration()
	if err != nil {
		return err
	}
	var have sql.NullInt64
	if err := db.root.sql.QueryRowContext(ctx, "SELECT MAX(version) FROM schema_migrations").Scan(&have); err != nil {
		return fmt.Errorf("store: not migrated: %w", err)
	}
	if have.Int64 < int64(latest) {
		return fmt.Errorf("store: not migrated: schema version %d, want %d", have.Int64, latest)
	}
	res, err := db.riverValidate(ctx)
	if err != nil {
		return fmt.Errorf("store: river migrations: %w", err)
	}
	if !res.OK {
		return fmt.Errorf("store: river not migrated: %s", strings.Join(res.Messages, "; "))
	}
	db.root.migrated.Store(true)
	return nil
}

// riverMigrate and riverValidate run River's migrations through the
// driver of the database in use.
func (db *DB) riverMigrate(ctx context.Context) error {
	var err error
	if db.root.pgx != nil {
		_, err = mustMigrator(rivermigrate.New(riverpgxv5.New(db.root.pgx), &rivermigrate.Config{Logger: discardLogger})).
			Migrate(ctx, rivermigrate.DirectionUp, nil)
	} else {
		_, err = mustMigrator(rivermigrate.New(riversqlite.New(db.root.sql), &rivermigrate.Config{Logger: discardLogger})).
			Migrate(ctx, rivermigrate.DirectionUp, nil)
	}
	return err
}

func (db *DB) riverValidate(ctx context.Context) (*rivermigrate.ValidateResult, error) {
	if db.root.pgx != nil {
		return mustMigrator(rivermigrate.New(riverpgxv5.New(db.root.pgx), &rivermigrate.Config{Logger: discardLogger})).
			Validate(ctx, nil)
	}
	return mustMigrator(rivermigrate.New(riversqlite.New(db.root.sql), &rivermigrate.Config{Logger: discardLogger})).
		Validate(ctx, nil)
}

func mustMigrator[T any](m *rivermigrate.Migrator[T], err error) *rivermigrate.Migrator[T] {
	if err != nil {
		// Only a bad Line or Schema in the config fails, and ours is fixed.
		panic("store: river migrator: " + err.Error())
	}
	return m
}

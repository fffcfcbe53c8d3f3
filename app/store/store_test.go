package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stagegate/stagegate/app/store"
	"github.com/stagegate/stagegate/internal/pgtest"
)

// openDB opens and migrates a database file in a fresh temporary
// directory.
func openDB(t testing.TB) *store.DB {
	t.Helper()
	return openAt(t, filepath.Join(t.TempDir(), "stagegate.db"))
}

func openAt(t testing.TB, path string) *store.DB {
	t.Helper()
	return openURL(t, "sqlite://"+path)
}

// openURL opens and migrates the database at url (see pgtest.Run).
func openURL(t testing.TB, url string) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}

func TestOpenRejects(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "no", "such")
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		url, want string
	}{
		{"sqlite://", "needs a file path"},
		{"sqlite://:memory:", "only a file path"},
		{"sqlite://file:x.db", "only a file path"},
		{"sqlite://x.db?mode=memory", "must not contain"},
		{"sqlite://" + filepath.Join(missing, "x.db"), missing + " does not exist"},
		{"sqlite://" + filepath.Join(file, "x.db"), "is not a directory"},
		{"postgres://u:secret@127.0.0.1:1/stagegate?connect_timeout=5", "postgres://u:***@127.0.0.1:1/stagegate"},
		{"postgres://u:secret@db/stagegate?sslmode=bogus", "not a valid postgres URL"},
		{"mysql://u:secret@db/stagegate", "mysql://u:***@db/stagegate"},
		{"stagegate.db", "want sqlite://PATH or postgres://"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			db, err := store.Open(context.Background(), tt.url)
			if err == nil {
				_ = db.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Fatalf("error %q shows the password", err)
			}
		})
	}
}

func TestOpenRelativePath(t *testing.T) {
	t.Chdir(t.TempDir())
	db, err := store.Open(context.Background(), "sqlite://rel.db")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat("rel.db"); err != nil {
		t.Fatal(err)
	}
}

func TestMigrateIdempotent(t *testing.T) {
	pgtest.Run(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db, err := store.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Ready(ctx); err == nil {
			t.Fatal("Ready before Migrate succeeded")
		}
		for range 2 {
			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.Ready(ctx); err != nil {
			t.Fatal(err)
		}
		before := migrationRows(t, db)
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}

		db = openURL(t, url)
		if err := db.Ready(ctx); err != nil {
			t.Fatal(err)
		}
		if after := migrationRows(t, db); after != before || before == 0 {
			t.Fatalf("schema_migrations has %d rows after reopening, %d before", after, before)
		}
		var river int
		if err := db.SQL().QueryRowContext(ctx, "SELECT COUNT(*) FROM river_migration").Scan(&river); err != nil || river == 0 {
			t.Fatalf("river_migration: %d rows, %v", river, err)
		}
	})
}

func migrationRows(t *testing.T, db *store.DB) int {
	t.Helper()
	var n int
	if err := db.SQL().QueryRow("SELECT COUNT(*) FROM schema_migrations").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSQLiteSettings(t *testing.T) {
	db := openDB(t)
	for pragma, want := range map[string]string{
		"journal_mode": "wal",
		"synchronous":  "1", // NORMAL
		"foreign_keys": "1",
		"busy_timeout": "10000",
	} {
		var got string
		if err := db.SQL().QueryRow("PRAGMA " + pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %s, want %s", pragma, got, want)
		}
	}
	if got := db.SQL().Stats().MaxOpenConnections; got != 1 {
		t.Errorf("MaxOpenConnections = %d, want 1", got)
	}
}

func TestWithTx(t *testing.T) {
	pgtest.Run(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := openURL(t, url)
		boom := errors.New("boom")

		err := db.WithTx(ctx, func(tx *sql.Tx) error {
			if _, err := db.InsertDelivery(ctx, tx, store.Delivery{GUID: "rolled-back", Event: "push"}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("WithTx = %v, want fn's error", err)
		}
		func() {
			defer func() {
				if recover() == nil {
					t.Fatal("panic not passed on")
				}
			}()
			_ = db.WithTx(ctx, func(tx *sql.Tx) error {
				_, _ = db.InsertDelivery(ctx, tx, store.Delivery{GUID: "panicked", Event: "push"})
				panic("in fn")
			})
		}()
		known, err := db.KnownDeliveryGUIDs(ctx, []string{"rolled-back", "panicked"})
		if err != nil || len(known) != 0 {
			t.Fatalf("after rollback: %v, %v", known, err)
		}

		// A view joins its transaction, and its methods run in it.
		err = db.WithTx(ctx, func(tx *sql.Tx) error {
			v := db.InTx(tx)
			if _, err := v.CreateRun(ctx, store.Run{ID: "r1", Repo: "o/r", SHA: "s", Event: "push"}); err != nil {
				return err
			}
			return v.WithTx(ctx, func(inner *sql.Tx) error {
				if inner != tx {
					t.Error("view began a second transaction")
				}
				_, err := v.GetRun(ctx, "r1")
				return err
			})
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

func TestNewID(t *testing.T) {
	prev := ""
	for range 10000 {
		id := store.NewID()
		if len(id) != 26 || strings.Trim(id, "0123456789ABCDEFGHJKMNPQRSTVWXYZ") != "" {
			t.Fatalf("id %q is not 26 Crockford base32 characters", id)
		}
		if id <= prev {
			t.Fatalf("id %q after %q", id, prev)
		}
		prev = id
	}
}

// TestMigrateConcurrently has replicas (on SQLite, processes) migrate a
// new database at once: each succeeds, whoever applies what.
func TestMigrateConcurrently(t *testing.T) {
	pgtest.Run(t, func(t *testing.T, url string) {
		ctx := context.Background()
		dbs := make([]*store.DB, 4)
		for i := range dbs {
			db, err := store.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = db.Close() })
			dbs[i] = db
		}
		errs := make(chan error, len(dbs))
		for _, db := range dbs {
			go func() {
				if err := db.Migrate(ctx); err != nil {
					errs <- err
					return
				}
				errs <- db.Ready(ctx)
			}()
		}
		for range dbs {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
	})
}

func TestIsUniqueViolation(t *testing.T) {
	pgtest.Run(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := openURL(t, url)
		insert := db.Rebind(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`)
		if _, err := db.SQL().ExecContext(ctx, insert, 9999, "x", 0); err != nil {
			t.Fatal(err)
		}
		_, err := db.SQL().ExecContext(ctx, insert, 9999, "x", 0)
		if err == nil || !store.IsUniqueViolation(err) || !store.IsUniqueViolation(fmt.Errorf("wrapped: %w", err)) {
			t.Fatalf("duplicate key: %v; want a unique violation", err)
		}
		_, err = db.SQL().ExecContext(ctx, insert, 10000, nil, 0)
		if err == nil || store.IsUniqueViolation(err) {
			t.Fatalf("NOT NULL violation: %v; want an error that is not a unique violation", err)
		}
		if store.IsUniqueViolation(errors.New("UNIQUE constraint failed")) {
			t.Fatal("a plain error taken for a unique violation")
		}
	})
}

// TestPostgresOpen is TestSQLiteSettings's counterpart: the pool, and
// messages that name the database without its password.
func TestPostgresOpen(t *testing.T) {
	ctx := context.Background()
	u, err := url.Parse(pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), "not-needed-but-secret")
	db, err := store.Open(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	if db.Dialect() != "postgres" || db.Pgx() == nil {
		t.Fatalf("Dialect %q, Pgx %v", db.Dialect(), db.Pgx())
	}
	err = db.Ready(ctx)
	if err == nil || !strings.Contains(err.Error(), "not migrated") || strings.Contains(err.Error(), "not-needed-but-secret") {
		t.Fatalf("Ready before Migrate = %v", err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Ready(ctx); err == nil || strings.Contains(err.Error(), "not-needed-but-secret") {
		t.Fatalf("Ready after Close = %v", err)
	}
}

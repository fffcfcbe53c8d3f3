package pgtest

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestURLIsFreshAndDropped checks that each URL is a database of its
// own, empty, and gone once its test ends.
func TestURLIsFreshAndDropped(t *testing.T) {
	ctx := context.Background()
	var names []string
	for range 2 {
		t.Run("db", func(t *testing.T) {
			u := URL(t)
			conn, err := pgx.Connect(ctx, u)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = conn.Close(ctx) }()
			var tables int
			if err := conn.QueryRow(ctx, `SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public'`).Scan(&tables); err != nil {
				t.Fatal(err)
			}
			if tables != 0 {
				t.Fatalf("a new database has %d tables", tables)
			}
			if _, err := conn.Exec(ctx, `CREATE TABLE t (x INT)`); err != nil {
				t.Fatal(err)
			}
			parsed, _ := url.Parse(u)
			names = append(names, strings.TrimPrefix(parsed.Path, "/"))
		})
	}
	if len(names) != 2 || names[0] == names[1] {
		t.Fatalf("databases %v; want two distinct", names)
	}
	conn, err := pgx.Connect(ctx, withoutPoolParams(Server(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(ctx) }()
	var left int
	if err := conn.QueryRow(ctx, `SELECT COUNT(*) FROM pg_database WHERE datname = ANY($1)`, names).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Fatalf("%d of %v still exist after their tests", left, names)
	}
}

func TestWithoutPoolParams(t *testing.T) {
	got := withoutPoolParams("postgres://u:p@h:5432/db?sslmode=disable&pool_max_conns=16&pool_min_conns=1")
	if got != "postgres://u:p@h:5432/db?sslmode=disable" {
		t.Fatalf("withoutPoolParams = %q", got)
	}
}

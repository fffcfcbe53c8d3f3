// Package pgtest gives tests a database of each kind stagegate runs on:
// an SQLite file in a temporary directory, and a fresh Postgres database
// on the server named by STAGEGATE_POSTGRES_URL, dropped when the test
// ends. Without that variable the Postgres cases skip, saying what to
// install, unless STAGEGATE_REQUIRE_POSTGRES=1 (CI) makes that a failure.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Env names the variable holding the Postgres server's URL (any database
// on it that the user may connect to; tests create their own).
const Env = "STAGEGATE_POSTGRES_URL"

// RequireEnv, set to 1, turns a missing server into a failure.
const RequireEnv = "STAGEGATE_REQUIRE_POSTGRES"

// Backend is one kind of database.
type Backend struct {
	// Name is the subtest's name: sqlite or postgres.
	Name string
	// URL returns the URL of a new, empty database for t, removed when t
	// ends; the postgres one skips or fails t when there is no server.
	URL func(t testing.TB) string
}

// Backends lists SQLite, then Postgres.
func Backends() []Backend {
	return []Backend{
		{Name: "sqlite", URL: SQLiteURL},
		{Name: "postgres", URL: URL},
	}
}

// Run runs fn in a subtest per backend, with the URL of a new database
// of that kind.
func Run(t *testing.T, fn func(t *testing.T, url string)) {
	t.Helper()
	for _, b := range Backends() {
		t.Run(b.Name, func(t *testing.T) { fn(t, b.URL(t)) })
	}
}

// SQLiteURL returns an SQLite database file's URL in t's temporary
// directory.
func SQLiteURL(t testing.TB) string {
	return "sqlite://" + filepath.Join(t.TempDir(), "stagegate.db")
}

// Server returns the Postgres server's URL, or skips (fails under
// STAGEGATE_REQUIRE_POSTGRES=1) when there is none.
func Server(t testing.TB) string {
	t.Helper()
	u := os.Getenv(Env)
	if u != "" {
		return u
	}
	if os.Getenv(RequireEnv) == "1" {
		t.Fatalf("%s is not set and %s=1: a Postgres server is required (.ci/run starts one)", Env, RequireEnv)
	}
	t.Skipf("%s is not set: install Postgres (apt install postgresql) and set it to a server's URL, or run .ci/run", Env)
	return ""
}

// URL creates a new database on the Postgres server and returns its URL;
// the database is dropped, with whatever connections remain, when t ends.
func URL(t testing.TB) string {
	t.Helper()
	server := Server(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, withoutPoolParams(server))
	if err != nil {
		t.Fatalf("pgtest: connect to %s: %v", Env, err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	var b [8]byte
	_, _ = rand.Read(b[:])
	name := "stagegate_test_" + hex.EncodeToString(b[:])
	// CREATE DATABASE copies template1 and takes a lock on it; two at
	// once on one template are serialized by the server.
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() { drop(t, server, name) })
	u, err := url.Parse(server)
	if err != nil {
		t.Fatalf("pgtest: %s: %v", Env, err)
	}
	u.Path = "/" + name
	return u.String()
}

func drop(t testing.TB, server, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, withoutPoolParams(server))
	if err != nil {
		t.Errorf("pgtest: drop %s: %v", name, err)
		return
	}
	defer func() { _ = conn.Close(context.Background()) }()
	// FORCE ends the connections a failed test left open (Postgres 13+).
	if _, err := conn.Exec(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name)); err != nil {
		t.Errorf("pgtest: drop %s: %v", name, err)
	}
}

// withoutPoolParams drops pgxpool's settings (pool_max_conns, ...) from
// a URL for a single connection, which would send them to the server as
// unknown parameters.
func withoutPoolParams(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	q := u.Query()
	for k := range q {
		if strings.HasPrefix(k, "pool_") {
			q.Del(k)
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

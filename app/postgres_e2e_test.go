package app_test

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/stagegate/stagegate/app"
	"github.com/stagegate/stagegate/internal/githubtest"
	"github.com/stagegate/stagegate/internal/pgtest"
)

// appTestsOnPostgres, set to 1, runs every harness App on Postgres
// instead of SQLite: the whole App suite, on the server of
// STAGEGATE_POSTGRES_URL.
const appTestsOnPostgres = "STAGEGATE_TEST_APP_ON_POSTGRES"

// harnessDatabase is the database of a harness App: a new SQLite file,
// or a new Postgres database under STAGEGATE_TEST_APP_ON_POSTGRES=1.
func harnessDatabase(t testing.TB) string {
	if os.Getenv(appTestsOnPostgres) == "1" {
		return pgtest.URL(t)
	}
	return pgtest.SQLiteURL(t)
}

// TestPostgresEndToEnd runs the App on a Postgres database: a push runs
// every stage to a concluded check, a redelivery after a restart is
// known as a duplicate, and the run was stored once.
func TestPostgresEndToEnd(t *testing.T) {
	dbURL := pgtest.URL(t)
	h := buildHarness(t, map[string]string{".stagegate.yml": threeStages, "main.go": "package main\n"}, zerolog.InfoLevel, nil)
	h.cfg.Database = dbURL
	h.start()

	sha := h.repo.Commit("main", map[string]string{"main.go": "package main\n\nfunc main() {}\n"}, "change")
	body := h.repo.Webhook("push", func(p map[string]any) {
		githubtest.SetPath(p, "after", sha)
		githubtest.SetPath(p, "ref", "refs/heads/main")
	})
	guid := githubtest.NewDeliveryID()
	if code, text := h.send("push", guid, body); code != http.StatusAccepted {
		t.Fatalf("delivery: %d %q", code, text)
	}
	got := h.waitChecks(sha, 60*time.Second)
	for _, name := range []string{"stagegate", "stagegate/build", "stagegate/test", "stagegate/package"} {
		if c, ok := got[name]; !ok || c.Status != "completed" || c.Conclusion != "success" {
			t.Errorf("%s: %+v", name, describeChecks(got))
		}
	}
	if !strings.Contains(got["stagegate/package"].Output.Text, "packaging 1.0.") {
		t.Errorf("outputs did not reach a later stage:\n%s", got["stagegate/package"].Output.Text)
	}

	h.stop()
	h.start()
	if code, text := h.send("push", guid, body); code != http.StatusOK || !strings.Contains(text, "duplicate") {
		t.Errorf("redelivery after a restart: %d %q, want 200 duplicate", code, text)
	}
	if n := h.app.RunsForSHA(context.Background(), "acme/web", sha); n != 1 {
		t.Errorf("%d runs for one delivery, want 1", n)
	}
}

func TestDatabaseSetting(t *testing.T) {
	for _, tt := range []struct {
		url, wantErr string
	}{
		{"sqlite://" + t.TempDir() + "/x.db", ""},
		{"postgres://u:pw@db.example:5432/stagegate?sslmode=verify-full", ""},
		{"postgresql://u@db.example/stagegate", ""},
		{"mysql://u:hunter2@db.example/stagegate", `not "mysql://..."`},
	} {
		cfg := app.Config{
			AppID: 1, PrivateKey: []byte("-----BEGIN RSA PRIVATE KEY-----\n"), WebhookSecret: []byte("s"),
			GitHubURL: "https://api.github.com/", DataDir: t.TempDir(), Database: tt.url,
		}
		err := cfg.Validate()
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tt.url, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "hunter2")):
			t.Errorf("%s: %v; want an error with %q and no password", tt.url, err, tt.wantErr)
		}
	}
}

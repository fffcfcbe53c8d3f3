package app_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/stagegate/stagegate/internal/githubtest"
	"github.com/stagegate/stagegate/internal/pgtest"
)

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

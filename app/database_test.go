package app_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/stagegate/stagegate/app"
	"github.com/stagegate/stagegate/internal/githubtest"
)

// TestDefaultDatabaseIsInsideTheDataDir: without --database the embedded
// database lives in the data dir (hidden from builds with it), 0600, and
// nothing is written to the working directory. A database an older
// version left in the working directory stops the start with what to do,
// rather than starting over with an empty one.
func TestDefaultDatabaseIsInsideTheDataDir(t *testing.T) {
	gh := githubtest.New(t)
	cwd := t.TempDir()
	t.Chdir(cwd)
	cfg := func(dataDir string) app.Config {
		return app.Config{
			Addr: "127.0.0.1:0", AppID: gh.AppID(), PrivateKey: gh.PrivateKeyPEM(), WebhookSecret: []byte(webhookSecret),
			GitHubURL: gh.APIURL(), DataDir: dataDir,
		}
	}
	dataDir := filepath.Join(t.TempDir(), "data")
	a, err := app.New(context.Background(), cfg(dataDir), app.Options{Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dataDir, "stagegate.db"))
	if err != nil {
		t.Fatalf("no database in the data dir: %v", err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("database mode %#o, want 0600", st.Mode().Perm())
	}
	if entries, _ := os.ReadDir(cwd); len(entries) != 0 {
		t.Errorf("the working directory got %d entries, such as %s", len(entries), entries[0].Name())
	}

	// An older version's default: ./stagegate.db.
	if err := os.WriteFile(filepath.Join(cwd, "stagegate.db"), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = app.New(context.Background(), cfg(filepath.Join(t.TempDir(), "fresh")), app.Options{Logger: zerolog.Nop()})
	if err == nil || !strings.Contains(err.Error(), "stagegate.db") || !strings.Contains(err.Error(), "--database") {
		t.Fatalf("New with a database left in the working directory: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(cwd, "stagegate.db")); string(b) != "old" {
		t.Error("the old database was changed")
	}
	// Named explicitly, it is used where it is.
	explicit := cfg(filepath.Join(t.TempDir(), "d2"))
	explicit.Database = "sqlite://" + filepath.Join(t.TempDir(), "elsewhere.db")
	a, err = app.New(context.Background(), explicit, app.Options{Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
}

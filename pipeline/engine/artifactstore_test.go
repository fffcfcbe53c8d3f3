//go:build unix

package engine_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/stagegate/stagegate/pipeline/engine"
)

// keeper is an ArtifactStore that records what the engine keeps.
type keeper struct {
	mu   sync.Mutex
	puts map[engine.ArtifactKey][]string
	err  error
}

func (k *keeper) Put(_ context.Context, key engine.ArtifactKey, dir string, files []string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, f := range files {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return err
		}
	}
	if k.puts == nil {
		k.puts = map[engine.ArtifactKey][]string{}
	}
	k.puts[key] = files
	return k.err
}

func (k *keeper) Get(context.Context, string, string, []string, string) error {
	return errors.New("not used")
}

func TestArtifactStoreKeepsEachActionsArtifacts(t *testing.T) {
	f := newFixture(t)
	k := &keeper{}
	p := pipe(
		stage("build",
			act("bin", "echo b > app.bin", artifacts("app.bin")),
			act("docs", "echo d > doc.txt", artifacts("doc.txt")),
			act("none", "true")),
		stage("deploy", act("ship", `cat "$STAGEGATE_ARTIFACTS/app.bin"`)),
	)
	res := f.run(t.Context(), p, func(r *engine.Run) { r.ArtifactStore = k })
	if res.Status != engine.StatusSuccess {
		t.Fatalf("run %s %q", res.Status, res.Reason)
	}
	want := map[engine.ArtifactKey][]string{
		{Run: res.RunID, Stage: "build", Action: "bin"}:  {"app.bin"},
		{Run: res.RunID, Stage: "build", Action: "docs"}: {"doc.txt"},
	}
	if len(k.puts) != len(want) {
		t.Errorf("kept %v, want %v", k.puts, want)
	}
	for key, files := range want {
		if !slices.Equal(k.puts[key], files) {
			t.Errorf("kept %v for %+v, want %v", k.puts[key], key, files)
		}
	}
}

func TestArtifactStoreFailureFailsTheAction(t *testing.T) {
	f := newFixture(t)
	k := &keeper{err: errors.New("bucket unreachable")}
	p := pipe(stage("build", act("bin", "echo b > app.bin", artifacts("app.bin"))), stage("deploy", act("ship", "true")))
	res := f.run(t.Context(), p, func(r *engine.Run) { r.ArtifactStore = k })
	if res.Status != engine.StatusFailure || !strings.Contains(res.Reason, "keep artifacts: bucket unreachable") {
		t.Errorf("run %s %q, want a failure naming the store's error", res.Status, res.Reason)
	}
	if got := stageResult(t, res, "deploy").Status; got != engine.StatusSkipped {
		t.Errorf("deploy %s after its artifacts were not kept", got)
	}
}

func TestLocalArtifactsRoundTrip(t *testing.T) {
	root, work := t.TempDir(), t.TempDir()
	if err := os.MkdirAll(filepath.Join(work, "dist"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, "dist", "app"), []byte("bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	store := &engine.LocalArtifacts{Root: root}
	ctx := t.Context()
	if err := store.Put(ctx, engine.ArtifactKey{Run: "r1", Stage: "build", Action: "a"}, work, []string{"dist/app"}); err != nil {
		t.Fatalf("Put: %v", err)
	}
	out := t.TempDir()
	// Twice: a resumed run fetches again over its read-only copy.
	for range 2 {
		if err := store.Get(ctx, "r1", "build", []string{"dist/app"}, out); err != nil {
			t.Fatalf("Get: %v", err)
		}
	}
	st, err := os.Lstat(filepath.Join(out, "dist", "app"))
	if err != nil || !st.Mode().IsRegular() || st.Mode().Perm() != 0o555 {
		t.Fatalf("fetched dist/app: %v %v, want a regular file 0555", st, err)
	}
	// Put into the run's own directory is the engine's store itself.
	if err := store.Put(ctx, engine.ArtifactKey{Run: "r1", Stage: "build", Action: "a"}, filepath.Join(root, "r1"), []string{"dist/app"}); err != nil {
		t.Errorf("Put into the store's own directory: %v", err)
	}
}

func TestLocalArtifactsRefuseWhatLeavesTheStore(t *testing.T) {
	root := t.TempDir()
	run := filepath.Join(root, "r1")
	if err := os.MkdirAll(run, 0o700); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(root, "secret")
	if err := os.WriteFile(secret, []byte("s3cr3t"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, filepath.Join(run, "link")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(run, "fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	store := &engine.LocalArtifacts{Root: root}
	cases := []struct {
		name, run string
		files     []string
	}{
		{"dot-dot path", "r1", []string{"../secret"}},
		{"absolute path", "r1", []string{"/etc/passwd"}},
		{"dot-dot run", "..", []string{"secret"}},
		{"run with a slash", "r1/..", []string{"secret"}},
		{"link", "r1", []string{"link"}},
		// A FIFO would block an open without O_NONBLOCK: the test would hang.
		{"fifo", "r1", []string{"fifo"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := t.TempDir()
			if err := store.Get(t.Context(), c.run, "build", c.files, out); err == nil {
				t.Fatalf("Get(%q, %q) succeeded", c.run, c.files)
			}
			entries, _ := os.ReadDir(out)
			if len(entries) != 0 {
				t.Errorf("Get left %v in the directory", entries)
			}
		})
	}
}

func TestValidArtifactPathAndKeyPart(t *testing.T) {
	paths := map[string]bool{
		"app": true, "dist/app": true, "a/b/c.txt": true, `odd\name`: true, ".hidden": true, "a..b": true,
		"": false, ".": false, "..": false, "../x": false, "a/../b": false, "/etc/passwd": false,
		"a//b": false, "a/": false, "./a": false,
	}
	for p, want := range paths {
		if got := engine.ValidArtifactPath(p); got != want {
			t.Errorf("ValidArtifactPath(%q) = %v, want %v", p, got, want)
		}
	}
	parts := map[string]bool{
		"build": true, "01M91CB7MKT673ET02Z4RG76D0": true, "a.b-c_d": true,
		"": false, ".": false, "..": false, "a/b": false, `a\b`: false, "a\nb": false, strings.Repeat("x", 257): false,
	}
	for p, want := range parts {
		if got := engine.ValidKeyPart(p); got != want {
			t.Errorf("ValidKeyPart(%q) = %v, want %v", p, got, want)
		}
	}
}

package app_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/stagegate/stagegate/internal/githubtest"
	"github.com/stagegate/stagegate/pipeline/runner"
	"github.com/stagegate/stagegate/pipeline/runner/local"
)

// specRecorder runs actions with the local runner and keeps their specs.
type specRecorder struct {
	local.Runner
	mu    sync.Mutex
	specs []runner.Spec
}

func (r *specRecorder) Run(ctx context.Context, spec runner.Spec) (runner.Result, error) {
	r.mu.Lock()
	r.specs = append(r.specs, spec)
	r.mu.Unlock()
	return r.Runner.Run(ctx, spec)
}

// specsOf returns the specs of the actions whose STAGEGATE_SHA is sha.
func (r *specRecorder) specsOf(sha string) []runner.Spec {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []runner.Spec
	for _, s := range r.specs {
		if envValue(s.Env, "STAGEGATE_SHA") == sha {
			out = append(out, s)
		}
	}
	return out
}

func envValue(env []string, name string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v
		}
	}
	return ""
}

func within(p, dir string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && filepath.IsLocal(rel)
}

// TestRunsGetTheirOwnDirectories: what the App hands the runner. Each
// run has its own HOME and TMPDIR, empty at its start; a fork's run and
// a trusted run have their workspace, HOME, TMPDIR and artifact store
// under different roots; the artifact store is read-only to actions;
// and the data dir, the database and the key file are hidden.
func TestRunsGetTheirOwnDirectories(t *testing.T) {
	rec := &specRecorder{}
	const pipeline = `stages:
  - name: build
    actions:
      - name: home
        run: |
          ls -A "$HOME" | sed 's/^/left: /'
          echo mine > "$HOME/.marker"
          mkdir -p "$HOME/go/pkg/mod/m@v1" "$TMPDIR/ro" && chmod -R 555 "$HOME/go" "$TMPDIR/ro"
          echo out > out.txt
        artifacts: [out.txt]
  - { name: test, actions: [{ name: read, run: 'cat "$STAGEGATE_ARTIFACTS/out.txt"' }] }
`
	h := newHarnessRunner(t, map[string]string{".stagegate.yml": pipeline}, zerolog.InfoLevel, rec)
	dataDir, err := filepath.Abs(h.cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	first := h.push("main", map[string]string{"a": "1"})
	got := h.waitChecks(first, 30*time.Second)
	second := h.push("main", map[string]string{"a": "2"})
	got2 := h.waitChecks(second, 30*time.Second)
	for _, c := range []githubtest.CheckRun{got["stagegate/build"], got2["stagegate/build"], got2["stagegate/test"]} {
		if c.Conclusion != "success" {
			t.Fatalf("%s: %s %s", c.Name, c.Conclusion, c.Output.Text)
		}
	}
	if strings.Contains(got2["stagegate/build"].Output.Text, "left: .marker") {
		t.Errorf("the second run's HOME held what the first left:\n%s", got2["stagegate/build"].Output.Text)
	}

	h.gh.SetPermission("acme", "web", "alice", "write")
	h.gh.AddFork("acme", "web", "mallory")
	fork := h.openPR(7, "evil", "mallory/web", map[string]string{"b": "1"})
	h.gh.Advance(2 * time.Second)
	h.comment(7, "alice", "/ok-to-test")
	if c := h.waitChecks(fork, 30*time.Second)["stagegate/build"]; c.Conclusion != "success" {
		t.Fatalf("fork run: %s %s", c.Conclusion, c.Output.Text)
	}

	homes := map[string]string{}
	for _, tc := range []struct {
		name, sha, root string
	}{
		{"first trusted run", first, "trusted"},
		{"second trusted run", second, "trusted"},
		{"fork run", fork, "untrusted"},
	} {
		specs := rec.specsOf(tc.sha)
		if len(specs) != 2 {
			t.Fatalf("%s: %d actions recorded, want 2", tc.name, len(specs))
		}
		root := filepath.Join(dataDir, tc.root)
		for _, s := range specs {
			home, tmp := envValue(s.Env, "HOME"), envValue(s.Env, "TMPDIR")
			ws, arts := envValue(s.Env, "STAGEGATE_WORKSPACE"), envValue(s.Env, "STAGEGATE_ARTIFACTS")
			for name, p := range map[string]string{"HOME": home, "TMPDIR": tmp, "workspace": ws, "artifact store": arts} {
				if !within(p, root) {
					t.Errorf("%s: %s %s is not under %s", tc.name, name, p, root)
				}
			}
			if home == os.Getenv("HOME") || home == tmp {
				t.Errorf("%s: HOME %s is the host's or TMPDIR", tc.name, home)
			}
			if prev, ok := homes[home]; ok && prev != tc.name {
				t.Errorf("%s and %s share HOME %s", prev, tc.name, home)
			}
			homes[home] = tc.name
			// Neither the fetch token nor the API token is in an
			// action's environment, in any form.
			env := strings.Join(s.Env, "\n")
			if leaks := h.gh.TokensIn(env); len(leaks) != 0 || strings.Contains(env, "GIT_CONFIG") || strings.Contains(env, "Authorization") {
				t.Errorf("%s: an action's environment holds a token or git's auth config:\n%s", tc.name, env)
			}
			for _, w := range s.Access.Writable {
				if !within(w, root) {
					t.Errorf("%s: writable %s outside its root %s", tc.name, w, root)
				}
				if within(w, arts) || w == arts {
					t.Errorf("%s: the artifact store is writable (%s)", tc.name, w)
				}
			}
			for _, want := range []string{ws, home, tmp} {
				if !contains(s.Access.Writable, want) {
					t.Errorf("%s: %s not writable: %q", tc.name, want, s.Access.Writable)
				}
			}
			if !contains(s.Access.ReadOnly, arts) {
				t.Errorf("%s: the artifact store %s is not shown read-only: %q", tc.name, arts, s.Access.ReadOnly)
			}
			hiddens := []string{dataDir}
			if db, ok := strings.CutPrefix(h.cfg.Database, "sqlite://"); ok {
				hiddens = append(hiddens, db, db+"-wal")
			}
			for _, hidden := range hiddens {
				if !contains(s.Access.Hidden, hidden) {
					t.Errorf("%s: %s is not hidden: %q", tc.name, hidden, s.Access.Hidden)
				}
			}
		}
	}
	// Nothing is left of the runs but their artifact stores, although
	// the builds left directories they could not write (as Go's module
	// cache does).
	waitFor(t, func() bool { return h.runFinished(fork) })
	for _, root := range []string{"trusted", "untrusted"} {
		for _, scratch := range []string{"tmp", "workspaces"} {
			if left, err := os.ReadDir(filepath.Join(dataDir, root, scratch)); err != nil || len(left) != 0 {
				t.Errorf("%s/%s holds %v after the runs (%v)", root, scratch, left, err)
			}
		}
	}
	// Stored artifacts are read-only, also to a later run of the same code.
	for _, root := range []string{"trusted", "untrusted"} {
		matches, _ := filepath.Glob(filepath.Join(dataDir, root, "artifacts", "*", "out.txt"))
		if len(matches) == 0 {
			t.Errorf("no artifact stored under %s", root)
		}
		for _, m := range matches {
			if st, err := os.Stat(m); err != nil || st.Mode().Perm()&0o222 != 0 {
				t.Errorf("stored artifact %s is writable: %v %v", m, st.Mode(), err)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestOlderLayoutIsMoved: an older version kept artifact stores in
// data/artifacts; they move to their run's root at start, so re-runs
// still find them.
func TestOlderLayoutIsMoved(t *testing.T) {
	h := newHarness(t, map[string]string{".stagegate.yml": "stages:\n  - { name: build, actions: [{ name: a, run: 'echo x > x.txt', artifacts: [x.txt] }] }\n"})
	sha := h.push("main", map[string]string{"a": "1"})
	if c := h.waitChecks(sha, 30*time.Second)["stagegate/build"]; c.Conclusion != "success" {
		t.Fatalf("build: %s", c.Conclusion)
	}
	h.stop()
	stores, _ := filepath.Glob(filepath.Join(h.cfg.DataDir, "trusted", "artifacts", "*"))
	if len(stores) != 1 {
		t.Fatalf("artifact stores: %q", stores)
	}
	runID := filepath.Base(stores[0])
	legacy := filepath.Join(h.cfg.DataDir, "artifacts")
	for _, d := range []string{legacy, filepath.Join(h.cfg.DataDir, "workspaces", "dead")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Rename(stores[0], filepath.Join(legacy, runID)); err != nil {
		t.Fatal(err)
	}
	h.start()
	if b, err := os.ReadFile(filepath.Join(stores[0], "x.txt")); err != nil || string(b) != "x\n" {
		t.Errorf("artifact not moved back: %q %v", b, err)
	}
	for _, gone := range []string{legacy, filepath.Join(h.cfg.DataDir, "workspaces")} {
		if _, err := os.Stat(gone); err == nil {
			t.Errorf("%s is still there", gone)
		}
	}
}

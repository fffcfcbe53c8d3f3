package engine_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stagegate/stagegate/pipeline/engine"
	"github.com/stagegate/stagegate/pipeline/runner"
)

// specRunner records the specs it is given and runs nothing.
type specRunner struct {
	mu    sync.Mutex
	specs []runner.Spec
}

func (s *specRunner) Run(_ context.Context, spec runner.Spec) (runner.Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.specs = append(s.specs, spec)
	return runner.Result{}, nil
}

// TestSpecCarriesAccessAndLimits checks what an isolating runner is told
// to show: the run's own directories, the caller's additions, and HOME.
func TestSpecCarriesAccessAndLimits(t *testing.T) {
	f := newFixture(t)
	rec := &specRunner{}
	f.engine.Runner = rec
	tmp, home := t.TempDir(), filepath.Join(t.TempDir(), "home")
	limits := runner.Limits{Pids: 64, MemoryBytes: 1 << 30, CPUWeight: 50}
	res := f.run(t.Context(), pipe(stage("s", act("a", "true"))), func(r *engine.Run) {
		r.TempDir = tmp
		r.Home = home
		r.Access = runner.Access{Writable: []string{"/cache"}, ReadOnly: []string{"/tools"}, Hidden: []string{"/data"}}
		r.Limits = limits
	})
	if res.Status != engine.StatusSuccess {
		t.Fatalf("run %s %q", res.Status, res.Reason)
	}
	if len(rec.specs) != 1 {
		t.Fatalf("got %d specs", len(rec.specs))
	}
	spec := rec.specs[0]
	for _, w := range []string{f.workspace, filepath.Join(tmp, "tmp"), filepath.Join(tmp, "out"), home, "/cache"} {
		if !slices.Contains(spec.Access.Writable, w) {
			t.Errorf("Writable %q lacks %s", spec.Access.Writable, w)
		}
	}
	for _, r := range []string{f.artifacts, "/tools"} {
		if !slices.Contains(spec.Access.ReadOnly, r) {
			t.Errorf("ReadOnly %q lacks %s", spec.Access.ReadOnly, r)
		}
	}
	if slices.Contains(spec.Access.Writable, f.artifacts) {
		t.Errorf("the artifact store %s is writable to actions", f.artifacts)
	}
	if !slices.Equal(spec.Access.Hidden, []string{"/data"}) {
		t.Errorf("Hidden = %q", spec.Access.Hidden)
	}
	if spec.Limits != limits {
		t.Errorf("Limits = %+v, want %+v", spec.Limits, limits)
	}
	if !slices.Contains(spec.Env, "HOME="+home) {
		t.Errorf("env lacks HOME=%s: %q", home, spec.Env)
	}
	if !strings.HasPrefix(spec.Dir, f.workspace) {
		t.Errorf("Dir %s outside the workspace", spec.Dir)
	}
}

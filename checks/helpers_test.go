package checks

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stagegate/stagegate/pipeline"
	"github.com/stagegate/stagegate/pipeline/engine"
	"github.com/stagegate/stagegate/pipeline/runner"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name.golden, or rewrites it.
func golden(t *testing.T, name, got string) {
	t.Helper()
	file := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file; run go test -update and review the diff.\n--- got:\n%s", file, got)
	}
}

var testSHA = strings.Repeat("ab", 20)

func testTarget() Target {
	return Target{Owner: "octo", Repo: "app", HeadSHA: testSHA, RunID: "run-1"}
}

// fakeClock moves only when told to. After fires once the clock reaches
// the deadline it was given, measured from when it was called: inside a
// synctest bubble, synctest.Wait before Advance makes that unambiguous.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []clockWaiter
}

type clockWaiter struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, clockWaiter{at: c.now.Add(d), ch: ch})
	return ch
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.waiters = slices.DeleteFunc(c.waiters, func(w clockWaiter) bool {
		if w.at.After(c.now) {
			return false
		}
		w.ch <- c.now
		return true
	})
}

// scriptRunner runs a tiny script language instead of a shell, so that
// reporter tests drive the real engine without processes: "say TEXT"
// prints a line, "exit N" ends with that code, "sleep D" waits.
type scriptRunner struct{}

func (scriptRunner) Run(ctx context.Context, s runner.Spec) (runner.Result, error) {
	for _, line := range strings.Split(s.Script, "\n") {
		verb, arg, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch verb {
		case "say":
			fmt.Fprintln(s.Stdout, arg)
		case "exit":
			n, _ := strconv.Atoi(arg)
			return runner.Result{ExitCode: n}, nil
		case "sleep":
			d, _ := time.ParseDuration(arg)
			select {
			case <-time.After(d):
			case <-ctx.Done():
				return runner.Result{ExitCode: -1, Killed: true}, nil
			}
		}
	}
	return runner.Result{}, nil
}

// stageSpec is a stage for runPipeline: its actions' scripts by name,
// and an optional if:.
type stageSpec struct {
	name    string
	cond    string
	actions [][2]string
}

func buildPipeline(specs []stageSpec) *pipeline.Pipeline {
	p := &pipeline.Pipeline{Name: "app"}
	for _, s := range specs {
		st := &pipeline.Stage{Name: s.name, If: s.cond}
		for _, a := range s.actions {
			st.Actions = append(st.Actions, &pipeline.Action{Name: a[0], Run: a[1]})
		}
		p.Stages = append(p.Stages, st)
	}
	return p
}

// runPipeline runs specs through the real engine on a push to
// feature/x, with obs watching.
func runPipeline(t *testing.T, obs engine.Observer, specs []stageSpec) engine.Result {
	t.Helper()
	p := buildPipeline(specs)
	ev := pipeline.Event{Kind: pipeline.EventPush, Branch: "feature/x", SHA: testSHA}
	e := &engine.Engine{Runner: scriptRunner{}, Observer: obs}
	return e.Run(context.Background(), engine.Run{
		ID: "run-1", Pipeline: p, Plan: pipeline.Decide(p, ev), Event: ev,
		Workspace: t.TempDir(), TempDir: t.TempDir(), LookupEnv: func(string) (string, bool) { return "", false },
	})
}

// conclusions maps each check's name to its final conclusion.
func conclusions(calls []call) map[string]string {
	out := map[string]string{}
	for _, c := range calls {
		if c.create != nil && c.create.Conclusion != nil {
			out[c.create.Name] = c.create.GetConclusion()
		}
		if c.update != nil && c.update.Conclusion != nil {
			out[c.update.Name] = c.update.GetConclusion()
		}
	}
	return out
}

func wantCalls(t *testing.T, api *fakeAPI, want ...string) {
	t.Helper()
	got := api.strings()
	if !slices.Equal(got, want) {
		t.Errorf("calls:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// planAll is the plan of a push to main, on which every stage without
// an if: runs.
func planAll(p *pipeline.Pipeline) pipeline.Plan {
	return pipeline.Decide(p, pipeline.Event{Kind: pipeline.EventPush, Branch: "main", SHA: testSHA})
}

//go:build unix

package engine_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stagegate/stagegate/pipeline"
	"github.com/stagegate/stagegate/pipeline/engine"
)

func TestFailureInAGroup(t *testing.T) {
	f := newFixture(t)
	p := pipe(stage("build",
		act("bad", "exit 3", order(1)),
		act("sibling", "sleep 0.3; touch sibling-done", order(1)),
		act("later", "touch later-ran", order(2)),
	))
	res := f.run(t.Context(), p)
	sr := stageResult(t, res, "build")
	if sr.Status != engine.StatusFailure || !strings.Contains(sr.Reason, "bad") || !strings.Contains(sr.Reason, "exit code 3") {
		t.Errorf("stage = %s %q, want failure naming bad and exit code 3", sr.Status, sr.Reason)
	}
	if a := actionResult(t, sr, "bad"); a.ExitCode != 3 || a.Status != engine.StatusFailure {
		t.Errorf("bad = %+v", a)
	}
	if a := actionResult(t, sr, "sibling"); a.Status != engine.StatusSuccess {
		t.Errorf("sibling = %s (%s); a failure must not stop its group", a.Status, a.Reason)
	}
	if _, err := os.Stat(filepath.Join(f.workspace, "sibling-done")); err != nil {
		t.Errorf("sibling did not finish: %v", err)
	}
	if a := actionResult(t, sr, "later"); a.Status != engine.StatusSkipped || !strings.Contains(a.Reason, "bad") {
		t.Errorf("later = %s %q, want skipped naming bad", a.Status, a.Reason)
	}
	if _, err := os.Stat(filepath.Join(f.workspace, "later-ran")); err == nil {
		t.Error("an action after a failed group ran")
	}
}

func TestFirstFailureStopsTheRun(t *testing.T) {
	f := newFixture(t)
	build := stage("build", act("compile", "echo compiling; exit 2"))
	build.OnFailure = []*pipeline.Action{
		act("undo", "echo rolling back; touch rolled-back"),
		act("notify", "touch notified", order(2)),
	}
	p := pipe(stage("lint", act("vet", "true")), build, stage("deploy", act("ship", "touch shipped")), stage("verify", act("check", "true")))
	res := f.run(t.Context(), p)

	if want := []engine.Status{engine.StatusSuccess, engine.StatusFailure, engine.StatusSkipped, engine.StatusSkipped}; !slices.Equal(statuses(res), want) {
		t.Fatalf("stage statuses %v, want %v", statuses(res), want)
	}
	if res.Status != engine.StatusFailure || !strings.Contains(res.Reason, "build") {
		t.Errorf("run = %s %q, want failure naming build", res.Status, res.Reason)
	}
	for _, name := range []string{"deploy", "verify"} {
		if r := stageResult(t, res, name).Reason; r != "skipped: stage build failed" {
			t.Errorf("stage %s reason %q", name, r)
		}
	}
	if _, err := os.Stat(filepath.Join(f.workspace, "shipped")); err == nil {
		t.Error("deploy ran after build failed")
	}
	sr := stageResult(t, res, "build")
	if len(sr.Rollback) != 2 || sr.Rollback[0].Status != engine.StatusSuccess || !sr.Rollback[0].Rollback || sr.Rollback[1].Status != engine.StatusSuccess {
		t.Errorf("rollback results %+v", sr.Rollback)
	}
	for _, file := range []string{"rolled-back", "notified"} {
		if _, err := os.Stat(filepath.Join(f.workspace, file)); err != nil {
			t.Errorf("on_failure did not run: %v", err)
		}
	}
	var rollbackLine bool
	for _, e := range f.rec.events {
		if l, ok := e.(engine.LogLine); ok && l.Text == "rolling back" {
			rollbackLine = l.Rollback && l.Stage == "build" && l.Action == "undo"
		}
	}
	if !rollbackLine {
		t.Error("the rollback's log line is missing or not marked Rollback")
	}
}

func TestTimeout(t *testing.T) {
	f := newFixture(t)
	p := pipe(stage("build", act("hang", "sleep 30", timeout(200*time.Millisecond))), stage("deploy", act("ship", "true")))
	start := time.Now()
	res := f.run(t.Context(), p)
	if elapsed := time.Since(start); elapsed > 20*time.Second {
		t.Errorf("the run took %s; the timeout did not kill the action", elapsed)
	}
	if want := []engine.Status{engine.StatusTimedOut, engine.StatusSkipped}; !slices.Equal(statuses(res), want) {
		t.Fatalf("stage statuses %v, want %v", statuses(res), want)
	}
	if a := res.Stages[0].Actions[0]; a.Status != engine.StatusTimedOut || !strings.Contains(a.Reason, "200ms") {
		t.Errorf("action = %s %q", a.Status, a.Reason)
	}
	if res.Status != engine.StatusTimedOut {
		t.Errorf("run status %s, want timed_out", res.Status)
	}
	if r := res.Stages[1].Reason; r != "skipped: stage build timed out" {
		t.Errorf("deploy reason %q", r)
	}
}

func TestCancellation(t *testing.T) {
	before := runtime.NumGoroutine()
	f := newFixture(t)
	build := stage("build", act("hang", "sleep 30"), act("hang2", "sleep 30"))
	build.OnFailure = []*pipeline.Action{act("undo", "touch rolled-back")}
	p := pipe(stage("prepare", act("ok", "true")), build, stage("deploy", act("ship", "true")))

	ctx, cancel := context.WithCancelCause(t.Context())
	defer cancel(nil)
	// Cancelled as soon as build's first action starts: the runner then
	// has a `sleep 30` to kill.
	f.engine.Observer = engine.ObserverFunc(func(e engine.Event) {
		f.rec.Observe(e)
		if a, ok := e.(engine.ActionStarted); ok && a.Action == "hang" {
			cancel(errors.New("superseded by run 2"))
		}
	})
	start := time.Now()
	res := f.run(ctx, p)
	if elapsed := time.Since(start); elapsed > 20*time.Second {
		t.Errorf("the run took %s after being cancelled: the sleeps were not killed", elapsed)
	}
	if want := []engine.Status{engine.StatusSuccess, engine.StatusCancelled, engine.StatusCancelled}; !slices.Equal(statuses(res), want) {
		t.Fatalf("stage statuses %v, want %v", statuses(res), want)
	}
	if res.Status != engine.StatusCancelled || !strings.Contains(res.Reason, "superseded by run 2") {
		t.Errorf("run = %s %q", res.Status, res.Reason)
	}
	if n := len(res.Stages[1].Actions); n != 2 {
		t.Errorf("%d action results for build, want 2", n)
	}
	for _, a := range res.Stages[1].Actions {
		if a.Status != engine.StatusCancelled {
			t.Errorf("action %s = %s, want cancelled", a.Name, a.Status)
		}
	}
	if r := res.Stages[2].Reason; r != "cancelled: stage build was cancelled" {
		t.Errorf("deploy reason %q", r)
	}
	if len(res.Stages[1].Rollback) != 0 {
		t.Error("on_failure ran on a cancellation")
	}
	if _, err := os.Stat(filepath.Join(f.workspace, "rolled-back")); err == nil {
		t.Error("on_failure ran on a cancellation")
	}
	// Nothing the run started may be left behind.
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after the run, %d before", n, before)
	}
}

func TestCancelledBeforeStart(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	res := f.run(ctx, pipe(stage("build", act("a", "touch ran")), stage("deploy", act("b", "true"))))
	if want := []engine.Status{engine.StatusCancelled, engine.StatusCancelled}; !slices.Equal(statuses(res), want) {
		t.Errorf("stage statuses %v, want %v", statuses(res), want)
	}
	if _, err := os.Stat(filepath.Join(f.workspace, "ran")); err == nil {
		t.Error("an action ran in a cancelled run")
	}
}

func TestRetries(t *testing.T) {
	// The action fails until it has been tried `passOn` times, counting
	// attempts in a file of the workspace.
	const script = `n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count
echo "attempt $STAGEGATE_ATTEMPT"
[ "$n" -ge "$PASS_ON" ]`
	tests := []struct {
		name     string
		retries  int
		passOn   string
		status   engine.Status
		attempts int
	}{
		{"passes on the second attempt", 1, "2", engine.StatusSuccess, 2},
		{"no retries", 0, "2", engine.StatusFailure, 1},
		{"retries run out", 2, "9", engine.StatusFailure, 3},
		{"first attempt passes", 3, "1", engine.StatusSuccess, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			p := pipe(stage("test", act("flaky", script, retries(tt.retries), actEnv("PASS_ON", tt.passOn))))
			res := f.run(t.Context(), p)
			a := res.Stages[0].Actions[0]
			if a.Status != tt.status || a.Attempts != tt.attempts {
				t.Errorf("action = %s after %d attempts, want %s after %d", a.Status, a.Attempts, tt.status, tt.attempts)
			}
			var started, retryLines int
			for _, e := range f.rec.events {
				switch e := e.(type) {
				case engine.ActionStarted:
					started++
					if e.Attempt != started {
						t.Errorf("ActionStarted attempt %d, want %d", e.Attempt, started)
					}
				case engine.LogLine:
					if e.Stream == engine.System && strings.Contains(e.Text, "trying again") {
						retryLines++
					}
				}
			}
			if started != tt.attempts || retryLines != tt.attempts-1 {
				t.Errorf("%d ActionStarted and %d retry lines for %d attempts", started, retryLines, tt.attempts)
			}
			lines := f.rec.lines("test", "flaky", engine.Stdout)
			if len(lines) != tt.attempts || lines[len(lines)-1] != "attempt "+string(rune('0'+tt.attempts)) {
				t.Errorf("stdout %q", lines)
			}
		})
	}
}

func TestTimedOutAttemptIsRetried(t *testing.T) {
	f := newFixture(t)
	script := `if [ "$STAGEGATE_ATTEMPT" = 1 ]; then sleep 30; fi`
	res := f.run(t.Context(), pipe(stage("s", act("a", script, retries(1), timeout(200*time.Millisecond)))))
	if a := res.Stages[0].Actions[0]; a.Status != engine.StatusSuccess || a.Attempts != 2 {
		t.Errorf("action = %s after %d attempts", a.Status, a.Attempts)
	}
}

//go:build unix

package engine_test

import (
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/stagegate/stagegate/pipeline"
	"github.com/stagegate/stagegate/pipeline/engine"
)

// checkSequence verifies the rules an observer may rely on, and returns
// the stage order in which StageFinished arrived.
func checkSequence(t *testing.T, events []engine.Event, res engine.Result) []string {
	t.Helper()
	if len(events) < 2 {
		t.Fatalf("%d events", len(events))
	}
	if _, ok := events[0].(engine.RunStarted); !ok {
		t.Errorf("first event %T, want RunStarted", events[0])
	}
	if last, ok := events[len(events)-1].(engine.RunFinished); !ok {
		t.Errorf("last event %T, want RunFinished", events[len(events)-1])
	} else if !reflect.DeepEqual(last.Result, res) {
		t.Errorf("RunFinished carries %+v, Run returned %+v", last.Result, res)
	}
	type attemptKey struct {
		stage, action string
		attempt       int
		rollback      bool
	}
	open := map[attemptKey]bool{}
	finished := map[attemptKey]bool{}
	current := "" // the stage between StageStarted and StageFinished
	var stages []string
	for i, e := range events {
		where := fmt.Sprintf("event %d (%T)", i, e)
		switch e := e.(type) {
		case engine.RunStarted:
			if i != 0 {
				t.Errorf("%s: RunStarted again", where)
			}
		case engine.RunFinished:
			if i != len(events)-1 {
				t.Errorf("%s: RunFinished before the end", where)
			}
		case engine.StageStarted:
			if current != "" {
				t.Errorf("%s: stage %s started while %s runs", where, e.Stage, current)
			}
			current = e.Stage
		case engine.StageFinished:
			if current != "" && current != e.Result.Name {
				t.Errorf("%s: stage %s finished while %s runs", where, e.Result.Name, current)
			}
			current = ""
			stages = append(stages, e.Result.Name)
		case engine.ActionStarted:
			k := attemptKey{e.Stage, e.Action, e.Attempt, e.Rollback}
			if e.Stage != current {
				t.Errorf("%s: action of stage %s outside it", where, e.Stage)
			}
			if open[k] || finished[k] {
				t.Errorf("%s: attempt %+v started twice", where, k)
			}
			if e.Attempt > 1 && !finished[attemptKey{e.Stage, e.Action, e.Attempt - 1, e.Rollback}] {
				t.Errorf("%s: attempt %d before attempt %d finished", where, e.Attempt, e.Attempt-1)
			}
			open[k] = true
		case engine.LogLine:
			k := attemptKey{e.Stage, e.Action, e.Attempt, e.Rollback}
			if !open[k] && !(e.Stream == engine.System && finished[k]) {
				t.Errorf("%s: log line %q of attempt %+v outside it", where, e.Text, k)
			}
		case engine.ActionFinished:
			k := attemptKey{e.Stage, e.Action, e.Attempt, e.Rollback}
			if !open[k] {
				t.Errorf("%s: attempt %+v finished without starting", where, k)
			}
			if e.Result.Attempts != e.Attempt || e.Result.Name != e.Action {
				t.Errorf("%s: result %+v does not match the event", where, e.Result)
			}
			delete(open, k)
			finished[k] = true
		}
	}
	if len(open) > 0 {
		t.Errorf("attempts never finished: %v", open)
	}
	return stages
}

func TestObserverSeesAConsistentSequence(t *testing.T) {
	f := newFixture(t)
	build := stage("build",
		act("a", "echo a1; echo a2 >&2", order(1)),
		act("b", `echo b; [ "$STAGEGATE_ATTEMPT" = 2 ]`, order(1), retries(1)),
		act("c", "echo c", order(2)),
	)
	deploy := stage("deploy", act("fail", "echo failing; exit 1"))
	deploy.OnFailure = []*pipeline.Action{act("fail", "echo undo")}
	p := pipe(build, stage("skipped", act("x", "true")), deploy, stage("never", act("y", "true")))
	plan := planAll(p)
	plan.Stages[1].Run, plan.Stages[1].Reason = false, "skipped: by plan"
	res := f.run(t.Context(), p, func(r *engine.Run) { r.Plan = plan })

	stages := checkSequence(t, f.rec.events, res)
	if want := []string{"build", "skipped", "deploy", "never"}; !reflect.DeepEqual(stages, want) {
		t.Errorf("StageFinished for %v, want %v", stages, want)
	}
	var count = map[string]int{}
	for _, e := range f.rec.events {
		count[fmt.Sprintf("%T", e)]++
	}
	want := map[string]int{
		"engine.RunStarted": 1, "engine.RunFinished": 1,
		"engine.StageStarted": 2, "engine.StageFinished": 4,
		// a, b twice, c, fail, and its rollback namesake
		"engine.ActionStarted": 6, "engine.ActionFinished": 6,
		// a1 a2 b b c failing undo, and the retry notice
		"engine.LogLine": 8,
	}
	if !reflect.DeepEqual(count, want) {
		t.Errorf("event counts %v, want %v", count, want)
	}
	if res.Status != engine.StatusFailure || res.Stages[2].Rollback[0].Status != engine.StatusSuccess {
		t.Errorf("run %s %q", res.Status, res.Reason)
	}
}

func TestNilObserver(t *testing.T) {
	f := newFixture(t)
	f.engine.Observer = nil
	if res := f.run(t.Context(), pipe(stage("s", act("a", "echo hi")))); res.Status != engine.StatusSuccess {
		t.Errorf("run %s %q", res.Status, res.Reason)
	}
}

// One Engine running two runs at once must still call a shared observer
// one event at a time; the race detector checks the recorder's slice.
func TestObserverSerializedAcrossRuns(t *testing.T) {
	f := newFixture(t)
	f.concurrent = true // f.run must not read the recorder while the other run emits
	p := pipe(stage("s", act("a", "echo 1; echo 2; echo 3"), act("b", "echo 4; echo 5")))
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			if res := f.run(t.Context(), p, func(r *engine.Run) { r.Workspace = t.TempDir() }); res.Status != engine.StatusSuccess {
				t.Errorf("run %s %q", res.Status, res.Reason)
			}
		})
	}
	wg.Wait()
	f.logLines()
	if n := len(f.rec.lines("s", "a", engine.Stdout)); n != 6 {
		t.Errorf("%d lines of action a, want 6", n)
	}
}

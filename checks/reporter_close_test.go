package checks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rs/zerolog"

	"github.com/stagegate/stagegate/pipeline/engine"
)

// annotatedRun observes a one-stage run whose action writes n distinct
// ::error commands.
func annotatedRun(r *Reporter, n int) {
	p := buildPipeline([]stageSpec{{name: "lint", actions: [][2]string{{"vet", ""}}}})
	r.Observe(engine.RunStarted{RunID: "run-1", Pipeline: p, Plan: planAll(p)})
	r.Observe(engine.StageStarted{Stage: "lint"})
	r.Observe(engine.ActionStarted{Stage: "lint", Action: "vet", Attempt: 1})
	for i := 1; i <= n; i++ {
		r.Observe(engine.LogLine{Stage: "lint", Action: "vet", Attempt: 1, Text: fmt.Sprintf("::error file=a.go,line=%d::problem %d", i, i)})
	}
	res := engine.ActionResult{Name: "vet", Status: engine.StatusFailure, ExitCode: 1, Attempts: 1}
	r.Observe(engine.ActionFinished{Stage: "lint", Action: "vet", Attempt: 1, Result: res})
	r.Observe(engine.StageFinished{Result: engine.StageResult{Name: "lint", Status: engine.StatusFailure, Reason: "action vet: exit code 1", Actions: []engine.ActionResult{res}}})
	r.Observe(engine.RunFinished{Result: engine.Result{RunID: "run-1", Status: engine.StatusFailure}})
}

func TestReporterAnnotationBatches(t *testing.T) {
	for _, tc := range []struct {
		found int
		want  []string
		sent  int
	}{
		{found: 50, want: []string{"update stagegate/lint completed failure +50"}, sent: 50},
		{found: 120, want: []string{
			"update stagegate/lint completed failure +50",
			"update stagegate/lint output +50",
			"update stagegate/lint output +20",
		}, sent: 120},
		{found: 250, want: []string{
			"update stagegate/lint completed failure +50",
			"update stagegate/lint output +50",
			"update stagegate/lint output +50",
			"update stagegate/lint output +50",
		}, sent: maxAnnotations},
	} {
		t.Run(fmt.Sprint(tc.found), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				api := newFakeAPI(t)
				r := NewReporter(api, testTarget(), Options{Clock: newFakeClock(), Files: NewFileIndex([]string{"a.go"}).Has})
				r.Start(t.Context())
				annotatedRun(r, tc.found)
				if err := r.Close(t.Context()); err != nil {
					t.Fatal(err)
				}
				want := append([]string{"create stagegate in_progress ext=run-1", "create stagegate/lint in_progress ext=run-1/lint"}, tc.want...)
				wantCalls(t, api, append(want, "update stagegate completed failure")...)
				if got := api.check("stagegate/lint").annotations; got != tc.sent {
					t.Errorf("GitHub holds %d annotations, want %d", got, tc.sent)
				}
				calls := api.recorded()
				final := calls[2].update.Output
				for _, c := range calls[3 : len(calls)-1] {
					o := c.update.Output
					if o.GetTitle() != final.GetTitle() || o.GetSummary() != final.GetSummary() || o.GetText() != final.GetText() {
						t.Errorf("an annotation batch changes the output")
					}
				}
				if over := tc.found - maxAnnotations; over > 0 && !strings.Contains(final.GetSummary(), fmt.Sprintf("%d more", over)) {
					t.Errorf("summary does not tell of the %d annotations past the cap:\n%s", over, final.GetSummary())
				}
			})
		})
	}
}

// TestReporterCloseFlushes observes a whole run while GitHub holds every
// request: Observe must not wait, and Close must still write the final
// state of every check.
func TestReporterCloseFlushes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI(t)
		api.hold = make(chan struct{})
		r := NewReporter(api, testTarget(), Options{Clock: newFakeClock()})
		r.Start(t.Context())
		annotatedRun(r, 3)
		synctest.Wait() // every goroutine is blocked: Observe returned
		if n := len(api.recorded()); n != 0 {
			t.Fatalf("%d calls went through a held API", n)
		}
		close(api.hold)
		if err := r.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
		wantCalls(t, api,
			"create stagegate in_progress ext=run-1",
			"create stagegate/lint in_progress ext=run-1/lint",
			"update stagegate/lint completed failure +3",
			"update stagegate completed failure",
		)
	})
}

func TestReporterCloseDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI(t)
		api.hold = make(chan struct{}) // never released
		r := NewReporter(api, testTarget(), Options{Clock: newFakeClock()})
		r.Start(t.Context())
		annotatedRun(r, 1)
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		start := time.Now()
		err := r.Close(ctx)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Close = %v, want a deadline error", err)
		}
		if d := time.Since(start); d != 5*time.Second {
			t.Errorf("Close returned after %s, want 5s", d)
		}
		// synctest.Test fails if the Reporter's goroutine outlives the
		// test: Close must have stopped it.
	})
}

func TestReporterConcludesUnfinishedRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI(t)
		r := NewReporter(api, testTarget(), Options{Clock: newFakeClock()})
		r.Start(t.Context())
		p := buildPipeline([]stageSpec{{name: "build"}, {name: "test"}})
		r.Observe(engine.RunStarted{RunID: "run-1", Pipeline: p, Plan: planAll(p)})
		r.Observe(engine.StageStarted{Stage: "build"})
		if err := r.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
		wantCalls(t, api,
			"create stagegate in_progress ext=run-1",
			"create stagegate/build in_progress ext=run-1/build",
			"update stagegate/build completed cancelled",
			"create stagegate/test completed cancelled ext=run-1/test",
			"update stagegate completed cancelled",
		)
		r.Observe(engine.StageStarted{Stage: "test"}) // after Close: ignored
		if err := r.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
		if n := len(api.recorded()); n != 5 {
			t.Errorf("%d calls after a second Close", n)
		}
	})
}

// TestReporterStagesOfAFailedStart covers a run the engine ends before
// any stage (no workspace): each stage still gets a completed check.
func TestReporterStagesOfAFailedStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI(t)
		r := NewReporter(api, testTarget(), Options{Clock: newFakeClock()})
		r.Start(t.Context())
		p := buildPipeline([]stageSpec{{name: "build", actions: [][2]string{{"a", "say x"}}}})
		e := &engine.Engine{Runner: scriptRunner{}, Observer: r}
		e.Run(context.Background(), engine.Run{ID: "run-1", Pipeline: p, Plan: planAll(p), Workspace: "/does/not/exist"})
		if err := r.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
		wantCalls(t, api,
			"create stagegate in_progress ext=run-1",
			"create stagegate/build completed skipped ext=run-1/build",
			"update stagegate completed failure",
		)
		if got := api.recorded()[1].create.Output.GetSummary(); !strings.Contains(got, "could not start") {
			t.Errorf("summary of the skipped stage:\n%s", got)
		}
	})
}

func TestReporterFailedCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI(t)
		var logs bytes.Buffer
		log := zerolog.New(&logs)
		api.fail = func(n int, c call) error {
			switch {
			case c.create != nil && c.create.Name == "stagegate/build":
				return errors.New("502 bad gateway")
			case c.update != nil && c.update.Name == "stagegate" && c.update.Status != nil:
				return errors.New("422 unprocessable")
			}
			return nil
		}
		r := NewReporter(api, testTarget(), Options{Clock: newFakeClock(), Logger: &log})
		r.Start(t.Context())
		runPipeline(t, r, []stageSpec{{name: "build", actions: [][2]string{{"a", "say ok"}}}})
		err := r.Close(t.Context())
		if err == nil || !strings.Contains(err.Error(), "422") || !strings.Contains(err.Error(), "stagegate") {
			t.Errorf("Close = %v, want the failed completion of stagegate", err)
		}
		// The stage's create failed: its completion creates it
		// completed instead, so that it does not hang.
		wantCalls(t, api,
			"create stagegate in_progress ext=run-1",
			"create stagegate/build in_progress ext=run-1/build",
			"create stagegate/build completed success ext=run-1/build",
			"update stagegate completed success",
		)
		for _, want := range []string{`"run":"run-1"`, `"stage":"build"`, `"check_run":101`, `"error":"502 bad gateway"`} {
			if !strings.Contains(logs.String(), want) {
				t.Errorf("logs lack %s:\n%s", want, logs.String())
			}
		}
	})
}

func TestReporterNotStarted(t *testing.T) {
	r := NewReporter(newFakeAPI(t), testTarget(), Options{})
	r.Observe(engine.RunStarted{RunID: "run-1"})
	if err := r.Close(context.Background()); !errors.Is(err, errNotStarted) {
		t.Errorf("Close without Start = %v", err)
	}
}

func TestExternalID(t *testing.T) {
	for _, tc := range []struct{ run, stage string }{{"run-1", ""}, {"run-1", "build"}, {"a/b", "deploy"}} {
		run, stage := ParseExternalID(ExternalID(tc.run, tc.stage))
		if run != tc.run || stage != tc.stage {
			t.Errorf("ParseExternalID(ExternalID(%q, %q)) = %q, %q", tc.run, tc.stage, run, stage)
		}
	}
	if got := CheckName("build"); got != "stagegate/build" {
		t.Errorf("CheckName = %q", got)
	}
}

func TestConclusions(t *testing.T) {
	for _, tc := range []struct {
		status     engine.Status
		stage, run string
	}{
		{engine.StatusSuccess, "success", "success"},
		{engine.StatusFailure, "failure", "failure"},
		{engine.StatusCancelled, "cancelled", "cancelled"},
		{engine.StatusTimedOut, "timed_out", "timed_out"},
		{engine.StatusSkipped, "skipped", "neutral"},
		{"bogus", "failure", "failure"},
	} {
		if got := StageConclusion(tc.status); got != tc.stage {
			t.Errorf("StageConclusion(%s) = %s, want %s", tc.status, got, tc.stage)
		}
		if got := RunConclusion(tc.status); got != tc.run {
			t.Errorf("RunConclusion(%s) = %s, want %s", tc.status, got, tc.run)
		}
	}
}

package checks

import (
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stagegate/stagegate/pipeline/engine"
)

func TestReporterSequence(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI(t)
		var ids []string
		r := NewReporter(api, testTarget(), Options{
			Clock:      newFakeClock(),
			Files:      NewFileIndex([]string{"main.go"}).Has,
			DetailsURL: func(stage string) string { return "https://ci.example.com/runs/run-1#" + stage },
			OnCheckRun: func(stage string, id int64) { ids = append(ids, fmt.Sprintf("%s=%d", stage, id)) },
		})
		r.Start(t.Context())
		res := runPipeline(t, r, []stageSpec{
			{name: "build", actions: [][2]string{{"compile", "say compiling"}}},
			{name: "test", actions: [][2]string{{"unit", "say ./main.go:3:2: undefined: x\nexit 1"}}},
			{name: "deploy", actions: [][2]string{{"ship", "say shipping"}}},
		})
		if res.Status != engine.StatusFailure {
			t.Fatalf("run ended %s, want failure", res.Status)
		}
		if err := r.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
		wantCalls(t, api,
			"create stagegate in_progress ext=run-1",
			"create stagegate/build in_progress ext=run-1/build",
			"update stagegate/build completed success",
			"create stagegate/test in_progress ext=run-1/test",
			"update stagegate/test completed failure +1",
			"create stagegate/deploy completed skipped ext=run-1/deploy",
			"update stagegate completed failure",
		)
		calls := api.recorded()
		if got := calls[0].create.GetDetailsURL(); got != "https://ci.example.com/runs/run-1#" {
			t.Errorf("summary details_url = %q", got)
		}
		if got := calls[5].create.Output.GetSummary(); !strings.Contains(got, "skipped: stage test failed") {
			t.Errorf("skipped stage's summary does not say why:\n%s", got)
		}
		if got := calls[4].update.Output.GetTitle(); got != "test: unit failed (exit 1)" {
			t.Errorf("failed stage title = %q", got)
		}
		a := calls[4].update.Output.Annotations[0]
		if a.GetPath() != "main.go" || a.GetStartLine() != 3 || a.GetStartColumn() != 2 || a.GetAnnotationLevel() != "failure" {
			t.Errorf("annotation = %v", a)
		}
		if got := calls[6].update.Output.GetTitle(); got != "3 stages: 1 succeeded, 1 failed, 1 skipped" {
			t.Errorf("summary title = %q", got)
		}
		if want := "=101,build=102,test=103,deploy=104"; strings.Join(ids, ",") != want {
			t.Errorf("OnCheckRun got %s, want %s", strings.Join(ids, ","), want)
		}
	})
}

// TestReporterBudget holds the reporter to 2N+3 calls for N stages (the
// app spends one reading the config): 2 per stage that runs, 1 per stage
// that does not, 2 for the summary.
func TestReporterBudget(t *testing.T) {
	ok := [][2]string{{"a", "say ok"}}
	bad := [][2]string{{"a", "say no\nexit 2"}}
	ten := []stageSpec{
		{name: "s0", actions: ok},
		{name: "s1", cond: `branch == "main"`, actions: ok},
		{name: "s2", actions: ok},
		{name: "s3", actions: ok},
		{name: "s4", actions: bad},
	}
	for i := 5; i < 10; i++ {
		ten = append(ten, stageSpec{name: fmt.Sprintf("s%d", i), actions: ok})
	}
	for _, tc := range []struct {
		name   string
		stages []stageSpec
		ran    int
		want   map[string]string
	}{
		{"1 stage", []stageSpec{{name: "build", actions: ok}}, 1,
			map[string]string{"stagegate": "success", "stagegate/build": "success"}},
		{"3 stages, one skipped by if", []stageSpec{
			{name: "build", actions: ok},
			{name: "deploy", cond: `branch == "main"`, actions: ok},
			{name: "notify", actions: ok},
		}, 2, map[string]string{"stagegate": "success", "stagegate/build": "success", "stagegate/deploy": "skipped", "stagegate/notify": "success"}},
		{"10 stages, skipped and failed", ten, 4, map[string]string{
			"stagegate": "failure", "stagegate/s0": "success", "stagegate/s1": "skipped", "stagegate/s2": "success",
			"stagegate/s3": "success", "stagegate/s4": "failure", "stagegate/s5": "skipped", "stagegate/s6": "skipped",
			"stagegate/s7": "skipped", "stagegate/s8": "skipped", "stagegate/s9": "skipped",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				api := newFakeAPI(t)
				r := NewReporter(api, testTarget(), Options{Clock: newFakeClock()})
				r.Start(t.Context())
				runPipeline(t, r, tc.stages)
				if err := r.Close(t.Context()); err != nil {
					t.Fatal(err)
				}
				calls := api.recorded()
				n := len(tc.stages)
				if len(calls) > 2*n+3-1 {
					t.Errorf("%d calls for %d stages; the budget leaves %d", len(calls), n, 2*n+2)
				}
				if want := 2 + 2*tc.ran + (n - tc.ran); len(calls) != want {
					t.Errorf("%d calls, want %d:\n%s", len(calls), want, strings.Join(api.strings(), "\n"))
				}
				got := conclusions(calls)
				for name, want := range tc.want {
					if got[name] != want {
						t.Errorf("%s concluded %q, want %q", name, got[name], want)
					}
				}
				if len(got) != len(tc.want) {
					t.Errorf("concluded %v, want %v", got, tc.want)
				}
			})
		})
	}
}

// TestReporterThrottle follows progress updates on a fake clock: one per
// check per Throttle at most, and none when the completing write is due.
func TestReporterThrottle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI(t)
		clk := newFakeClock()
		r := NewReporter(api, testTarget(), Options{Clock: clk})
		r.Start(t.Context())
		step := func(events ...engine.Event) {
			for _, e := range events {
				r.Observe(e)
			}
			synctest.Wait()
		}
		log := func(text string) engine.Event {
			return engine.LogLine{Stage: "build", Action: "compile", Attempt: 1, Stream: engine.Stdout, Text: text}
		}
		p := buildPipeline([]stageSpec{{name: "build", actions: [][2]string{{"compile", ""}}}, {name: "test", actions: [][2]string{{"unit", ""}}}})
		step(engine.RunStarted{RunID: "run-1", Pipeline: p, Plan: planAll(p)})
		step(engine.StageStarted{Stage: "build"})
		step(engine.ActionStarted{Stage: "build", Action: "compile", Attempt: 1}, log("one"), log("two"))
		wantCalls(t, api, "create stagegate in_progress ext=run-1", "create stagegate/build in_progress ext=run-1/build")

		clk.Advance(DefaultThrottle - 1)
		synctest.Wait()
		if n := len(api.recorded()); n != 2 {
			t.Fatalf("%d calls before the throttle elapsed:\n%s", n, strings.Join(api.strings(), "\n"))
		}
		clk.Advance(1)
		synctest.Wait()
		calls := api.recorded()
		if len(calls) != 4 {
			t.Fatalf("calls after the throttle:\n%s", strings.Join(api.strings(), "\n"))
		}
		if got := calls[3].update.Output.GetText(); !strings.Contains(got, "one\ntwo\n") {
			t.Errorf("progress text lacks the log:\n%s", got)
		}
		if got := calls[3].update.Output.GetTitle(); got != "build: running (0 of 1 action done)" {
			t.Errorf("progress title = %q", got)
		}

		step(log("three"))
		clk.Advance(DefaultThrottle / 2)
		synctest.Wait()
		// The stage ends before its next update is due: that update
		// is dropped, the completing one carries the log.
		step(engine.StageFinished{Result: engine.StageResult{Name: "build", Status: engine.StatusSuccess}})
		step(engine.StageStarted{Stage: "test"})
		clk.Advance(DefaultThrottle / 2)
		synctest.Wait()
		step(engine.StageFinished{Result: engine.StageResult{Name: "test", Status: engine.StatusSuccess}},
			engine.RunFinished{Result: engine.Result{RunID: "run-1", Status: engine.StatusSuccess}})
		clk.Advance(10 * DefaultThrottle)
		synctest.Wait()
		if err := r.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
		wantCalls(t, api,
			"create stagegate in_progress ext=run-1",
			"create stagegate/build in_progress ext=run-1/build",
			"update stagegate output",
			"update stagegate/build output",
			"update stagegate/build completed success",
			"create stagegate/test in_progress ext=run-1/test",
			"update stagegate output",
			"update stagegate/test completed success",
			"update stagegate completed success",
		)
		if got := api.recorded()[4].update.Output.GetText(); !strings.Contains(got, "one\ntwo\nthree\n") {
			t.Errorf("completing text lacks the log:\n%s", got)
		}
	})
}

func TestReporterThrottleOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI(t)
		clk := newFakeClock()
		r := NewReporter(api, testTarget(), Options{Clock: clk, Throttle: -1})
		r.Start(t.Context())
		p := buildPipeline([]stageSpec{{name: "build", actions: [][2]string{{"compile", ""}}}})
		for _, e := range []engine.Event{
			engine.RunStarted{RunID: "run-1", Pipeline: p, Plan: planAll(p)},
			engine.StageStarted{Stage: "build"},
			engine.LogLine{Stage: "build", Action: "compile", Attempt: 1, Text: "x"},
		} {
			r.Observe(e)
			synctest.Wait()
		}
		clk.Advance(time.Hour)
		synctest.Wait()
		if n := len(api.recorded()); n != 2 {
			t.Errorf("%d calls with progress off:\n%s", n, strings.Join(api.strings(), "\n"))
		}
		if err := r.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
	})
}

// TestReporterProgressAnnotations sends annotations found while a stage
// runs with its progress update; the completing update sends only the
// rest, since GitHub appends them.
func TestReporterProgressAnnotations(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI(t)
		clk := newFakeClock()
		r := NewReporter(api, testTarget(), Options{Clock: clk})
		r.Start(t.Context())
		p := buildPipeline([]stageSpec{{name: "lint", actions: [][2]string{{"vet", ""}}}, {name: "old", actions: [][2]string{{"x", ""}}}})
		r.Observe(engine.RunStarted{RunID: "run-1", Pipeline: p, Plan: planAll(p)})
		synctest.Wait()
		r.Observe(engine.StageStarted{Stage: "lint"})
		synctest.Wait()
		for i := 1; i <= 60; i++ {
			r.Observe(engine.LogLine{Stage: "lint", Action: "vet", Attempt: 1, Text: fmt.Sprintf("::warning file=a.go,line=%d::w", i)})
		}
		clk.Advance(DefaultThrottle)
		synctest.Wait()
		r.Observe(engine.StageFinished{Result: engine.StageResult{Name: "lint", Status: engine.StatusSuccess}})
		// A stage reused from an earlier run ends without starting.
		r.Observe(engine.StageFinished{Result: engine.StageResult{Name: "old", Status: engine.StatusSuccess}})
		r.Observe(engine.RunFinished{Result: engine.Result{Status: engine.StatusSuccess}})
		if err := r.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
		wantCalls(t, api,
			"create stagegate in_progress ext=run-1",
			"create stagegate/lint in_progress ext=run-1/lint",
			"update stagegate output",
			"update stagegate/lint output +50",
			"update stagegate/lint completed success +10",
			"create stagegate/old completed success ext=run-1/old",
			"update stagegate completed success",
		)
		if got := api.check("stagegate/lint").annotations; got != 60 {
			t.Errorf("GitHub holds %d annotations, want 60", got)
		}
	})
}

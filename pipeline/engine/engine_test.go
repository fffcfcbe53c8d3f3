//go:build unix

package engine_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stagegate/stagegate/pipeline"
	"github.com/stagegate/stagegate/pipeline/engine"
	"github.com/stagegate/stagegate/pipeline/runner"
)

func TestActionsOfAGroupRunInParallel(t *testing.T) {
	f := newFixture(t)
	p := pipe(stage("build", act("a", "sleep 1"), act("b", "sleep 1")))
	start := time.Now()
	res := f.run(t.Context(), p)
	elapsed := time.Since(start)
	if res.Status != engine.StatusSuccess {
		t.Fatalf("status %s (%s), want success", res.Status, res.Reason)
	}
	if elapsed >= 1600*time.Millisecond {
		t.Errorf("two 1s actions took %s; they did not run in parallel", elapsed)
	}
	sr := res.Stages[0]
	for _, a := range sr.Actions {
		if a.Duration < time.Second || a.Duration > elapsed || a.Started.Before(sr.Started) {
			t.Errorf("action %s started %s and took %s, in a stage started %s", a.Name, a.Started, a.Duration, sr.Started)
		}
	}
	if sr.Duration < time.Second || res.Duration < sr.Duration {
		t.Errorf("stage took %s, run %s", sr.Duration, res.Duration)
	}
}

func TestRunOrderGroupsRunInSequence(t *testing.T) {
	f := newFixture(t)
	// slow finishes only once fast, of the same group, has run: so the
	// group's actions run at once (in sequence, slow would run first,
	// as declared, and give up), and order 2 waits for both.
	const waitForFast = `i=0; while [ ! -e fast.done ]; do i=$((i+1)); [ $i -le 200 ] || exit 1; sleep 0.1; done; `
	p := pipe(stage("build",
		act("slow", waitForFast+"echo slow >> order.txt", order(1)),
		act("after", "echo after >> order.txt", order(2)),
		act("fast", "echo fast >> order.txt; touch fast.done", order(1)),
		act("last", "echo last >> order.txt", order(5)),
	))
	res := f.run(t.Context(), p)
	if res.Status != engine.StatusSuccess {
		t.Fatalf("status %s (%s), want success", res.Status, res.Reason)
	}
	got, err := os.ReadFile(filepath.Join(f.workspace, "order.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "fast\nslow\nafter\nlast\n"; string(got) != want {
		t.Errorf("order.txt = %q, want %q", got, want)
	}
	// Results are in declaration order whatever the run order.
	var names []string
	for _, a := range res.Stages[0].Actions {
		names = append(names, a.Name)
	}
	if want := []string{"slow", "after", "fast", "last"}; !slices.Equal(names, want) {
		t.Errorf("action results %v, want %v", names, want)
	}
}

func TestNotTriggered(t *testing.T) {
	f := newFixture(t)
	p := pipe(stage("build", act("a", "touch ran")), stage("deploy", act("b", "touch ran")))
	plan := pipeline.Plan{Reason: "no run: branch x is not in on.push.branches"}
	for _, s := range p.Stages {
		plan.Stages = append(plan.Stages, pipeline.StagePlan{Stage: s, Reason: "not triggered: branch x"})
	}
	res := f.run(t.Context(), p, func(r *engine.Run) { r.Plan = plan })
	if res.Status != engine.StatusSkipped || res.Reason != plan.Reason {
		t.Errorf("run = %s %q", res.Status, res.Reason)
	}
	if len(res.Stages) != len(p.Stages) {
		t.Fatalf("%d stage results, want %d", len(res.Stages), len(p.Stages))
	}
	for _, s := range res.Stages {
		if s.Status != engine.StatusSkipped || s.Reason != "not triggered: branch x" {
			t.Errorf("stage %s = %s %q", s.Name, s.Status, s.Reason)
		}
	}
	if _, err := os.Stat(filepath.Join(f.workspace, "ran")); err == nil {
		t.Error("an action ran without a trigger")
	}
}

func TestStageSkippedByPlan(t *testing.T) {
	f := newFixture(t)
	p := pipe(stage("build", act("a", "true")), stage("deploy", act("b", "touch ran")), stage("after", act("c", "true")))
	plan := planAll(p)
	plan.Stages[1] = pipeline.StagePlan{Stage: p.Stages[1], Reason: "skipped: if `branch == \"prod\"` was false"}
	res := f.run(t.Context(), p, func(r *engine.Run) { r.Plan = plan })
	if want := []engine.Status{engine.StatusSuccess, engine.StatusSkipped, engine.StatusSuccess}; !slices.Equal(statuses(res), want) {
		t.Errorf("stage statuses %v, want %v", statuses(res), want)
	}
	if res.Status != engine.StatusSuccess || res.Stages[1].Reason != plan.Stages[1].Reason {
		t.Errorf("run %s, skipped stage's reason %q", res.Status, res.Stages[1].Reason)
	}
}

// A condition that could not be evaluated fails its stage, and so the
// run, rather than skipping the stage as if it were false.
func TestStageFailedByPlan(t *testing.T) {
	f := newFixture(t)
	p := pipe(stage("build", act("a", "true")), stage("deploy", act("b", "touch ran")), stage("after", act("c", "true")))
	plan := planAll(p)
	plan.Stages[1] = pipeline.StagePlan{Stage: p.Stages[1], Failed: true, Reason: "failed: if `x` could not be evaluated: budget"}
	res := f.run(t.Context(), p, func(r *engine.Run) { r.Plan = plan })
	if want := []engine.Status{engine.StatusSuccess, engine.StatusFailure, engine.StatusSkipped}; !slices.Equal(statuses(res), want) {
		t.Errorf("stage statuses %v, want %v", statuses(res), want)
	}
	if res.Status != engine.StatusFailure || res.Stages[1].Reason != plan.Stages[1].Reason {
		t.Errorf("run %s, failed stage's reason %q", res.Status, res.Stages[1].Reason)
	}
}

func TestPreviousResultsAreReused(t *testing.T) {
	f := newFixture(t)
	p := pipe(
		stage("build", act("compile", "touch built")),
		stage("deploy", act("ship", `echo "version=$STAGEGATE_OUTPUT_BUILD_VERSION"`)),
	)
	prev := engine.StageResult{Name: "build", Status: engine.StatusSuccess, Reason: "", Outputs: map[string]string{"version": "9.9"},
		Actions: []engine.ActionResult{{Name: "compile", Status: engine.StatusSuccess, Attempts: 1}}}
	res := f.run(t.Context(), p, func(r *engine.Run) { r.Previous = []engine.StageResult{prev} })
	if res.Status != engine.StatusSuccess {
		t.Fatalf("run %s %q", res.Status, res.Reason)
	}
	if _, err := os.Stat(filepath.Join(f.workspace, "built")); err == nil {
		t.Error("a reused stage was executed again")
	}
	if got := res.Stages[0]; got.Outputs["version"] != "9.9" || got.Status != engine.StatusSuccess {
		t.Errorf("reused stage result %+v", got)
	}
	if got := f.rec.lines("deploy", "ship", engine.Stdout); !slices.Equal(got, []string{"version=9.9"}) {
		t.Errorf("deploy printed %q; the reused stage's outputs were not exported", got)
	}
	for _, e := range f.rec.events {
		if s, ok := e.(engine.StageStarted); ok && s.Stage == "build" {
			t.Error("StageStarted for a reused stage")
		}
	}
}

func TestActionDirMustStayInWorkspace(t *testing.T) {
	f := newFixture(t)
	if err := os.Mkdir(filepath.Join(f.workspace, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	p := pipe(stage("s", act("in", "pwd", dir("sub")), act("out", "pwd", dir("../elsewhere"))))
	res := f.run(t.Context(), p)
	sr := res.Stages[0]
	if a := actionResult(t, sr, "in"); a.Status != engine.StatusSuccess {
		t.Errorf("in = %s %q", a.Status, a.Reason)
	}
	if got := f.rec.lines("s", "in", engine.Stdout); len(got) != 1 || filepath.Base(got[0]) != "sub" {
		t.Errorf("pwd printed %q", got)
	}
	if a := actionResult(t, sr, "out"); a.Status != engine.StatusFailure || !strings.Contains(a.Reason, "not inside the workspace") {
		t.Errorf("out = %s %q", a.Status, a.Reason)
	}
}

// failingRunner cannot start anything, and says so quoting the script.
type failingRunner struct{}

func (failingRunner) Run(_ context.Context, spec runner.Spec) (runner.Result, error) {
	return runner.Result{}, fmt.Errorf("no shell here for %q", spec.Script)
}

func TestRunnerErrorIsAFailure(t *testing.T) {
	f := newFixture(t)
	f.engine.Runner = failingRunner{}
	res := f.run(t.Context(), pipe(stage("s", act("a", "login hunter2"))), func(r *engine.Run) {
		r.Secrets = map[string]string{"PASSWORD": "hunter2"}
	})
	a := res.Stages[0].Actions[0]
	if a.Status != engine.StatusFailure || !strings.Contains(a.Reason, "no shell here") {
		t.Errorf("action = %s %q", a.Status, a.Reason)
	}
	if strings.Contains(a.Reason, "hunter2") || !strings.Contains(res.Reason, "login ***") {
		t.Errorf("reasons are not masked: %q, %q", a.Reason, res.Reason)
	}
}

func TestMaxParallel(t *testing.T) {
	f := newFixture(t)
	f.engine.MaxParallel = 1
	start := time.Now()
	res := f.run(t.Context(), pipe(stage("s", act("a", "sleep 0.3"), act("b", "sleep 0.3"))))
	if res.Status != engine.StatusSuccess {
		t.Fatalf("run %s %q", res.Status, res.Reason)
	}
	if elapsed := time.Since(start); elapsed < 600*time.Millisecond {
		t.Errorf("two 0.3s actions with MaxParallel 1 took %s", elapsed)
	}
}

func TestPlanMustMatchPipeline(t *testing.T) {
	f := newFixture(t)
	p := pipe(stage("build", act("a", "touch ran")))
	other := pipe(stage("build", act("a", "true")), stage("deploy", act("b", "true")))
	res := f.run(t.Context(), p, func(r *engine.Run) { r.Plan = planAll(other) })
	if res.Status != engine.StatusFailure {
		t.Errorf("run %s %q, want failure", res.Status, res.Reason)
	}
	if _, err := os.Stat(filepath.Join(f.workspace, "ran")); err == nil {
		t.Error("an action ran under a plan for another pipeline")
	}
}

func TestMissingWorkspace(t *testing.T) {
	f := newFixture(t)
	res := f.run(t.Context(), pipe(stage("build", act("a", "true"))), func(r *engine.Run) {
		r.Workspace = filepath.Join(f.workspace, "missing")
	})
	if res.Status != engine.StatusFailure || !strings.Contains(res.Reason, "workspace") {
		t.Errorf("run %s %q", res.Status, res.Reason)
	}
	if len(res.Stages) != 1 || res.Stages[0].Status != engine.StatusSkipped {
		t.Errorf("stages %+v", res.Stages)
	}
}

//go:build unix

package engine_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stagegate/stagegate/pipeline"
	"github.com/stagegate/stagegate/pipeline/engine"
	"github.com/stagegate/stagegate/pipeline/runner"
)

// remoteRunner stands for a runner that executes elsewhere: it writes
// what a build would bring back (a file, an output) and records its spec.
type remoteRunner struct{ specs []runner.Spec }

func (r *remoteRunner) Run(_ context.Context, s runner.Spec) (runner.Result, error) {
	r.specs = append(r.specs, s)
	if err := os.WriteFile(filepath.Join(s.Remote.Workspace, "built.txt"), []byte("remote"), 0o644); err != nil {
		return runner.Result{}, err
	}
	if err := os.WriteFile(s.Remote.OutputFile, []byte("image=app:7\n"), 0o644); err != nil {
		return runner.Result{}, err
	}
	return runner.Result{ExitCode: 0}, nil
}

func TestActionRunnerIsPickedByName(t *testing.T) {
	f := newFixture(t)
	remote := &remoteRunner{}
	f.engine.Runners = map[string]runner.Runner{"codebuild": remote}
	cb := &pipeline.RunnerSpec{Type: pipeline.RunnerCodeBuild, Project: "web"}
	build := stage("build",
		act("remote", "echo not here", actEnv("PLAIN", "yes", "TOKEN", "s3cr3t-value"), artifacts("built.txt")),
		act("local", `echo "here" > local.txt`, func(a *pipeline.Action) { a.Runner = &pipeline.RunnerSpec{Type: pipeline.RunnerLocal} }),
	)
	build.Runner = cb
	p := pipe(build, stage("after", act("use", `echo "$STAGEGATE_OUTPUT_BUILD_IMAGE"`)))
	res := f.run(t.Context(), p, func(r *engine.Run) { r.Secrets = map[string]string{"TOKEN": "s3cr3t-value"} })
	if res.Status != engine.StatusSuccess {
		t.Fatalf("run %s %q", res.Status, res.Reason)
	}
	if len(remote.specs) != 1 {
		t.Fatalf("remote runner ran %d times, want once (the local action stays local)", len(remote.specs))
	}
	rm := remote.specs[0].Remote
	if rm.Runner != cb || rm.Stage != "build" || rm.Action != "remote" || rm.Attempt != 1 || rm.RunID != "run-1" {
		t.Errorf("remote %+v", rm)
	}
	if want, _ := filepath.Abs(f.artifacts); rm.Artifacts != want {
		t.Errorf("remote artifacts %q, want the run's artifact directory %q", rm.Artifacts, want)
	}
	if !rm.Secret["TOKEN"] || rm.Secret["PLAIN"] || rm.Secret["STAGEGATE_SHA"] {
		t.Errorf("secret names %v: want TOKEN alone of these", rm.Secret)
	}
	if got := f.rec.lines("after", "use", engine.Stdout); !slices.Equal(got, []string{"app:7"}) {
		t.Errorf("the remote output reached the next stage as %q", got)
	}
	if _, err := os.Stat(filepath.Join(f.workspace, "local.txt")); err != nil {
		t.Errorf("the local action did not run here: %v", err)
	}
	if _, err := os.Stat(filepath.Join(f.artifacts, "built.txt")); err != nil {
		entries, _ := filepath.Glob(filepath.Join(f.artifacts, "*"))
		t.Errorf("the remote build's file is not an artifact: %v (store has %q)", err, entries)
	}
}

func TestMissingRunnerFailsTheAction(t *testing.T) {
	f := newFixture(t)
	a := act("remote", "true")
	a.Runner = &pipeline.RunnerSpec{Type: pipeline.RunnerCodeBuild, Project: "web"}
	res := f.run(t.Context(), pipe(stage("build", a)))
	ar := actionResult(t, stageResult(t, res, "build"), "remote")
	if ar.Status != engine.StatusFailure || ar.Reason != "runner codebuild is not available here" {
		t.Errorf("action %s %q", ar.Status, ar.Reason)
	}
}

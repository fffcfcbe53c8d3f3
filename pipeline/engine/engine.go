// Package engine executes a run of a pipeline: its stages in order, each
// stage's actions grouped by run_order, over a runner.Runner. It builds
// every action's environment from scratch, masks secrets in the logs,
// passes outputs and artifacts from stage to stage, and reports each step
// to an Observer.
package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stagegate/stagegate/pipeline"
	"github.com/stagegate/stagegate/pipeline/runner"
)

// Engine runs pipelines. Runner is required. One Engine may run several
// runs at once; it must not be copied after first use.
type Engine struct {
	Runner runner.Runner
	// Observer receives the runs' events; nil drops them. The engine
	// calls it for one event at a time, even across concurrent runs.
	Observer Observer
	// MaxParallel bounds how many actions of one run execute at once;
	// 0 means no bound. Actions beyond it wait their turn, and their
	// timeout starts only when they start.
	MaxParallel int
	// Integrations runs `uses:` actions; nil fails them.
	Integrations Integrations
	// Runners are the runners other than Runner, by the type an action's
	// runner: names (pipeline.RunnerName), such as "codebuild". An action
	// naming one that is missing fails.
	Runners map[string]runner.Runner

	// emitMu serializes the observer, so observers need no locking of
	// their own.
	emitMu sync.Mutex
}

// Run is the configuration of one run.
type Run struct {
	ID       string
	Pipeline *pipeline.Pipeline
	// Plan says which stages run, as pipeline.Decide made it or as the
	// caller adjusted it. When triggered it has one entry per stage.
	Plan  pipeline.Plan
	Event pipeline.Event
	// Workspace is the checked-out repository the actions run in; the
	// stages share it, in order.
	Workspace string
	// ArtifactDir is the run's artifact store, created if missing. Empty
	// means a directory inside TempDir, which lives only as long as the
	// run when TempDir is empty too.
	ArtifactDir string
	// ArtifactStore, when set, keeps each action's artifacts beyond
	// ArtifactDir once they are stored there (ArtifactStore.Put); failing
	// to keep them fails the action, as failing to store them does. Nil
	// keeps them in ArtifactDir alone.
	ArtifactStore ArtifactStore
	// TempDir is scratch space: the actions' TMPDIR is its tmp/ and their
	// output files are in its out/, apart, so that a script emptying
	// TMPDIR cannot delete another action's outputs. Empty means a new
	// temporary directory, removed when the run ends.
	TempDir string
	// Home is the actions' HOME, made if missing and writable to them.
	// Empty means the host's HOME, which an isolating runner hides unless
	// Access names it.
	Home string
	// Access adds to what every action may see of the host when the
	// runner isolates it (runner.Access). The engine itself gives the
	// workspace, HOME and its scratch directories writable, and the
	// artifact store read-only: only the engine stores artifacts.
	Access runner.Access
	// Limits are every action's resource limits (runner.Limits).
	Limits runner.Limits
	// LookupEnv reads the values of pass_env; nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// LookupSecret reads the values of the pipeline's secrets; nil means
	// LookupEnv. PATH, LANG and (without Home) HOME always come from the
	// host.
	LookupSecret func(string) (string, bool)
	// Secrets are secret variables from the caller, masked in logs.
	Secrets map[string]string
	// WithholdSecrets is set for untrusted code, such as a pull request
	// from a fork: then neither Secrets nor the pipeline's secrets are
	// given to the actions.
	WithholdSecrets bool
	// Prepare, when set, makes the workspace once the run has been
	// announced (RunStarted) and before any stage, and returns its path,
	// which replaces Workspace: fetching the source is slow, and
	// observers can show the run as started meanwhile. An error fails
	// the run, every stage skipped with the error as the reason.
	Prepare func(ctx context.Context) (workspace string, err error)
	// Gate, when set, is called before each deploy stage (one with an
	// environment) once the stages before it have succeeded, and blocks
	// until the stage may run: its checks pass, it is approved, its
	// environment is free. An error fails the stage with the error as
	// the reason, without running its actions or its on_failure; release,
	// if not nil, is called when the stage has ended.
	Gate func(ctx context.Context, stage *pipeline.Stage) (release func(), err error)
	// GateSecrets, when set, is called for a deploy stage once its gate
	// has passed, and returns secret variables (an environment's) given,
	// masked, to that stage's actions alone, on_failure included: they
	// must not reach stages that did not pass a gate. Withheld secrets
	// (WithholdSecrets) withhold these too.
	GateSecrets func(stage *pipeline.Stage) map[string]string
	// ActionEnv, when set, is called before each attempt of an action and
	// returns variables for that attempt alone, such as short-lived cloud
	// credentials (masked) and their region (not). An error fails the
	// attempt. Withheld secrets (WithholdSecrets) withhold these too.
	ActionEnv func(ctx context.Context, stage *pipeline.Stage, action *pipeline.Action) (AttemptEnv, error)
	// Previous holds results of stages from an earlier run that are
	// reused as they are, for a re-run from a later stage: a stage with a
	// result here, matched by name, is not executed again, and its
	// outputs are still exported to the stages after it. A reused result
	// that did not succeed stops the run again, without on_failure.
	Previous []StageResult
}

// runState is what one run shares between its stages and actions.
type runState struct {
	e   *Engine
	run *Run

	masks *masker
	base  map[string]string
	sem   chan struct{}

	workspace     string
	workspaceReal string // with symlinks resolved, to contain artifact links
	artifactDir   string
	home          string // the actions' HOME when the run sets one
	access        runner.Access
	tmpDir        string // the actions' TMPDIR
	outDir        string // output files, apart from TMPDIR so scripts cleaning it do not hit them
	outSeq        atomic.Int64
	skipPrefixes  []string
	artifactMu    sync.Mutex

	// outputs of the stages done so far, in order; only the stage loop
	// writes it, between stages.
	outputs []stageOutputs
	// stageSecrets are the gate's secrets of the deploy stage running;
	// the stage loop sets them before the stage's actions start.
	stageSecrets map[string]map[string]string
}

func (rs *runState) emit(ev Event) {
	if rs.e.Observer == nil {
		return
	}
	rs.e.emitMu.Lock()
	defer rs.e.emitMu.Unlock()
	rs.e.Observer.Observe(ev)
}

// Run executes r and returns how it ended. It returns only when every
// command it started has ended; cancelling ctx kills the running actions
// and ends the run as cancelled.
func (e *Engine) Run(ctx context.Context, r Run) Result {
	rs := &runState{e: e, run: &r, masks: newMasker()}
	res := Result{RunID: r.ID, Started: time.Now()}
	rs.emit(RunStarted{RunID: r.ID, Pipeline: r.Pipeline, Plan: r.Plan, Time: res.Started})
	finish := func() Result {
		res.Duration = time.Since(res.Started)
		rs.emit(RunFinished{Result: res})
		return res
	}
	if r.Pipeline == nil {
		res.Status, res.Reason = StatusFailure, "the run has no pipeline"
		return finish()
	}
	plans, err := stagePlans(r.Pipeline, r.Plan)
	if err != nil {
		res.Status, res.Reason = StatusFailure, err.Error()
		return finish()
	}
	if !r.Plan.Triggered {
		res.Stages = rs.skipAll(plans, "")
		res.Status, res.Reason = StatusSkipped, r.Plan.Reason
		return finish()
	}
	if r.Prepare != nil {
		ws, err := r.Prepare(ctx)
		if err != nil {
			res.Stages = rs.skipAll(plans, "skipped: "+err.Error())
			res.Status, res.Reason = StatusFailure, err.Error()
			if ctx.Err() != nil {
				res.Status, res.Reason = StatusCancelled, cancelReason(ctx)
			}
			return finish()
		}
		r.Workspace = ws
	}
	cleanup, err := rs.setup()
	if err != nil {
		res.Stages = rs.skipAll(plans, "skipped: the run could not start")
		res.Status, res.Reason = StatusFailure, err.Error()
		return finish()
	}
	res.Stages, res.Status, res.Reason = rs.runStages(ctx, plans)
	cleanup()
	return finish()
}

// stagePlans pairs each stage of p with its plan, checking that the plan
// was made for this pipeline.
func stagePlans(p *pipeline.Pipeline, plan pipeline.Plan) ([]pipeline.StagePlan, error) {
	if !plan.Triggered && len(plan.Stages) == 0 {
		out := make([]pipeline.StagePlan, len(p.Stages))
		for i, st := range p.Stages {
			out[i] = pipeline.StagePlan{Stage: st}
		}
		return out, nil
	}
	if len(plan.Stages) != len(p.Stages) {
		return nil, fmt.Errorf("the plan has %d stages but the pipeline %d", len(plan.Stages), len(p.Stages))
	}
	out := make([]pipeline.StagePlan, len(p.Stages))
	for i, st := range p.Stages {
		sp := plan.Stages[i]
		if sp.Stage != nil && sp.Stage.Name != st.Name {
			return nil, fmt.Errorf("the plan's stage %d is %q but the pipeline's is %q", i+1, sp.Stage.Name, st.Name)
		}
		sp.Stage = st
		out[i] = sp
	}
	return out, nil
}

// skipAll ends every stage as skipped without running it. reason, when
// set, replaces the plans' reasons.
func (rs *runState) skipAll(plans []pipeline.StagePlan, reason string) []StageResult {
	out := make([]StageResult, len(plans))
	for i, sp := range plans {
		why := reason
		if why == "" {
			why = sp.Reason
		}
		if why == "" {
			why = rs.run.Plan.Reason
		}
		out[i] = StageResult{Name: sp.Stage.Name, Status: StatusSkipped, Reason: why}
		rs.emit(StageFinished{Result: out[i]})
	}
	return out
}

// runStages runs the planned stages in order until one does not succeed.
func (rs *runState) runStages(ctx context.Context, plans []pipeline.StagePlan) ([]StageResult, Status, string) {
	previous := map[string]StageResult{}
	for _, p := range rs.run.Previous {
		previous[p.Name] = p
	}
	results := make([]StageResult, 0, len(plans))
	var stop *StageResult
	for _, sp := range plans {
		st := sp.Stage
		var sr StageResult
		prev, reused := previous[st.Name]
		switch {
		case stop != nil:
			sr = afterStop(st.Name, stop)
		case reused:
			sr = prev
		case ctx.Err() != nil:
			sr = StageResult{Name: st.Name, Status: StatusCancelled, Reason: cancelReason(ctx)}
		case sp.Failed:
			// An `if:` that could not be decided fails its stage: taking
			// it for false would skip a stage nobody meant to skip.
			sr = StageResult{Name: st.Name, Status: StatusFailure, Reason: sp.Reason}
		case !sp.Run:
			sr = StageResult{Name: st.Name, Status: StatusSkipped, Reason: sp.Reason}
			if sr.Reason == "" {
				sr.Reason = "skipped"
			}
		default:
			sr = rs.gatedStage(ctx, st)
		}
		rs.emit(StageFinished{Result: sr})
		results = append(results, sr)
		switch sr.Status {
		case StatusSuccess:
			if len(sr.Outputs) > 0 {
				rs.outputs = append(rs.outputs, stageOutputs{stage: st.Name, outputs: sr.Outputs})
			}
		case StatusSkipped:
		default:
			if stop == nil {
				stop = &results[len(results)-1]
			}
		}
	}
	if stop == nil {
		return results, StatusSuccess, ""
	}
	return results, stop.Status, fmt.Sprintf("stage %s: %s", stop.Name, stop.Reason)
}

// gatedStage runs a stage, through the run's gate when it deploys.
func (rs *runState) gatedStage(ctx context.Context, st *pipeline.Stage) StageResult {
	if rs.run.Gate == nil || !st.Deploy() {
		return rs.runStage(ctx, st)
	}
	waited := time.Now()
	release, err := rs.run.Gate(ctx, st)
	if err != nil {
		sr := StageResult{Name: st.Name, Status: StatusFailure, Reason: err.Error(), Started: waited, Duration: time.Since(waited)}
		if ctx.Err() != nil {
			sr.Status, sr.Reason = StatusCancelled, cancelReason(ctx)
		}
		return sr
	}
	if release != nil {
		defer release()
	}
	if rs.run.GateSecrets != nil && !rs.run.WithholdSecrets {
		secrets := rs.run.GateSecrets(st)
		for _, v := range secrets {
			rs.masks.add(v)
		}
		if rs.stageSecrets == nil {
			rs.stageSecrets = map[string]map[string]string{}
		}
		rs.stageSecrets[st.Name] = secrets
		defer delete(rs.stageSecrets, st.Name)
	}
	return rs.runStage(ctx, st)
}

// afterStop is the result of a stage that comes after the one that
// stopped the run: skipped after a failure, cancelled after a
// cancellation.
func afterStop(name string, stop *StageResult) StageResult {
	switch stop.Status {
	case StatusCancelled:
		return StageResult{Name: name, Status: StatusCancelled, Reason: fmt.Sprintf("cancelled: stage %s was cancelled", stop.Name)}
	case StatusTimedOut:
		return StageResult{Name: name, Status: StatusSkipped, Reason: fmt.Sprintf("skipped: stage %s timed out", stop.Name)}
	default:
		return StageResult{Name: name, Status: StatusSkipped, Reason: fmt.Sprintf("skipped: stage %s failed", stop.Name)}
	}
}

// cancelReason explains a cancellation, with its cause when the canceller
// gave one (context.WithCancelCause), such as a newer run superseding
// this one.
func cancelReason(ctx context.Context) string {
	cause := context.Cause(ctx)
	if cause == nil || cause == context.Canceled {
		return "cancelled"
	}
	return "cancelled: " + cause.Error()
}

// setup resolves the run's directories and builds the environment shared
// by its actions. The returned cleanup removes what setup created and the
// caller does not own.
func (rs *runState) setup() (cleanup func(), err error) {
	r := rs.run
	cleanup = func() {}
	if rs.e.Runner == nil {
		return cleanup, errors.New("the engine has no runner")
	}
	if r.Workspace == "" {
		return cleanup, errors.New("the run has no workspace")
	}
	if rs.workspace, err = filepath.Abs(r.Workspace); err != nil {
		return cleanup, fmt.Errorf("workspace: %w", err)
	}
	if st, err := os.Stat(rs.workspace); err != nil {
		return cleanup, fmt.Errorf("workspace: %w", err)
	} else if !st.IsDir() {
		return cleanup, fmt.Errorf("workspace %s is not a directory", rs.workspace)
	}
	if rs.workspaceReal, err = filepath.EvalSymlinks(rs.workspace); err != nil {
		return cleanup, fmt.Errorf("workspace: %w", err)
	}

	tmp := r.TempDir
	if tmp == "" {
		if tmp, err = os.MkdirTemp("", "stagegate-run-"); err != nil {
			return cleanup, fmt.Errorf("temp dir: %w", err)
		}
		cleanup = func() { os.RemoveAll(tmp) }
	} else if tmp, err = filepath.Abs(tmp); err != nil {
		return cleanup, fmt.Errorf("temp dir: %w", err)
	}
	rs.tmpDir = filepath.Join(tmp, "tmp")
	rs.outDir = filepath.Join(tmp, "out")
	for _, d := range []string{rs.tmpDir, rs.outDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			cleanup()
			return func() {}, fmt.Errorf("temp dir: %w", err)
		}
	}
	rs.artifactDir = r.ArtifactDir
	if rs.artifactDir == "" {
		rs.artifactDir = filepath.Join(tmp, "artifacts")
	}
	if rs.artifactDir, err = filepath.Abs(rs.artifactDir); err == nil {
		err = os.MkdirAll(rs.artifactDir, 0o755)
	}
	if err != nil {
		cleanup()
		return func() {}, fmt.Errorf("artifact dir: %w", err)
	}
	for _, d := range []string{rs.artifactDir, tmp} {
		if real, err := filepath.EvalSymlinks(d); err == nil {
			if rel, err := filepath.Rel(rs.workspaceReal, real); err == nil && filepath.IsLocal(rel) {
				rs.skipPrefixes = append(rs.skipPrefixes, filepath.ToSlash(rel))
			}
		}
	}

	if r.Home != "" {
		if rs.home, err = filepath.Abs(r.Home); err == nil {
			err = os.MkdirAll(rs.home, 0o700)
		}
		if err != nil {
			cleanup()
			return func() {}, fmt.Errorf("home: %w", err)
		}
	}
	rs.access = runAccess(r.Access, rs)

	lookup := r.LookupEnv
	if lookup == nil {
		lookup = os.LookupEnv
	}
	secret := r.LookupSecret
	if secret == nil {
		secret = lookup
	}
	rs.base = baseEnv(r, lookup, secret, rs.tmpDir, rs.home, rs.masks)
	if rs.e.MaxParallel > 0 {
		rs.sem = make(chan struct{}, rs.e.MaxParallel)
	}
	return cleanup, nil
}

// runAccess is what every action of the run may see: the caller's list
// and the run's own directories. The artifact store is read-only so that
// no action rewrites what an earlier stage stored; the engine writes it.
func runAccess(extra runner.Access, rs *runState) runner.Access {
	a := runner.Access{
		Writable: []string{rs.workspace, rs.tmpDir, rs.outDir},
		ReadOnly: []string{rs.artifactDir},
		Hidden:   slices.Clone(extra.Hidden),
	}
	if rs.home != "" {
		a.Writable = append(a.Writable, rs.home)
	}
	a.Writable = append(a.Writable, extra.Writable...)
	a.ReadOnly = append(a.ReadOnly, extra.ReadOnly...)
	return a
}

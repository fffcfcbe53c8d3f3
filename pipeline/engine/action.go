package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stagegate/stagegate/pipeline"
	"github.com/stagegate/stagegate/pipeline/runner"
)

// errTimedOut is the cause of an attempt's context when its timeout
// fires. The runner reports only that it killed the command; the cause
// tells a timeout from a cancellation of the run.
var errTimedOut = errors.New("action timed out")

// addMask is the workflow command by which an action hides a value it
// learned at run time, as in GitHub Actions.
const addMask = "::add-mask::"

// runAction runs an action, trying it again after a failure or timeout
// up to its retries. A cancelled attempt is not retried: the run is
// stopping.
func (rs *runState) runAction(ctx context.Context, st *pipeline.Stage, a *pipeline.Action, rollback bool, outs []stageOutputs) actionOutcome {
	if rs.sem != nil {
		select {
		case rs.sem <- struct{}{}:
			defer func() { <-rs.sem }()
		case <-ctx.Done():
			return actionOutcome{result: ActionResult{Name: a.Name, Status: StatusCancelled, Rollback: rollback, Reason: cancelReason(ctx)}}
		}
	}
	for n := 1; ; n++ {
		o := rs.attempt(ctx, st, a, rollback, n, outs)
		s := o.result.Status
		if (s != StatusFailure && s != StatusTimedOut) || n > a.Retries || ctx.Err() != nil {
			return o
		}
		l := rs.logFor(st, a, rollback, n)
		l.system(fmt.Sprintf("attempt %d of %d %s (%s); trying again", n, a.Retries+1, verb(s), o.result.Reason))
	}
}

// attempt runs an action once. The result is named so that the deferred
// finish, which times and reports the attempt, also completes what is
// returned.
func (rs *runState) attempt(ctx context.Context, st *pipeline.Stage, a *pipeline.Action, rollback bool, n int, outs []stageOutputs) (o actionOutcome) {
	started := time.Now()
	rs.emit(ActionStarted{Stage: st.Name, Action: a.Name, Attempt: n, Rollback: rollback, Time: started})
	l := rs.logFor(st, a, rollback, n)
	o.result = ActionResult{Name: a.Name, Attempts: n, Rollback: rollback, Started: started, ExitCode: -1}
	r := &o.result
	defer func() {
		r.Duration = time.Since(started)
		// A reason may quote a runner's error, which may quote anything.
		r.Reason = rs.masks.mask(r.Reason)
		rs.emit(ActionFinished{Stage: st.Name, Action: a.Name, Attempt: n, Rollback: rollback, Result: *r})
	}()

	dir, err := rs.actionDir(a.Dir)
	if err != nil {
		r.Status, r.Reason = StatusFailure, err.Error()
		return o
	}
	// A fresh path per attempt: a retry must not inherit the outputs of
	// the attempt that failed. The file is not created beforehand, since
	// appending creates it and a file creation costs as much as the rest
	// of an action's bookkeeping.
	outFile := filepath.Join(rs.outDir, "output-"+strconv.FormatInt(rs.outSeq.Add(1), 10))
	defer os.Remove(outFile)

	sg := rs.stagegateEnv(attemptInfo{stage: st, action: a.Name, attempt: n, outputFile: outFile})
	own, err := rs.actionEnv(ctx, st, a)
	if err != nil {
		r.Status, r.Reason = StatusFailure, err.Error()
		return o
	}
	maps.Copy(sg, own)
	if a.Uses != "" {
		env := actionEnv(rs.baseFor(st), st.Env, a.Env, outs, sg)
		o.outputs = rs.maskOutputs(rs.runIntegration(ctx, st, a, dir, env, l, r), l)
		return o
	}
	stdout := &lineWriter{masks: rs.masks, line: l.line(Stdout)}
	stderr := &lineWriter{masks: rs.masks, line: l.line(Stderr)}
	spec := runner.Spec{
		Script: a.Run,
		Dir:    dir,
		Env:    actionEnv(rs.baseFor(st), st.Env, a.Env, outs, sg),
		Stdout: stdout,
		Stderr: stderr,
		Access: rs.access,
		Limits: rs.run.Limits,
	}

	run, err := rs.runnerFor(st, a, &spec, n, outFile)
	if err != nil {
		r.Status, r.Reason = StatusFailure, err.Error()
		return o
	}
	actx, cancel := context.WithTimeoutCause(ctx, a.EffectiveTimeout(), errTimedOut)
	res, runErr := run.Run(actx, spec)
	// Read the cause before cancel, which would otherwise set its own.
	ended := actx.Err() != nil
	timedOut := errors.Is(context.Cause(actx), errTimedOut)
	cancel()
	stdout.flush()
	stderr.flush()

	switch {
	// A command that failed while its context was ending failed because
	// of it, even if the runner did not get to kill it.
	case ended && (res.Killed || runErr != nil || res.ExitCode != 0):
		if timedOut {
			r.Status, r.Reason = StatusTimedOut, fmt.Sprintf("timed out after %s", a.EffectiveTimeout())
		} else {
			r.Status, r.Reason = StatusCancelled, cancelReason(ctx)
		}
	case runErr != nil:
		r.Status, r.Reason = StatusFailure, fmt.Sprintf("could not run: %v", runErr)
	case res.ExitCode == -1:
		r.Status, r.Reason = StatusFailure, "killed by a signal"
	case res.ExitCode != 0 && res.Reason != "":
		r.Status, r.Reason = StatusFailure, res.Reason
	case res.ExitCode != 0:
		r.Status, r.Reason = StatusFailure, fmt.Sprintf("exit code %d", res.ExitCode)
	default:
		r.Status = StatusSuccess
	}
	if runErr == nil {
		r.ExitCode = res.ExitCode
	}

	outputs, warnings, err := readOutputs(outFile)
	for _, w := range warnings {
		l.system("warning: " + w)
	}
	if err != nil {
		l.system("warning: " + err.Error())
	}
	if r.Status != StatusSuccess {
		return o
	}
	o.outputs = rs.maskOutputs(outputs, l)
	if len(a.Artifacts) > 0 {
		arts, err := rs.collectArtifacts(a.Artifacts, func(w string) { l.system("warning: " + w) })
		o.artifacts = arts
		if err == nil && len(arts) > 0 && rs.run.ArtifactStore != nil {
			key := ArtifactKey{Run: rs.run.ID, Stage: st.Name, Action: a.Name}
			if err = rs.run.ArtifactStore.Put(ctx, key, rs.artifactDir, arts); err != nil {
				err = fmt.Errorf("keep artifacts: %w", err)
			}
		}
		if err != nil {
			r.Status, r.Reason = StatusFailure, err.Error()
		}
	}
	return o
}

// maskOutputs masks secrets in output values. Outputs are reported in the
// run's result, which is shown to people, and a value holding a secret is
// better broken than published.
func (rs *runState) maskOutputs(outputs map[string]string, l actionLog) map[string]string {
	for _, k := range slices.Sorted(maps.Keys(outputs)) {
		if m := rs.masks.mask(outputs[k]); m != outputs[k] {
			outputs[k] = m
			l.system(fmt.Sprintf("warning: output %s holds a secret; it is masked", k))
		}
	}
	return outputs
}

// actionDir is the action's working directory. The check is lexical: it
// catches a dir such as ../other by mistake; it is no sandbox, as the
// action runs any command it likes.
func (rs *runState) actionDir(dir string) (string, error) {
	if dir == "" {
		return rs.workspace, nil
	}
	d := filepath.Clean(filepath.FromSlash(dir))
	if d == "." {
		return rs.workspace, nil
	}
	if !filepath.IsLocal(d) {
		return "", fmt.Errorf("dir %q is not inside the workspace", dir)
	}
	return filepath.Join(rs.workspace, d), nil
}

// actionLog emits the log lines of one attempt.
type actionLog struct {
	rs            *runState
	stage, action string
	rollback      bool
	attempt       int
}

func (rs *runState) logFor(st *pipeline.Stage, a *pipeline.Action, rollback bool, n int) actionLog {
	return actionLog{rs: rs, stage: st.Name, action: a.Name, rollback: rollback, attempt: n}
}

// line handles a line of a stream. ::add-mask:: lines are taken as
// commands and not shown, so that the value they hide is not printed.
func (l actionLog) line(stream Stream) func(string, bool) {
	return func(text string, atStart bool) {
		if v, ok := strings.CutPrefix(text, addMask); ok && atStart {
			l.rs.masks.add(v)
			return
		}
		l.emit(stream, text)
	}
}

// system writes a line of the engine's own. It is masked too: a warning
// may quote what an action wrote.
func (l actionLog) system(text string) { l.emit(System, text) }

func (l actionLog) emit(stream Stream, text string) {
	text = strings.ToValidUTF8(l.rs.masks.mask(text), "\uFFFD")
	l.rs.emit(LogLine{
		Stage: l.stage, Action: l.action, Stream: stream,
		Rollback: l.rollback, Attempt: l.attempt,
		Time: time.Now(), Text: text,
	})
}

package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/stagegate/stagegate/pipeline"
)

// Integrations runs the actions that name an integration with `uses:`
// instead of a script. The engine knows nothing of what an integration
// does or which cloud it talks to.
type Integrations interface {
	// Run runs one attempt of the action. It returns when the work has
	// ended; when ctx ends it stops what it can and returns. An error
	// fails the action with the error as the reason.
	Run(ctx context.Context, call IntegrationCall) (IntegrationResult, error)
}

// IntegrationCall is one attempt of a `uses:` action.
type IntegrationCall struct {
	RunID  string
	Stage  *pipeline.Stage
	Action *pipeline.Action
	// AWS is the action's aws: merged from the pipeline, the stage and
	// the action (pipeline.EffectiveAWS); nil when none is set.
	AWS *pipeline.AWS
	// Apply is whether the integration may change what it deploys to:
	// true in a deploy stage, false elsewhere (a pull request's run only
	// shows what a deploy would change).
	Apply bool
	Event pipeline.Event
	// Untrusted is set when the run withholds secrets (a fork's pull
	// request): the integration must not act with the host's own
	// credentials.
	Untrusted bool
	// Dir is the action's working directory; paths in With are relative
	// to the workspace, Workspace.
	Dir, Workspace string
	// Env is the action's environment, as a script would have it,
	// including the short-lived credentials of ActionEnv.
	Env map[string]string
	// Log writes a line to the action's log, masked.
	Log func(line string)
}

// IntegrationResult is what a successful integration reports.
type IntegrationResult struct {
	// Outputs are exported to later stages like $STAGEGATE_OUTPUT's.
	Outputs map[string]string
	// Summary is a short Markdown text for people, such as a table of
	// what a deploy would change; the stage's check shows it. It is
	// masked, and cut at MaxSummary bytes.
	Summary string
}

// MaxSummary bounds an action's Summary: a check's summary holds 65,535
// characters for the whole stage.
const MaxSummary = 16 << 10

// runIntegration runs a `uses:` attempt, filling r from how it ended.
func (rs *runState) runIntegration(ctx context.Context, st *pipeline.Stage, a *pipeline.Action, dir string, env []string, l actionLog, r *ActionResult) map[string]string {
	res := rs.callIntegration(ctx, st, a, dir, env, l, r)
	if res.Summary != "" {
		r.Summary = cutSummary(rs.masks.mask(res.Summary))
	}
	return res.Outputs
}

// cutSummary cuts s to MaxSummary bytes at a line's end, saying so.
func cutSummary(s string) string {
	if len(s) <= MaxSummary {
		return s
	}
	const note = "\n\n_… cut: the log has it all_\n"
	cut := s[:MaxSummary-len(note)]
	if i := strings.LastIndexByte(cut, '\n'); i > 0 {
		cut = cut[:i]
	}
	return strings.ToValidUTF8(cut, "") + note
}

func (rs *runState) callIntegration(ctx context.Context, st *pipeline.Stage, a *pipeline.Action, dir string, env []string, l actionLog, r *ActionResult) IntegrationResult {
	if rs.e.Integrations == nil {
		r.Status, r.Reason = StatusFailure, fmt.Sprintf("this runner cannot run integrations (uses: %s)", a.Uses)
		return IntegrationResult{}
	}
	vars := make(map[string]string, len(env))
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	actx, cancel := context.WithTimeoutCause(ctx, a.EffectiveTimeout(), errTimedOut)
	defer cancel()
	res, err := rs.e.Integrations.Run(actx, IntegrationCall{
		RunID: rs.run.ID, Stage: st, Action: a,
		AWS:       pipeline.EffectiveAWS(rs.run.Pipeline, st, a),
		Apply:     st.Deploy(),
		Event:     rs.run.Event,
		Untrusted: rs.run.WithholdSecrets,
		Dir:       dir, Workspace: rs.workspace,
		Env: vars,
		Log: func(line string) { l.emit(Stdout, line) },
	})
	r.ExitCode = 0
	switch {
	case actx.Err() != nil && errors.Is(context.Cause(actx), errTimedOut):
		r.Status, r.Reason, r.ExitCode = StatusTimedOut, fmt.Sprintf("timed out after %s", a.EffectiveTimeout()), -1
	case ctx.Err() != nil:
		r.Status, r.Reason, r.ExitCode = StatusCancelled, cancelReason(ctx), -1
	case err != nil:
		r.Status, r.Reason, r.ExitCode = StatusFailure, err.Error(), 1
	default:
		r.Status = StatusSuccess
	}
	return res
}

// AttemptEnv are the variables Run.ActionEnv gives one attempt.
type AttemptEnv struct {
	// Secrets are masked in every log of the run from then on.
	Secrets map[string]string
	// Plain are not secret, such as a region, and not masked: masking
	// them would blank every mention of them in the run's logs.
	Plain map[string]string
}

// actionEnv asks the run for the attempt's own variables (short-lived
// credentials) and masks the secret ones. Withheld secrets withhold
// these too.
func (rs *runState) actionEnv(ctx context.Context, st *pipeline.Stage, a *pipeline.Action) (map[string]string, error) {
	if rs.run.ActionEnv == nil || rs.run.WithholdSecrets {
		return nil, nil
	}
	got, err := rs.run.ActionEnv(ctx, st, a)
	if err != nil {
		return nil, err
	}
	env := maps.Clone(got.Plain)
	if env == nil {
		env = make(map[string]string, len(got.Secrets))
	}
	for _, k := range slices.Sorted(maps.Keys(got.Secrets)) {
		rs.masks.add(got.Secrets[k])
		env[k] = got.Secrets[k]
	}
	return env, nil
}

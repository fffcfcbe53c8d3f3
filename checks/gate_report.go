package checks

import (
	"context"
	"slices"
	"strings"

	"github.com/google/go-github/v60/github"
	"github.com/rs/zerolog"

	"github.com/stagegate/stagegate/pipeline/engine"
)

// ShowGate shows a deploy stage's gate on its check, stagegate/<stage>.
// Like Observe it never waits for GitHub: the Reporter's goroutine
// writes it, in order with everything else, and writes only what
// changed, so the app may call it on every evaluation.
//
// While the gate waits the check is queued, its title saying what for
// ("deploy: waiting for 2 checks") and its summary listing every
// requirement. When only the approval is missing (NeedsApproval) the
// check is concluded action_required with one button, Deploy (identifier
// DeployActionID), and a details_url (see Options.GateDetailsURL). A gate
// that proceeds or refuses writes nothing by itself: the stage's start,
// or the failure the engine reports for a refusal, follows at once, and
// the stage's summary shows the last gate shown. Once the stage has
// started, ShowGate does nothing.
//
// These writes are gate progress, outside the fixed budget of a run's
// check writes.
func (r *Reporter) ShowGate(g Gate) {
	if g.Stage == "" {
		return
	}
	g.Requirements = slices.Clone(g.Requirements)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	st := r.m.stage(g.Stage)
	if st.result != nil || !st.startedAt.IsZero() {
		return
	}
	if st.gate == nil || st.gate.headline() != g.headline() {
		r.m.summary.dirty = true
	}
	st.gate = &g
	if !st.gateQueued {
		st.gateQueued = true
		r.m.ops = append(r.m.ops, op{kind: opGate, stage: st})
	}
	r.signal()
}

// gateWrite is what writeGate is to send, decided under the lock.
type gateWrite struct {
	key      string
	out      output
	approval bool
	id       int64
	url      string
	runID    string
}

// writeGate writes the stage's latest gate, if it still matters and
// differs from what the check shows.
func (r *Reporter) writeGate(ctx context.Context, log *zerolog.Logger, st *stageState) {
	var w gateWrite
	skip := false
	c := &st.check
	r.withLock(func() {
		st.gateQueued = false
		if st.gate == nil || st.result != nil || !st.startedAt.IsZero() {
			skip = true
			return
		}
		d := st.gate.Decide()
		if d != Wait && d != NeedsApproval {
			skip = true
			return
		}
		w.out, w.approval = renderGate(*st.gate), d == NeedsApproval
		w.key = d.String() + "\x00" + w.out.Title + "\x00" + w.out.Summary
		if w.key == st.gateWritten {
			skip = true
			return
		}
		if !w.approval && c.concluded {
			c.retire()
		}
		w.id, w.url, w.runID = c.id, c.url, r.m.runID
	})
	if skip {
		return
	}
	name := CheckName(st.name)
	details := r.gateDetailsURL(st.name)
	if w.id == 0 && (!w.approval || details == "") {
		// A queued check first: it waits, or its own page is to be
		// the details_url of the approval that follows.
		if w.id = r.create(ctx, log, st.name, c, github.CreateCheckRunOptions{
			Name:       name,
			HeadSHA:    r.target.HeadSHA,
			ExternalID: github.String(ExternalID(w.runID, st.name)),
			DetailsURL: r.detailsURL(st.name),
			Status:     github.String(statusQueued),
			Output:     toOutput(w.out, nil),
		}); w.id == 0 {
			return
		}
		if !w.approval {
			r.withLock(func() { st.gateWritten = w.key })
			return
		}
		r.withLock(func() { w.url = c.url })
	}
	if details == "" {
		details = w.url
	}
	now := &github.Timestamp{Time: r.clock.Now()}
	actions := []*github.CheckRunAction{{Label: deployLabel, Description: deployDescription, Identifier: DeployActionID}}
	var err error
	switch {
	case !w.approval:
		err = r.update(ctx, log, st.name, c, github.UpdateCheckRunOptions{Name: name, Output: toOutput(w.out, nil)})
	case w.id != 0:
		err = r.update(ctx, log, st.name, c, github.UpdateCheckRunOptions{
			Name: name, DetailsURL: optional(details), Status: github.String(statusCompleted),
			Conclusion: github.String(conclusionActionRequired), CompletedAt: now,
			Output: toOutput(w.out, nil), Actions: actions,
		})
	default:
		if r.create(ctx, log, st.name, c, github.CreateCheckRunOptions{
			Name:        name,
			HeadSHA:     r.target.HeadSHA,
			ExternalID:  github.String(ExternalID(w.runID, st.name)),
			DetailsURL:  optional(details),
			Status:      github.String(statusCompleted),
			Conclusion:  github.String(conclusionActionRequired),
			CompletedAt: now,
			Output:      toOutput(w.out, nil),
			Actions:     actions,
		}) == 0 {
			return
		}
	}
	if err != nil {
		return
	}
	r.withLock(func() {
		st.gateWritten = w.key
		if w.approval {
			c.concluded = true
		}
	})
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (r *Reporter) gateDetailsURL(stage string) string {
	if r.opts.GateDetailsURL != nil {
		if u := r.opts.GateDetailsURL(stage); u != "" {
			return u
		}
	}
	if u := r.detailsURL(stage); u != nil {
		return *u
	}
	return ""
}

// TrackDeployment hands a stage's deployment to the Reporter, which then
// keeps its statuses in step with the stage's check: in_progress once
// the check shows the stage started, then success, failure or error once
// it shows how the stage ended, each with the check's page as log_url.
// Rollback counts when on_failure actions ran and all succeeded. Like
// Observe it never waits. Call it before the stage starts, typically
// from the gate once it proceeds; the app then calls neither InProgress
// nor Finish itself (they would be no-ops once the Reporter has).
// Status writes that fail are logged, not returned by Close.
func (r *Reporter) TrackDeployment(stage string, d *Deployment) {
	if d == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	st := r.m.stage(stage)
	st.deploy = d
	r.m.ops = append(r.m.ops, op{kind: opDeploy, stage: st})
	r.signal()
}

// syncDeployment brings a tracked deployment up to date with what the
// stage's check shows.
func (r *Reporter) syncDeployment(ctx context.Context, log *zerolog.Logger, st *stageState) {
	var d *Deployment
	var started, ended bool
	var url string
	var res engine.StageResult
	r.withLock(func() {
		d, started, ended, url = st.deploy, st.startWritten, st.endWritten, st.check.url
		if ended && st.result != nil {
			res = *st.result
		}
	})
	if d == nil || !started && !ended {
		return
	}
	d.SetLogURL(url)
	var err error
	if ended {
		rolledBack, reason := rollbackOf(res)
		err = d.Finish(ctx, res.Status, rolledBack, reason)
	} else {
		err = d.InProgress(ctx)
	}
	if err != nil {
		log.Warn().Err(err).Str(keyStage, st.name).Int64("deployment", d.ID).Msg("updating the deployment failed")
	}
}

// rollbackOf tells whether a stage's on_failure actions ran and all
// succeeded, and words a failed rollback into the reason.
func rollbackOf(res engine.StageResult) (rolledBack bool, reason string) {
	if len(res.Rollback) == 0 {
		return false, res.Reason
	}
	for _, a := range res.Rollback {
		if a.Status != engine.StatusSuccess {
			return false, strings.TrimSuffix(res.Reason, ".") + " (rollback failed)"
		}
	}
	return true, res.Reason
}

package checks

import (
	"cmp"
	"strings"
	"time"

	"github.com/stagegate/stagegate/pipeline/engine"
)

// apply folds an event into the model, queueing the writes it calls
// for. It reports whether the worker has something new to do: an op, or
// a check that became dirty and needs its progress update scheduled.
// Called with r.mu held.
func (r *Reporter) apply(e engine.Event, now time.Time) bool {
	m := &r.m
	switch e := e.(type) {
	case engine.RunStarted:
		if m.started {
			return false
		}
		r.runStarted(e, now)
		m.ops = append(m.ops, op{kind: opRunStart})
		return true
	case engine.StageStarted:
		st := m.stage(e.Stage)
		if st.result != nil || !st.startedAt.IsZero() {
			return false
		}
		st.startedAt = e.Time
		if st.startedAt.IsZero() {
			st.startedAt = now
		}
		m.ops = append(m.ops, op{kind: opStageStart, stage: st})
		m.summary.dirty = true
		return true
	case engine.ActionStarted:
		st := m.stage(e.Stage)
		row := st.row(actionKey{e.Action, e.Rollback})
		row.State, row.Attempts = stateRunning, e.Attempt
		st.block(blockKey{actionKey{e.Action, e.Rollback}, e.Attempt})
		return markDirty(&st.check)
	case engine.LogLine:
		st := m.stage(e.Stage)
		k := actionKey{e.Action, e.Rollback}
		b := st.block(blockKey{k, e.Attempt})
		text := sanitizeLine(e.Text)
		for _, a := range parseLine(r.files, &b.parse, st.dirs[k], text) {
			st.anns.add(a)
		}
		b.add(text)
		return markDirty(&st.check)
	case engine.ActionFinished:
		st := m.stage(e.Stage)
		k := actionKey{e.Action, e.Rollback}
		row := st.row(k)
		*row = rowOf(e.Result)
		row.Name = e.Action
		failed := e.Result.Status == engine.StatusFailure || e.Result.Status == engine.StatusTimedOut
		for _, a := range st.block(blockKey{k, e.Attempt}).parse.finish(failed) {
			st.anns.add(a)
		}
		return markDirty(&st.check)
	case engine.StageFinished:
		st := m.stage(e.Result.Name)
		if st.result != nil {
			return false
		}
		r.stageFinished(st, e.Result, now)
		return true
	case engine.RunFinished:
		if m.finished {
			return false
		}
		r.runFinished(e.Result, now)
		return true
	}
	return false
}

func markDirty(c *checkState) bool {
	was := c.dirty
	c.dirty = true
	return !was
}

func (r *Reporter) runStarted(e engine.RunStarted, now time.Time) {
	m := &r.m
	m.started, m.runStart = true, e.Time
	if m.runStart.IsZero() {
		m.runStart = now
	}
	if m.runID == "" {
		m.runID = e.RunID
	}
	if e.Pipeline == nil {
		return
	}
	for i, s := range e.Pipeline.Stages {
		st := m.stage(s.Name)
		st.total = len(s.Actions)
		st.dirs = make(map[actionKey]string)
		for _, a := range s.Actions {
			st.dirs[actionKey{a.Name, false}] = a.Dir
		}
		for _, a := range s.OnFailure {
			st.dirs[actionKey{a.Name, true}] = a.Dir
		}
		if i < len(e.Plan.Stages) && e.Plan.Triggered {
			st.planRun, st.planReason = e.Plan.Stages[i].Run, e.Plan.Stages[i].Reason
		} else if !e.Plan.Triggered {
			st.planRun, st.planReason = false, e.Plan.Reason
		}
	}
}

func (r *Reporter) stageFinished(st *stageState, res engine.StageResult, now time.Time) {
	res.Name = st.name
	st.result, st.finishedAt = &res, now
	st.check.final = true
	r.m.ops = append(r.m.ops, op{kind: opStageEnd, stage: st})
	r.m.summary.dirty = true
}

// runFinished concludes the run, and first every stage the engine did
// not: a run that failed before its stages (no workspace, a plan that
// does not fit) still owes each stage a check, or a required one would
// wait forever.
func (r *Reporter) runFinished(res engine.Result, now time.Time) {
	m := &r.m
	for _, st := range m.stages {
		if st.result != nil {
			continue
		}
		sr := engine.StageResult{Name: st.name}
		switch {
		case res.Status == engine.StatusCancelled:
			sr.Status = engine.StatusCancelled
			sr.Reason = "cancelled: " + strings.TrimPrefix(cmp.Or(res.Reason, "the run was cancelled"), "cancelled: ")
		case !st.startedAt.IsZero():
			sr.Status, sr.Reason = engine.StatusCancelled, "cancelled: the run ended before the stage did"
		default:
			sr.Status, sr.Reason = engine.StatusSkipped, "skipped: the run ended before reaching this stage"
			if res.Reason != "" {
				sr.Reason += ": " + res.Reason
			}
		}
		r.stageFinished(st, sr, now)
	}
	m.finished, m.result, m.finishedAt = true, res, now
	m.summary.final = true
	m.ops = append(m.ops, op{kind: opRunEnd})
}

package checks

import (
	"time"

	"github.com/stagegate/stagegate/pipeline/engine"
)

// checkState is one check run as the reporter tracks it. Observe sets
// dirty and final; the worker sets the rest, all under Reporter.mu.
type checkState struct {
	id  int64
	url string
	// lastWrite is when the check was last written, for the throttle.
	lastWrite time.Time
	// dirty means the check shows less than is known.
	dirty bool
	// final means its completing write is queued, so a progress
	// update would only be overwritten: it is dropped instead.
	final bool
	// annSent counts the annotations already sent; GitHub appends
	// each request's annotations to the ones it has.
	annSent int
	// concluded means the check run is completed on GitHub while the
	// stage is not: the gate concluded it action_required to show the
	// Deploy button. It cannot go back to queued or in progress, and its
	// button must not linger, so the stage's next write creates a new
	// check run, which GitHub then shows instead.
	concluded bool
}

// retire forgets a concluded check run, so that the next write creates
// a new one. Called with Reporter.mu held.
func (c *checkState) retire() {
	*c = checkState{lastWrite: c.lastWrite, dirty: c.dirty, final: c.final}
}

// opKind is a write that must happen, in order, for the checks to end
// right; progress updates are not ops, since they may be dropped.
type opKind int

const (
	opRunStart opKind = iota
	opStageStart
	opStageEnd
	opRunEnd
	// opGate shows a deploy stage's gate (ShowGate).
	opGate
	// opDeploy brings a tracked deployment's statuses up to date with
	// its stage (TrackDeployment).
	opDeploy
)

type op struct {
	kind  opKind
	stage *stageState
}

type actionKey struct {
	name     string
	rollback bool
}

type blockKey struct {
	actionKey
	attempt int
}

// stageState is what the reporter knows of one stage.
type stageState struct {
	name       string
	planRun    bool
	planReason string
	total      int
	dirs       map[actionKey]string

	startedAt  time.Time
	result     *engine.StageResult
	finishedAt time.Time

	actions []actionKey
	rows    map[actionKey]*actionRow
	blocks  []*logBlock
	byBlock map[blockKey]*logBlock
	anns    annotationSet
	check   checkState

	// gate is the last gate shown, kept for the stage's summary.
	gate *Gate
	// gateQueued means an opGate for the stage is queued; gateWritten
	// is what the last gate write showed, so that an unchanged gate
	// sends nothing.
	gateQueued  bool
	gateWritten string
	// deploy is the deployment TrackDeployment attached; startWritten
	// and endWritten tell how far the stage's check has been written,
	// for its statuses to follow.
	deploy       *Deployment
	startWritten bool
	endWritten   bool
}

// model is a run folded from its events, guarded by Reporter.mu.
type model struct {
	runID    string
	notes    []string
	started  bool
	runStart time.Time
	finished bool
	// finishedAt is when RunFinished was observed.
	finishedAt time.Time
	result     engine.Result
	stages     []*stageState
	byName     map[string]*stageState
	summary    checkState
	ops        []op
}

func (m *model) stage(name string) *stageState {
	if st, ok := m.byName[name]; ok {
		return st
	}
	// A stage missing from RunStarted's pipeline still gets its check,
	// so that nothing the engine reports is lost.
	st := &stageState{name: name, planRun: true}
	if m.byName == nil {
		m.byName = make(map[string]*stageState)
	}
	m.byName[name] = st
	m.stages = append(m.stages, st)
	return st
}

func (st *stageState) row(k actionKey) *actionRow {
	if r, ok := st.rows[k]; ok {
		return r
	}
	if st.rows == nil {
		st.rows = make(map[actionKey]*actionRow)
	}
	r := &actionRow{Name: k.name, State: stateRunning, ExitCode: -1}
	st.rows[k] = r
	st.actions = append(st.actions, k)
	return r
}

func (st *stageState) block(k blockKey) *logBlock {
	if b, ok := st.byBlock[k]; ok {
		return b
	}
	if st.byBlock == nil {
		st.byBlock = make(map[blockKey]*logBlock)
	}
	b := &logBlock{action: k.name, attempt: k.attempt, rollback: k.rollback}
	st.byBlock[k] = b
	st.blocks = append(st.blocks, b)
	return b
}

// view is the stage as its check shows it.
func (st *stageState) view() stageView {
	v := stageView{Name: st.name, State: stateRunning, Total: st.total, AnnotationsOver: st.anns.over, Gate: st.gate}
	for _, b := range st.blocks {
		if len(b.lines) > 0 || b.dropped > 0 {
			v.Logs = append(v.Logs, b.view())
		}
	}
	if st.result == nil {
		for _, k := range st.actions {
			if !k.rollback {
				v.Actions = append(v.Actions, *st.rows[k])
			} else {
				v.Rollback = append(v.Rollback, *st.rows[k])
			}
		}
		return v
	}
	r := st.result
	v.State, v.Reason, v.Duration, v.Artifacts = r.Status, r.Reason, r.Duration, r.Artifacts
	if len(r.Actions) == 0 && len(r.Rollback) == 0 {
		// The run ended without the engine reporting this stage's
		// actions: show what was seen, ended the way the stage was.
		for _, k := range st.actions {
			row := *st.rows[k]
			if row.State == stateRunning {
				row.State = r.Status
			}
			if k.rollback {
				v.Rollback = append(v.Rollback, row)
			} else {
				v.Actions = append(v.Actions, row)
			}
		}
		return v
	}
	for _, a := range r.Actions {
		v.Actions = append(v.Actions, rowOf(a))
	}
	for _, a := range r.Rollback {
		v.Rollback = append(v.Rollback, rowOf(a))
	}
	return v
}

func rowOf(a engine.ActionResult) actionRow {
	return actionRow{Name: a.Name, State: a.Status, ExitCode: a.ExitCode, Duration: a.Duration, Attempts: a.Attempts, Summary: a.Summary}
}

// runView is the run as the summary check shows it.
func (m *model) runView() runView {
	v := runView{RunID: m.runID, Notes: m.notes}
	if m.finished {
		v.Status, v.Reason, v.Duration = m.result.Status, m.result.Reason, m.result.Duration
	}
	for _, st := range m.stages {
		row := stageRow{Name: st.name, State: statePending, URL: st.check.url}
		switch {
		case st.result != nil:
			row.State, row.Duration, row.Note = st.result.Status, st.result.Duration, st.result.Reason
		case !st.startedAt.IsZero():
			row.State = stateRunning
		case st.gate != nil:
			row.Note = st.gate.headline()
		case !st.planRun:
			row.Note = st.planReason
		}
		v.Stages = append(v.Stages, row)
	}
	return v
}

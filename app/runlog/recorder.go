// Package runlog records a run's progress in the store: stages, action
// attempts and their logs, within the caps of a Policy.
package runlog

import (
	"context"
	"sync"

	"github.com/rs/zerolog"

	"github.com/stagegate/stagegate/app/logkey"
	"github.com/stagegate/stagegate/app/store"
	"github.com/stagegate/stagegate/pipeline/engine"
)

// logBatch is how many log lines are written in one transaction.
const logBatch = 256

// Recorder writes a run's progress to the store: stages, action attempts
// and log lines. Observe hands events to a goroutine, so the engine waits
// on the database only when the buffer is full. Each attempt's log is
// stored up to the cap of its Policy, its head and its tail, and not
// at all while the data dir is short of space.
type Recorder struct {
	db    *store.DB
	runID string
	// positions of the stages, for the stage rows.
	positions map[string]int
	policy    *Policy
	// notes receives what the Recorder has to say about the logs (a cut,
	// a full disk), to be shown on the checks; nil drops them.
	notes engine.Observer

	// admitted is Observe's account of each attempt's log; space is its
	// view of the data dir's free space.
	admitted map[logKey]*admittedLog
	space    spaceWatch
	// runStored is what the run's attempts keep stored, counted as
	// admit charges it.
	runStored int64

	events chan recorded
	done   sync.WaitGroup
	// Changed, when set, is called after each write to the store: it
	// wakes the run page's live streams.
	Changed func()
}

// recorded is an event for the writer; written, when not nil, is closed
// once the event is in the store. cutNote marks the line after which an
// attempt's log is kept as a tail only.
type recorded struct {
	e       engine.Event
	written chan struct{}
	cutNote bool
}

// NewRecorder records run runID, whose stages stand at positions.
func NewRecorder(db *store.DB, runID string, positions map[string]int, policy *Policy, notes engine.Observer) *Recorder {
	return &Recorder{db: db, runID: runID, positions: positions, policy: policy, notes: notes,
		admitted: make(map[logKey]*admittedLog), events: make(chan recorded, 1024)}
}

// Start runs the writer until Close.
func (r *Recorder) Start(ctx context.Context) {
	r.done.Add(1)
	go func() {
		defer r.done.Done()
		r.write(ctx)
	}()
}

// Observe implements engine.Observer. A finished stage is in the store
// before Observe returns, so before the next stage starts: a process that
// dies later resumes after it, with its outputs and artifacts.
func (r *Recorder) Observe(e engine.Event) {
	switch e := e.(type) {
	case engine.LogLine:
		r.admit(e)
		return
	case engine.ActionFinished:
		r.finishLog(e)
	case engine.StageFinished:
		written := make(chan struct{})
		r.events <- recorded{e: e, written: written}
		<-written
		return
	}
	r.events <- recorded{e: e}
}

// Close waits until every event observed has been written.
func (r *Recorder) Close() {
	close(r.events)
	r.done.Wait()
}

func (r *Recorder) note(e engine.Event) {
	if r.notes != nil {
		r.notes.Observe(e)
	}
}

func (r *Recorder) write(ctx context.Context) {
	w := newLogWriter(r.db, r.runID, r.policy)
	for ev := range r.events {
		e := ev.e
		if l, ok := e.(engine.LogLine); ok {
			w.add(l, ev.cutNote)
			// Write when the batch is full or the engine has gone quiet.
			if w.pending() >= logBatch || len(r.events) == 0 {
				w.flush(ctx)
				r.wrote()
			}
			continue
		}
		w.flush(ctx)
		if err := r.record(ctx, e); err != nil {
			zerolog.Ctx(ctx).Error().Err(err).Str(logkey.Run, r.runID).Msg("store run progress")
		}
		r.wrote()
		if ev.written != nil {
			close(ev.written)
		}
	}
	w.flush(ctx)
}

func (r *Recorder) wrote() {
	if r.Changed != nil {
		r.Changed()
	}
}

func (r *Recorder) record(ctx context.Context, e engine.Event) error {
	switch e := e.(type) {
	case engine.StageStarted:
		return r.db.UpsertStage(ctx, store.Stage{RunID: r.runID, Name: e.Stage, Position: r.positions[e.Stage],
			Status: store.StatusInProgress, StartedAt: e.Time})
	case engine.ActionStarted:
		return r.db.RecordAction(ctx, store.Action{RunID: r.runID, Stage: e.Stage, Name: e.Action, Attempt: e.Attempt,
			Rollback: e.Rollback, Status: string(store.StatusInProgress), Started: e.Time})
	case engine.ActionFinished:
		res := e.Result
		return r.db.RecordAction(ctx, store.Action{RunID: r.runID, Stage: e.Stage, Name: e.Action, Attempt: e.Attempt,
			Rollback: e.Rollback, Status: string(res.Status), ExitCode: res.ExitCode, Reason: res.Reason,
			Started: res.Started, Duration: res.Duration})
	case engine.StageFinished:
		res := e.Result
		return r.db.UpsertStage(ctx, store.Stage{RunID: r.runID, Name: res.Name, Position: r.positions[res.Name],
			Status: store.StatusCompleted, Conclusion: string(res.Status), Reason: res.Reason,
			StartedAt: res.Started, FinishedAt: res.Started.Add(res.Duration), Outputs: res.Outputs, Artifacts: res.Artifacts})
	}
	return nil
}

package app

import (
	"context"
	"sync"

	"github.com/stagegate/stagegate/app/store"
	"github.com/stagegate/stagegate/pipeline/engine"
)

// logBatch is how many log lines are written in one transaction.
const logBatch = 256

// recorder writes a run's progress to the store: stages, action attempts
// and log lines. Observe hands events to a goroutine, so the engine waits
// on the database only when the buffer is full.
type recorder struct {
	db    *store.DB
	runID string
	// positions of the stages, for the stage rows.
	positions map[string]int

	events chan recorded
	done   sync.WaitGroup
}

// recorded is an event for the writer; written, when not nil, is closed
// once the event is in the store.
type recorded struct {
	e       engine.Event
	written chan struct{}
}

func newRecorder(db *store.DB, runID string, positions map[string]int) *recorder {
	return &recorder{db: db, runID: runID, positions: positions, events: make(chan recorded, 1024)}
}

// Start runs the writer until Close.
func (r *recorder) Start(ctx context.Context) {
	r.done.Add(1)
	go func() {
		defer r.done.Done()
		r.write(ctx)
	}()
}

// Observe implements engine.Observer. A finished stage is in the store
// before Observe returns, so before the next stage starts: a process that
// dies later resumes after it, with its outputs and artifacts.
func (r *recorder) Observe(e engine.Event) {
	if _, ok := e.(engine.StageFinished); !ok {
		r.events <- recorded{e: e}
		return
	}
	written := make(chan struct{})
	r.events <- recorded{e: e, written: written}
	<-written
}

// Close waits until every event observed has been written.
func (r *recorder) Close() {
	close(r.events)
	r.done.Wait()
}

func (r *recorder) write(ctx context.Context) {
	var lines []store.LogLine
	flush := func() {
		if len(lines) == 0 {
			return
		}
		if err := r.db.AppendLogLines(ctx, lines); err != nil {
			logger(ctx).Error().Err(err).Str(logKeyRun, r.runID).Msg("store log lines")
		}
		lines = lines[:0]
	}
	for ev := range r.events {
		e := ev.e
		if l, ok := e.(engine.LogLine); ok {
			lines = append(lines, store.LogLine{RunID: r.runID, Stage: l.Stage, Action: l.Action, Attempt: l.Attempt,
				Rollback: l.Rollback, Stream: string(l.Stream), Time: l.Time, Text: l.Text})
			// Write when the batch is full or the engine has gone quiet.
			if len(lines) >= logBatch || len(r.events) == 0 {
				flush()
			}
			continue
		}
		flush()
		if err := r.record(ctx, e); err != nil {
			logger(ctx).Error().Err(err).Str(logKeyRun, r.runID).Msg("store run progress")
		}
		if ev.written != nil {
			close(ev.written)
		}
	}
	flush()
}

func (r *recorder) record(ctx context.Context, e engine.Event) error {
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

// observers fans events out to several observers, in order.
type observers []engine.Observer

func (o observers) Observe(e engine.Event) {
	for _, ob := range o {
		ob.Observe(e)
	}
}

package checks

import (
	"context"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/rs/zerolog"
)

// Log field keys.
const (
	keyRun      = "run"
	keyStage    = "stage"
	keyCheckRun = "check_run"
	keyCheck    = "check"
)

// loop is the Reporter's goroutine: it makes the queued writes in order,
// then progress updates as the throttle allows, one request at a time,
// since GitHub's secondary rate limits punish concurrent writes. It
// returns when Close has been called and every queued write is made, or
// when ctx ends.
func (r *Reporter) loop(ctx context.Context, log *zerolog.Logger) {
	defer close(r.done)
	defer r.cancel()
	var timer <-chan time.Time
	var timerAt time.Time
	for {
		if ctx.Err() != nil {
			r.abandon(ctx, log)
			return
		}
		r.mu.Lock()
		var next op
		pending := len(r.m.ops) > 0
		if pending {
			next = r.m.ops[0]
			r.m.ops = r.m.ops[1:]
		}
		closed := r.closed
		r.mu.Unlock()
		if pending {
			r.safely(log, func() { r.exec(ctx, log, next) })
			continue
		}
		if closed {
			return
		}
		now := r.clock.Now()
		due, ok := r.progressDue(ctx, log, now)
		if ok {
			continue
		}
		if !due.IsZero() && (timer == nil || due.Before(timerAt)) {
			timer, timerAt = r.clock.After(due.Sub(now)), due
		}
		select {
		case <-r.wake:
		case <-timer:
			timer = nil
		case <-ctx.Done():
		}
	}
}

// abandon records that writes were left unmade, for Close to report.
func (r *Reporter) abandon(ctx context.Context, log *zerolog.Logger) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n := len(r.m.ops); n > 0 {
		err := fmt.Errorf("%d writes abandoned: %w", n, context.Cause(ctx))
		r.errs = append(r.errs, err)
		log.Warn().Err(err).Msg("check runs left unwritten")
	}
}

// safely runs f, turning a panic into a log entry: the Reporter runs
// inside a server that serves many repositories, which one bad render
// must not bring down.
func (r *Reporter) safely(log *zerolog.Logger, f func()) {
	defer func() {
		if p := recover(); p != nil {
			log.Error().Str("panic", fmt.Sprint(p)).Bytes("stack", debug.Stack()).Msg("writing check runs panicked")
		}
	}()
	f()
}

// progressDue sends the first progress update that is due, if any, and
// reports whether it did; otherwise it returns when the next one falls
// due, or the zero time when none waits. Only a check that exists, shows
// less than is known and has no completing write queued gets one: the
// completing write carries the latest state anyway.
func (r *Reporter) progressDue(ctx context.Context, log *zerolog.Logger, now time.Time) (time.Time, bool) {
	if r.opts.Throttle < 0 {
		return time.Time{}, false
	}
	throttle := r.opts.Throttle
	if r.opts.Pace != nil {
		// Asked outside r.mu: the client's budget has a lock of its own.
		throttle = max(throttle, r.opts.Pace(throttle))
	}
	r.mu.Lock()
	var earliest time.Time
	var pick *checkState
	var stage *stageState
	consider := func(c *checkState, st *stageState) {
		if pick != nil || c.id == 0 || !c.dirty || c.final {
			return
		}
		due := c.lastWrite.Add(throttle)
		if !due.After(now) {
			pick, stage = c, st
			return
		}
		if earliest.IsZero() || due.Before(earliest) {
			earliest = due
		}
	}
	consider(&r.m.summary, nil)
	for _, st := range r.m.stages {
		// A check that shows a gate is the gate's to write.
		if !st.startedAt.IsZero() && !st.check.concluded {
			consider(&st.check, st)
		}
	}
	r.mu.Unlock()
	if pick == nil {
		return earliest, false
	}
	r.safely(log, func() { r.progress(ctx, log, stage) })
	return time.Time{}, true
}

package replica

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/stagegate/stagegate/app/store"
)

// ErrHeldElsewhere is returned by Hold when another replica holds the
// run's live lease.
var ErrHeldElsewhere = errors.New("another replica holds the run's lease")

// Hold claims the run's lease for this replica and registers how to stop
// the run: when the lease is lost, or a cancel is requested anywhere.
// Claim it before the run starts, and Release it once the run's end is
// recorded. A cancel requested before Hold reaches the run at once.
//
// A run this replica already holds is refused too: a second job for one
// run (queued again at start) must not take over, and then release, the
// lease of the run executing here.
func (r *Replica) Hold(ctx context.Context, runID string, stop context.CancelCauseFunc) error {
	r.mu.Lock()
	_, held := r.held[runID]
	_, claiming := r.claiming[runID]
	if !held && !claiming {
		r.claiming[runID] = struct{}{}
	}
	r.mu.Unlock()
	if held || claiming {
		return fmt.Errorf("run %s executes here already: %w", runID, ErrHeldElsewhere)
	}
	ok, err := r.opts.DB.ClaimRun(ctx, runID, r.opts.Owner, r.opts.Now(), r.opts.TTL)
	if err != nil || !ok {
		r.mu.Lock()
		delete(r.claiming, runID)
		r.mu.Unlock()
		if err != nil {
			return err
		}
		return fmt.Errorf("run %s: %w", runID, ErrHeldElsewhere)
	}
	r.mu.Lock()
	delete(r.claiming, runID)
	r.held[runID] = stop
	cause, cancelled := r.early[runID]
	delete(r.early, runID)
	r.mu.Unlock()
	if cancelled {
		stop(cause)
	}
	r.takeCancels(ctx)
	return nil
}

// Release gives the run's lease back and forgets it.
func (r *Replica) Release(ctx context.Context, runID string) {
	r.mu.Lock()
	delete(r.held, runID)
	delete(r.gating, runID)
	delete(r.early, runID)
	r.mu.Unlock()
	if _, err := r.opts.DB.ReleaseRun(ctx, runID, r.opts.Owner); err != nil {
		r.opts.Log.Warn().Err(err).Str("run", runID).Msg("release the run's lease; it will lapse")
	}
}

// Stop cancels a run executing here with cause, and reports whether it
// was.
func (r *Replica) Stop(runID string, cause error) bool {
	r.mu.Lock()
	stop, ok := r.held[runID]
	r.mu.Unlock()
	if ok {
		stop(cause)
	}
	return ok
}

// StopAll cancels every run executing here with cause.
func (r *Replica) StopAll(cause error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, stop := range r.held {
		stop(cause)
	}
}

// Gating marks the run as waiting at a deploy gate until the returned
// function is called: a replica stopping hands such runs back at once
// (StopGating) rather than waiting for a gate that may wait for hours.
func (r *Replica) Gating(runID string) (done func()) {
	r.mu.Lock()
	r.gating[runID] = struct{}{}
	r.mu.Unlock()
	return func() {
		r.mu.Lock()
		delete(r.gating, runID)
		r.mu.Unlock()
	}
}

// StopGating cancels the runs waiting at a deploy gate here with cause,
// and reports how many.
func (r *Replica) StopGating(cause error) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for id := range r.gating {
		if stop, ok := r.held[id]; ok {
			stop(cause)
			n++
		}
	}
	return n
}

// RequestCancel asks for the run to be cancelled wherever it executes:
// at once when it executes here, and through the store (a notification,
// and the owner's next heartbeat) otherwise. It reports whether the run
// executes here.
func (r *Replica) RequestCancel(ctx context.Context, runID string, cause error) (bool, error) {
	if r.Stop(runID, cause) {
		return true, nil
	}
	if _, err := r.opts.DB.RequestCancel(ctx, runID, cause.Error(), r.opts.Now()); err != nil {
		return false, err
	}
	return false, nil
}

// beat renews the lease of every run executing here; a run whose lease
// was lost is stopped with ErrLeaseLost. Then it takes the cancels
// requested for them, in case a notification was missed.
func (r *Replica) beat(ctx context.Context) {
	r.mu.Lock()
	ids := make([]string, 0, len(r.held))
	for id := range r.held {
		ids = append(ids, id)
	}
	r.mu.Unlock()
	for _, id := range ids {
		ok, err := r.opts.DB.HeartbeatRun(ctx, id, r.opts.Owner, r.opts.Now(), r.opts.TTL)
		if err != nil {
			// Not lost yet: the lease lives until it lapses, and the next
			// heartbeat may get through.
			r.opts.Log.Warn().Err(err).Str("run", id).Msg("renew the run's lease")
			continue
		}
		if !ok && r.reclaim(ctx, id) {
			r.opts.Log.Warn().Str("run", id).Msg("the run's lease lapsed before its heartbeat, and no other replica had taken it: claimed again")
			continue
		}
		if !ok {
			r.opts.Log.Error().Str("run", id).Msg("the run's lease was lost; stopping it here")
			r.mu.Lock()
			stop := r.held[id]
			delete(r.held, id)
			r.mu.Unlock()
			if stop != nil {
				stop(ErrLeaseLost)
			}
		}
	}
	if len(ids) > 0 {
		r.takeCancels(ctx)
	}
}

// takeCancels stops the runs executing here that were asked to cancel.
func (r *Replica) takeCancels(ctx context.Context) {
	reqs, err := r.opts.DB.TakeCancels(ctx, r.opts.Owner, r.opts.Now())
	if err != nil {
		if ctx.Err() == nil {
			r.opts.Log.Warn().Err(err).Msg("read cancel requests")
		}
		return
	}
	for _, c := range reqs {
		cause := errors.New(c.Reason)
		if r.opts.Cancelled != nil {
			cause = r.opts.Cancelled(c.Reason)
		}
		r.mu.Lock()
		stop, ok := r.held[c.RunID]
		if !ok {
			// Claimed by Hold, which is about to register it.
			r.early[c.RunID] = cause
		}
		r.mu.Unlock()
		if ok {
			stop(cause)
		}
	}
}

// TakeOver claims the lapsed leases of runs, and the runs in progress
// that no replica holds, and recovers each (Options.Recover); among
// replicas doing this at once, each run is claimed by one. It reports how
// many runs it recovered.
func (r *Replica) TakeOver(ctx context.Context) int {
	now := r.opts.Now()
	expired, err := r.opts.DB.ExpiredLeases(ctx, now)
	if err != nil {
		if ctx.Err() == nil {
			r.opts.Log.Warn().Err(err).Msg("list lapsed leases")
		}
		return 0
	}
	n := 0
	for _, l := range expired {
		if r.recover(ctx, l.RunID) {
			n++
		}
	}
	return n
}

// RecoverOrphans recovers the runs in progress that hold no live lease:
// those left by a process that died, once their leases lapsed, and those
// of a version that took none. Called at start.
func (r *Replica) RecoverOrphans(ctx context.Context) (int, error) {
	if r.opts.Exclusive {
		if _, err := r.opts.DB.DropLeasesExcept(ctx, r.opts.Owner); err != nil {
			return 0, err
		}
	}
	runs, err := r.opts.DB.RunsInProgress(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, run := range runs {
		if r.recover(ctx, run.ID) {
			n++
		}
	}
	return n, nil
}

func (r *Replica) recover(ctx context.Context, runID string) bool {
	r.mu.Lock()
	_, mine := r.held[runID]
	r.mu.Unlock()
	if mine {
		return false
	}
	ok, err := r.opts.DB.ClaimRun(ctx, runID, r.opts.Owner, r.opts.Now(), r.opts.TTL)
	if err != nil || !ok {
		if err != nil && ctx.Err() == nil {
			r.opts.Log.Warn().Err(err).Str("run", runID).Msg("claim a lapsed lease")
		}
		return false
	}
	// Released once the run has ended; after a failed recovery the lease
	// is left to lapse, so that a later pass (here or elsewhere) tries
	// again.
	recovered := false
	defer func() {
		r.mu.Lock()
		delete(r.early, runID)
		r.mu.Unlock()
		if !recovered {
			return
		}
		if _, err := r.opts.DB.ReleaseRun(context.WithoutCancel(ctx), runID, r.opts.Owner); err != nil {
			r.opts.Log.Warn().Err(err).Str("run", runID).Msg("release a recovered run's lease")
		}
	}()
	run, err := r.opts.DB.GetRun(ctx, runID)
	if err != nil {
		r.opts.Log.Error().Err(err).Str("run", runID).Msg("load a run to take over")
		return false
	}
	if run.Status != store.StatusInProgress {
		// It ended before its lease was released.
		recovered = true
		return false
	}
	// Recovery calls GitHub: the lease is renewed meanwhile, so it does
	// not lapse under a slow recovery and get taken by a third replica.
	rctx, cancel := context.WithCancel(ctx)
	beating := make(chan struct{})
	defer func() { cancel(); <-beating }()
	go func() {
		defer close(beating)
		t := time.NewTicker(r.opts.Beat)
		defer t.Stop()
		for {
			select {
			case <-rctx.Done():
				return
			case <-t.C:
				_, _ = r.opts.DB.HeartbeatRun(rctx, runID, r.opts.Owner, r.opts.Now(), r.opts.TTL)
			}
		}
	}()
	r.opts.Log.Warn().Str("run", runID).Msg("taking over a run whose replica stopped")
	if err := r.opts.Recover(rctx, run); err != nil {
		r.opts.Log.Error().Err(err).Str("run", runID).Msg("take over a run; trying again once its lease lapses")
		return false
	}
	recovered = true
	if err := r.opts.DB.LeaveDeployLines(context.WithoutCancel(ctx), runID); err != nil {
		r.opts.Log.Warn().Err(err).Str("run", runID).Msg("free the deploy lines of a run taken over")
	}
	return true
}

// reclaim claims again a lease whose heartbeat came too late (a busy
// database), and reports whether the run is still this replica's to
// work: the claim succeeds only when no other replica holds the lease,
// and a replica that took the run over holds it until the run has ended
// (Recover), so a run still in progress was not taken over.
func (r *Replica) reclaim(ctx context.Context, runID string) bool {
	ok, err := r.opts.DB.ClaimRun(ctx, runID, r.opts.Owner, r.opts.Now(), r.opts.TTL)
	if err != nil || !ok {
		return false
	}
	run, err := r.opts.DB.GetRun(ctx, runID)
	if err == nil && run.Status == store.StatusInProgress {
		return true
	}
	_, _ = r.opts.DB.ReleaseRun(ctx, runID, r.opts.Owner)
	return false
}

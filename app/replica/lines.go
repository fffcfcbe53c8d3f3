package replica

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/stagegate/stagegate/app/store"
)

// WakeGates tells the deploy gates watching repo@sha, on every replica,
// to look again.
func (r *Replica) WakeGates(ctx context.Context, repo, sha string) {
	if err := r.opts.DB.Notify(ctx, GateChannel, repo+"@"+sha); err != nil {
		r.opts.Log.Warn().Err(err).Str("repo", repo).Msg("notify the deploy gates; waking this replica's only")
		r.wakeLocal(repo + "@" + sha)
	}
}

// wakeLocal wakes this process's gates on payload "repo@sha", and all
// of them on "" (subscribed again after notifications were lost).
func (r *Replica) wakeLocal(payload string) {
	if payload == "" {
		if r.opts.WakeAll != nil {
			r.opts.WakeAll()
		}
		return
	}
	repo, sha, ok := strings.Cut(payload, "@")
	if !ok || r.opts.Wake == nil {
		return
	}
	r.opts.Wake(repo, sha)
}

func (r *Replica) deployChanged() {
	r.mu.Lock()
	defer r.mu.Unlock()
	close(r.deploys)
	r.deploys = make(chan struct{})
}

func (r *Replica) deployChanges() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.deploys
}

// AcquireEnvironment waits for the environment's deploy lock, in line
// with the runs of every replica (first come, first served), and returns
// how to give it back. The run must hold its lease (Hold): a run whose
// lease lapses loses its place. It looks again when a lock is released
// anywhere, and every TTL, when a holder that died frees the line
// without a word.
func (r *Replica) AcquireEnvironment(ctx context.Context, repo, env, runID string) (release func(), err error) {
	db := r.opts.DB
	if err := db.EnqueueDeploy(ctx, repo, env, runID, r.opts.Now()); err != nil {
		return nil, err
	}
	released := func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if _, err := db.ReleaseDeploy(ctx, repo, env, runID); err != nil {
			r.opts.Log.Error().Err(err).Str("run", runID).Str("environment", env).Msg("release the environment; it frees when the run's lease lapses")
		}
	}
	t := time.NewTicker(r.opts.TTL)
	defer t.Stop()
	for {
		changed := r.deployChanges()
		ok, err := db.TryAcquireDeploy(ctx, repo, env, runID, r.opts.Now())
		if errors.Is(err, store.ErrNotFound) {
			// Dropped from the line: the lease lapsed a moment. In line
			// again, at the end.
			err = db.EnqueueDeploy(ctx, repo, env, runID, r.opts.Now())
		}
		if err != nil {
			released()
			return nil, err
		}
		if ok {
			var once sync.Once
			return func() { once.Do(released) }, nil
		}
		select {
		case <-changed:
		case <-t.C:
		case <-ctx.Done():
			released()
			return nil, context.Cause(ctx)
		}
	}
}

// EnvironmentHolder is the run deploying to the environment now, on any
// replica, or "".
func (r *Replica) EnvironmentHolder(ctx context.Context, repo, env string) string {
	h, err := r.opts.DB.DeployHolder(ctx, repo, env, r.opts.Now())
	if err != nil {
		r.opts.Log.Warn().Err(err).Str("environment", env).Msg("read the environment's holder")
		return ""
	}
	return h
}

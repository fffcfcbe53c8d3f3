package replica

import (
	"context"
	"time"
)

// Lead reports whether this replica plays the named role for the next
// ttl: it claims it, or renews its claim. Among replicas one plays it at
// a time; when its holder stops renewing, another takes it after ttl.
func (r *Replica) Lead(ctx context.Context, role string, ttl time.Duration) bool {
	ok, err := r.opts.DB.ClaimRole(ctx, role, r.opts.Owner, r.opts.Now(), ttl)
	if err != nil {
		if ctx.Err() == nil {
			r.opts.Log.Warn().Err(err).Str("role", role).Msg("claim a role")
		}
		return false
	}
	return ok
}

// Resign gives up the role, so another replica takes it at once.
func (r *Replica) Resign(ctx context.Context, role string) {
	if err := r.opts.DB.ReleaseRole(ctx, role, r.opts.Owner); err != nil {
		r.opts.Log.Warn().Err(err).Str("role", role).Msg("give up a role")
	}
}

// livenessPrefix names the role each replica holds while it lives.
const livenessPrefix = "replica:"

func (r *Replica) liveness() string { return livenessPrefix + r.opts.Owner }

// rescueJobs gives back the queue's jobs that replicas which died were
// working: deliveries being processed, mostly (a run's job does nothing
// when it comes again, since its run was taken over). One replica takes
// each dead one's jobs.
func (r *Replica) rescueJobs(ctx context.Context) {
	dead, err := r.opts.DB.LapsedRoles(ctx, livenessPrefix, r.opts.Now())
	if err != nil {
		if ctx.Err() == nil {
			r.opts.Log.Warn().Err(err).Msg("list replicas that stopped")
		}
		return
	}
	for role, owner := range dead {
		if !r.Lead(ctx, role, r.opts.TTL) {
			continue
		}
		n, err := r.opts.DB.RescueJobsOf(ctx, owner)
		if err != nil {
			r.opts.Log.Error().Err(err).Str("replica", owner).Msg("give back the jobs of a replica that stopped")
			continue
		}
		r.opts.Log.Warn().Str("replica", owner).Int64("jobs", n).Msg("gave back the jobs of a replica that stopped")
		r.Resign(ctx, role)
	}
}

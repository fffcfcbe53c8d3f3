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

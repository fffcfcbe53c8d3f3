package runs

import (
	"context"
	"errors"
	"time"

	"github.com/stagegate/stagegate/app/ghclient"
	"github.com/stagegate/stagegate/checks"
)

// WithBudget ties a run's check reporter to its installation's API
// budget: progress updates are stretched as the budget shrinks, sent
// after every other write, and given up (to be sent later) rather than
// delay a conclusion.
func (a *Runs) WithBudget(ctx context.Context, installation int64, o checks.Options) checks.Options {
	o.Throttle = a.cfg.ProgressEvery
	o.Pace = func(d time.Duration) time.Duration { return a.gh.ProgressInterval(ctx, installation, d) }
	o.ProgressContext = ghclient.AsProgress
	o.Unsent = func(err error) bool { return errors.Is(err, ghclient.ErrDeferred) }
	return o
}

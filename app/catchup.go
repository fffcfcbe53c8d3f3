package app

import (
	"context"
	"sync"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/stagegate/stagegate/app/housekeeping"
	"github.com/stagegate/stagegate/app/logkey"
	"github.com/stagegate/stagegate/app/store"
	"github.com/stagegate/stagegate/app/webhook"
)

// defaultCatchUpEvery is the time between passes of the background.
const defaultCatchUpEvery = 5 * time.Minute

// background runs the App's periodic work: at start, logging the
// installations it can see; then, every interval, the catch-up of missed
// deliveries. Start starts it and Stop waits for it.
type background struct {
	cancel context.CancelFunc
	done   sync.WaitGroup
}

func (a *App) startBackground(ctx context.Context) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a.bg.cancel = cancel
	a.bg.done.Add(1)
	go func() {
		defer a.bg.done.Done()
		a.logInstallations(ctx)
		every := a.opts.CatchUpEvery
		if every <= 0 {
			every = defaultCatchUpEvery
		}
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			// Artifacts are this replica's own; the store is shared.
			housekeeping.PruneArtifacts(ctx, a.cfg.DataDir)
			if a.leadsHousekeeping(ctx, every) {
				a.housekeep(ctx)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

func (a *App) stopBackground() {
	if a.bg.cancel != nil {
		a.bg.cancel()
		a.bg.done.Wait()
		// Another replica takes the housekeeping at once.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		a.replica.Resign(ctx, housekeepingRole)
	}
}

// logInstallations logs every installation the App can see, and records
// them, so an admin sees at start which organisations are served.
func (a *App) logInstallations(ctx context.Context) {
	client, err := a.gh.App()
	if err != nil {
		logger(ctx).Error().Err(err).Msg("app client")
		return
	}
	opts := &github.ListOptions{PerPage: 100}
	n := 0
	for {
		// What a page says is as old as the request for it.
		asOf := time.Now()
		insts, resp, err := client.Apps.ListInstallations(ctx, opts)
		if err != nil {
			logger(ctx).Warn().Err(err).Msg("list installations")
			return
		}
		for _, inst := range insts {
			n++
			suspended := inst.SuspendedAt != nil
			logger(ctx).Info().Int64(logkey.Installation, inst.GetID()).Str("account", inst.GetAccount().GetLogin()).
				Str("type", inst.GetAccount().GetType()).Bool("suspended", suspended).
				Str("repositories", inst.GetRepositorySelection()).Msg("installation")
			if err := a.db.UpsertInstallation(ctx, store.Installation{ID: inst.GetID(), AccountLogin: inst.GetAccount().GetLogin(),
				AccountType: inst.GetAccount().GetType(), Suspended: suspended, UpdatedAt: asOf}); err != nil {
				logger(ctx).Error().Err(err).Msg("record installation")
			}
			a.deploys.LogOrgDefault(ctx, inst)
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	logger(ctx).Info().Int("installations", n).Msg("installations seen")
}

// catchUp asks GitHub to redeliver the recent deliveries that failed and
// that stagegate never stored, and returns how many it asked for.
func (a *App) catchUp(ctx context.Context) (int, error) {
	client, err := a.gh.App()
	if err != nil {
		return 0, err
	}
	return webhook.CatchUp(ctx, client, a.db, a.metrics.redeliveries)
}

// housekeep is the store's share of the background, done by one replica
// at a time.
func (a *App) housekeep(ctx context.Context) {
	housekeeping.PruneExpired(ctx, a.db, a.retention(), time.Now())
	if err := housekeeping.ResendConclusions(ctx, a.db, a.gh); err != nil {
		logger(ctx).Warn().Err(err).Msg("send missed check conclusions")
	}
	if n, err := a.catchUp(ctx); err != nil {
		logger(ctx).Warn().Err(err).Msg("catch-up of missed deliveries")
	} else if n > 0 {
		logger(ctx).Info().Int("redelivered", n).Msg("asked GitHub to redeliver missed webhooks")
	}
}

// retention is how long log lines and deliveries are kept.
func (a *App) retention() time.Duration {
	if a.cfg.Retention <= 0 {
		return DefaultRetention
	}
	return a.cfg.Retention
}

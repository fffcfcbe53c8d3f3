package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/stagegate/stagegate/app/logkey"
	"github.com/stagegate/stagegate/app/rundirs"
	"github.com/stagegate/stagegate/app/store"
)

// GitHub does not redeliver a failed webhook by itself. The catch-up
// looks at the App's recent deliveries and asks GitHub to send again
// those that failed and that stagegate never stored. A redelivery keeps
// its GUID, so dedupe makes this safe to repeat.
const (
	// catchUpWindow is how far back the catch-up looks.
	catchUpWindow = 24 * time.Hour
	// catchUpMaxRedeliveries bounds one pass, so a long outage is
	// recovered over several passes instead of a burst.
	catchUpMaxRedeliveries = 50
	// catchUpMaxPages bounds the deliveries read in one pass.
	catchUpMaxPages = 20
	// defaultCatchUpEvery is the time between passes.
	defaultCatchUpEvery = 5 * time.Minute
)

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
			a.pruneArtifacts(ctx)
			a.pruneExpired(ctx, time.Now())
			if err := a.resendConclusions(ctx); err != nil {
				logger(ctx).Warn().Err(err).Msg("send missed check conclusions")
			}
			if n, err := a.catchUp(ctx); err != nil {
				logger(ctx).Warn().Err(err).Msg("catch-up of missed deliveries")
			} else if n > 0 {
				logger(ctx).Info().Int("redelivered", n).Msg("asked GitHub to redeliver missed webhooks")
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
			a.logOrgDefault(ctx, inst)
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
	failed, err := missedDeliveries(ctx, client, time.Now().Add(-catchUpWindow))
	if err != nil {
		return 0, err
	}
	if len(failed) == 0 {
		return 0, nil
	}
	guids := make([]string, 0, len(failed))
	for guid := range failed {
		guids = append(guids, guid)
	}
	known, err := a.db.KnownDeliveryGUIDs(ctx, guids)
	if err != nil {
		return 0, err
	}
	n := 0
	for guid, id := range failed {
		if known[guid] {
			// Stored, so processed: GitHub saw a failure (a timeout
			// after the answer, say) that was not one.
			continue
		}
		if n == catchUpMaxRedeliveries {
			logger(ctx).Warn().Int("left", len(failed)-n).Msg("more missed deliveries than one pass redelivers; the next pass continues")
			break
		}
		// GitHub answers 202: it redelivers after answering, which
		// go-github reports as an AcceptedError.
		var accepted *github.AcceptedError
		if _, _, err := client.Apps.RedeliverHookDelivery(ctx, id); err != nil && !errors.As(err, &accepted) {
			return n, fmt.Errorf("redeliver %s: %w", guid, err)
		}
		logger(ctx).Info().Str(logkey.Delivery, guid).Int64("hook_delivery", id).Msg("asked GitHub to redeliver")
		a.metrics.redeliveries.Inc()
		n++
	}
	return n, nil
}

// missedDeliveries reads the App's deliveries since cutoff, newest first,
// and returns, by GUID, the newest attempt of each delivery that no
// attempt got through.
func missedDeliveries(ctx context.Context, client *github.Client, cutoff time.Time) (map[string]int64, error) {
	failed, succeeded := map[string]int64{}, map[string]bool{}
	opts := &github.ListCursorOptions{PerPage: 100}
	for page := 0; page < catchUpMaxPages; page++ {
		deliveries, resp, err := client.Apps.ListHookDeliveries(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("list deliveries: %w", err)
		}
		old := false
		for _, d := range deliveries {
			if d.GetDeliveredAt().Before(cutoff) {
				old = true
				break
			}
			guid := d.GetGUID()
			if code := d.GetStatusCode(); code >= 200 && code < 300 {
				succeeded[guid] = true
				continue
			}
			if _, seen := failed[guid]; !seen {
				failed[guid] = d.GetID()
			}
		}
		if old || resp.Cursor == "" {
			break
		}
		opts.Cursor = resp.Cursor
	}
	for guid := range succeeded {
		delete(failed, guid)
	}
	return failed, nil
}

// artifactRetention is how long a run's artifacts are kept: long enough
// to re-run a stage or deploy later, bounded so a volume does not fill.
const artifactRetention = 14 * 24 * time.Hour

// pruneExpired deletes the log lines and processed deliveries older than
// the retention.
func (a *App) pruneExpired(ctx context.Context, now time.Time) {
	keep := a.cfg.Retention
	if keep <= 0 {
		keep = DefaultRetention
	}
	lines, deliveries, err := a.db.PruneBefore(ctx, now.Add(-keep))
	if err != nil {
		logger(ctx).Warn().Err(err).Msg("prune expired log lines and deliveries")
	}
	if lines > 0 || deliveries > 0 {
		logger(ctx).Info().Int64("log_lines", lines).Int64("deliveries", deliveries).Dur("retention", keep).Msg("pruned expired records")
	}
}

// pruneArtifacts removes the artifact stores of runs older than the
// retention.
func (a *App) pruneArtifacts(ctx context.Context) {
	for _, root := range rundirs.ArtifactRoots(a.cfg.DataDir) {
		entries, err := os.ReadDir(root)
		if err != nil {
			logger(ctx).Warn().Err(err).Msg("list artifact stores")
			continue
		}
		cutoff := time.Now().Add(-artifactRetention)
		for _, e := range entries {
			info, err := e.Info()
			if err != nil || !info.ModTime().Before(cutoff) {
				continue
			}
			if err := os.RemoveAll(filepath.Join(root, e.Name())); err != nil {
				logger(ctx).Warn().Err(err).Str(logkey.Run, e.Name()).Msg("remove old artifacts")
			}
		}
	}
}

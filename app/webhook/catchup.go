package webhook

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/go-github/v60/github"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/stagegate/stagegate/app/logkey"
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
)

// KnownDeliveries tells which of the GUIDs were stored.
type KnownDeliveries interface {
	KnownDeliveryGUIDs(ctx context.Context, guids []string) (map[string]bool, error)
}

// CatchUp asks GitHub, through the App's client, to redeliver the recent
// deliveries that failed and that stagegate never stored (known says
// which), and returns how many it asked for, counting each in
// redelivered.
func CatchUp(ctx context.Context, client *github.Client, known KnownDeliveries, redelivered prometheus.Counter) (int, error) {
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
	stored, err := known.KnownDeliveryGUIDs(ctx, guids)
	if err != nil {
		return 0, err
	}
	n := 0
	for guid, id := range failed {
		if stored[guid] {
			// Stored, so processed: GitHub saw a failure (a timeout
			// after the answer, say) that was not one.
			continue
		}
		if n == catchUpMaxRedeliveries {
			zerolog.Ctx(ctx).Warn().Int("left", len(failed)-n).Msg("more missed deliveries than one pass redelivers; the next pass continues")
			break
		}
		// GitHub answers 202: it redelivers after answering, which
		// go-github reports as an AcceptedError.
		var accepted *github.AcceptedError
		if _, _, err := client.Apps.RedeliverHookDelivery(ctx, id); err != nil && !errors.As(err, &accepted) {
			return n, fmt.Errorf("redeliver %s: %w", guid, err)
		}
		zerolog.Ctx(ctx).Info().Str(logkey.Delivery, guid).Int64("hook_delivery", id).Msg("asked GitHub to redeliver")
		redelivered.Inc()
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

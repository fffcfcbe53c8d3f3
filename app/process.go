package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/riverqueue/river"
	"github.com/rs/zerolog"

	"github.com/stagegate/stagegate/app/logkey"
	"github.com/stagegate/stagegate/app/outcome"
	"github.com/stagegate/stagegate/app/queue"
)

// deliveryWorker acts on one stored delivery.
type deliveryWorker struct {
	river.WorkerDefaults[queue.ProcessDeliveryArgs]
	app *App
}

// errIgnored marks a delivery that needs nothing done; its message is
// recorded as the delivery's result.
type errIgnored = outcome.Ignored

func (w *deliveryWorker) Work(ctx context.Context, job *river.Job[queue.ProcessDeliveryArgs]) error {
	a := w.app
	d, err := a.db.GetDelivery(ctx, job.Args.GUID)
	if err != nil {
		return fmt.Errorf("load delivery: %w", err)
	}
	log := a.log.With().Str(logkey.Delivery, d.GUID).Str(logkey.Event, d.Event).
		Int64(logkey.Installation, d.InstallationID).Str(logkey.Repo, d.Repo).Logger()
	ctx = log.WithContext(ctx)
	result, err := a.handlers.Process(ctx, d)
	var ign errIgnored
	switch {
	case errors.As(err, &ign):
		result = "ignored: " + ign.Why
		log.Debug().Str("result", result).Msg("delivery processed")
	case err != nil:
		log.Error().Err(err).Msg("delivery failed")
		if job.Attempt < job.MaxAttempts {
			return err
		}
		result = "failed: " + err.Error()
	default:
		log.Info().Str("result", result).Msg("delivery processed")
	}
	if err := a.db.MarkDeliveryProcessed(ctx, d.GUID, result); err != nil {
		return fmt.Errorf("mark delivery processed: %w", err)
	}
	return nil
}

func logger(ctx context.Context) *zerolog.Logger { return zerolog.Ctx(ctx) }

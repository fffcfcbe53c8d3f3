package runs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/stagegate/stagegate/app/ghevent"
	"github.com/stagegate/stagegate/app/logkey"
	"github.com/stagegate/stagegate/app/queue"
	"github.com/stagegate/stagegate/app/store"
	"github.com/stagegate/stagegate/checks"
	"github.com/stagegate/stagegate/pipeline"
)

// Cancellation marks the causes with which stagegate itself cancels a
// run for a reason of the run's own, as opposed to a process stopping.
type Cancellation interface {
	error
	Cancellation()
}

// errSuperseded is the cause given to a run cancelled by a newer one;
// why, when set, says more than the run's id. sameCommit marks a run
// taken over by another run of its commit, which reports the commit's
// checks: a run cancelled before it started then shows no check of its
// own, which would hide that run's.
type errSuperseded struct {
	by, why    string
	sameCommit bool
}

func (e errSuperseded) Error() string {
	if e.why != "" {
		return e.why
	}
	return "superseded by run " + e.by
}
func (errSuperseded) Cancellation() {}

// errCancelled is the cause given to a run cancelled by someone, or by
// its pull request closing.
type errCancelled struct{ why string }

func (e errCancelled) Error() string { return e.why }
func (errCancelled) Cancellation()   {}

// applyMode acts on the older runs of the same branch or pull request
// once a new run is queued. In superseded mode (the default) they are
// cancelled; in queued mode they are left to finish and the new run
// waits its turn (see FirstInLine); in parallel mode nothing happens.
func (a *Runs) applyMode(ctx context.Context, run store.Run, mode pipeline.Mode) {
	if mode != pipeline.ModeSuperseded && mode != "" {
		return
	}
	others, err := a.db.ActiveRunsForKey(ctx, run.Repo, run.ConcurrencyKey)
	if err != nil {
		logger(ctx).Error().Err(err).Str(logkey.Run, run.ID).Msg("list runs to supersede")
		return
	}
	mine := a.eventTime(ctx, run)
	for _, o := range others {
		if o.ID == run.ID {
			continue
		}
		// Deliveries are processed concurrently, so the run made last
		// may be for the older event: the event's arrival decides.
		if theirs := a.eventTime(ctx, o); theirs.After(mine) {
			a.Cancel(ctx, run, errSuperseded{by: o.ID})
			return
		}
		a.Cancel(ctx, o, errSuperseded{by: run.ID})
	}
}

// eventTime is when the delivery that made the run arrived, or, for a
// run without one, when the run was made.
func (a *Runs) eventTime(ctx context.Context, run store.Run) time.Time {
	if run.DeliveryGUID != "" {
		if d, err := a.db.GetDelivery(ctx, run.DeliveryGUID); err == nil {
			return d.ReceivedAt
		}
	}
	return run.CreatedAt
}

// Cancel stops a run with a reason: a running one through its
// context, so its checks end cancelled with the reason; a queued one by
// completing it before it starts.
func (a *Runs) Cancel(ctx context.Context, run store.Run, cause error) {
	var sup errSuperseded
	if errors.As(cause, &sup) {
		if err := a.db.MarkSuperseded(ctx, run.ID, sup.by); err != nil && !errors.Is(err, store.ErrRunFinished) {
			logger(ctx).Error().Err(err).Str(logkey.Run, run.ID).Msg("mark superseded")
		}
	}
	if a.executing.Stop(ctx, run, cause) {
		return
	}
	if run.Status != store.StatusQueued {
		return
	}
	err := a.db.FinishRun(ctx, run.ID, "cancelled", cause.Error())
	if errors.Is(err, store.ErrRunFinished) {
		return
	}
	if err != nil {
		logger(ctx).Error().Err(err).Str(logkey.Run, run.ID).Msg("cancel queued run")
		return
	}
	// The run made no check yet; one concluded check says what happened
	// to the commit, so a required check does not wait for it forever.
	if sup.sameCommit {
		return
	}
	if err := a.concludeUnstarted(ctx, run, cause.Error()); err != nil {
		logger(ctx).Error().Err(err).Str(logkey.Run, run.ID).Msg("conclude the check of a cancelled run")
	}
}

// concludeUnstarted creates the summary check of a run cancelled before
// it started, already concluded with the reason.
func (a *Runs) concludeUnstarted(ctx context.Context, run store.Run, reason string) error {
	client, err := a.gh.Installation(ctx, run.InstallationID)
	if err != nil {
		return err
	}
	owner, name := ghevent.SplitRepo(run.Repo)
	_, _, err = client.Checks.CreateCheckRun(ctx, owner, name, github.CreateCheckRunOptions{
		Name: checks.SummaryName, HeadSHA: run.SHA, ExternalID: github.String(checks.ExternalID(run.ID, "")),
		Status: github.String("completed"), Conclusion: github.String("cancelled"),
		Output: &github.CheckRunOutput{Title: github.String("Cancelled before it started"), Summary: github.String("Run `" + run.ID + "` did not start: " + reason + ".")},
	})
	return err
}

// FirstInLine reports whether a queued-mode run may start: no older run
// of its branch or pull request is still active.
func (a *Runs) FirstInLine(ctx context.Context, run store.Run) (bool, error) {
	active, err := a.db.ActiveRunsForKey(ctx, run.Repo, run.ConcurrencyKey)
	if err != nil {
		return false, fmt.Errorf("list runs ahead: %w", err)
	}
	return len(active) == 0 || active[0].ID == run.ID, nil
}

// StartNext queues the job of the next waiting run of the same branch or
// pull request, once a queued-mode run has finished.
func (a *Runs) StartNext(ctx context.Context, done store.Run) {
	if done.Mode != string(pipeline.ModeQueued) {
		return
	}
	active, err := a.db.ActiveRunsForKey(ctx, done.Repo, done.ConcurrencyKey)
	if err != nil || len(active) == 0 {
		return
	}
	next := active[0]
	if next.Status != store.StatusQueued {
		return
	}
	if _, err := a.queue.Insert(ctx, queue.RunArgs{RunID: next.ID}, nil); err != nil {
		logger(ctx).Error().Err(err).Str(logkey.Run, next.ID).Msg("queue next run")
	}
}

// Cancelled is the cause given to a run cancelled by someone, or by its
// pull request closing: why says which.
func Cancelled(why string) error { return errCancelled{why: why} }

package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/go-github/v60/github"
	"github.com/riverqueue/river"
	"github.com/rs/zerolog"

	"github.com/stagegate/stagegate/app/logkey"
	"github.com/stagegate/stagegate/app/outcome"
	"github.com/stagegate/stagegate/app/queue"
	"github.com/stagegate/stagegate/app/store"
)

// deliveryWorker acts on one stored delivery.
type deliveryWorker struct {
	river.WorkerDefaults[queue.ProcessDeliveryArgs]
	app *App
}

// errIgnored marks a delivery that needs nothing done; its message is
// recorded as the delivery's result.
type errIgnored = outcome.Ignored

func ignored(format string, args ...any) error { return outcome.Ignore(format, args...) }

func (w *deliveryWorker) Work(ctx context.Context, job *river.Job[queue.ProcessDeliveryArgs]) error {
	a := w.app
	d, err := a.db.GetDelivery(ctx, job.Args.GUID)
	if err != nil {
		return fmt.Errorf("load delivery: %w", err)
	}
	log := a.log.With().Str(logkey.Delivery, d.GUID).Str(logkey.Event, d.Event).
		Int64(logkey.Installation, d.InstallationID).Str(logkey.Repo, d.Repo).Logger()
	ctx = log.WithContext(ctx)
	result, err := a.process(ctx, d)
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

// process parses the delivery and hands it to the handler of its event.
func (a *App) process(ctx context.Context, d store.Delivery) (string, error) {
	event, err := github.ParseWebHook(d.Event, d.Payload)
	if err != nil {
		return "", ignored("unparseable %s payload: %v", d.Event, err)
	}
	if inst := installationOf(event); inst != 0 {
		if active, err := a.db.InstallationActive(ctx, inst); err == nil && !active {
			return "", ignored("installation %d is suspended or deleted", inst)
		}
	}
	switch e := event.(type) {
	case *github.PushEvent:
		return a.handlePush(ctx, d, e)
	case *github.PullRequestEvent:
		return a.handlePullRequest(ctx, d, e)
	case *github.CheckRunEvent:
		return a.handleCheckRun(ctx, d, e)
	case *github.CheckSuiteEvent:
		return a.handleCheckSuite(ctx, d, e)
	case *github.IssueCommentEvent:
		return a.comments.IssueComment(ctx, d, e)
	case *github.StatusEvent:
		return a.handleStatus(ctx, e)
	case *github.InstallationEvent:
		return a.handleInstallation(ctx, e)
	case *github.InstallationRepositoriesEvent:
		return a.handleInstallationRepositories(ctx, e)
	case *github.DeploymentProtectionRuleEvent:
		return a.deploys.ProtectionRule(ctx, d, e)
	}
	return "", ignored("no handler for %s", d.Event)
}

// installationOf is the installation an event came through, when the
// event is not about the installation itself.
func installationOf(event any) int64 {
	switch e := event.(type) {
	case *github.PushEvent:
		return e.GetInstallation().GetID()
	case *github.PullRequestEvent:
		return e.GetInstallation().GetID()
	case *github.CheckRunEvent:
		return e.GetInstallation().GetID()
	case *github.CheckSuiteEvent:
		return e.GetInstallation().GetID()
	case *github.IssueCommentEvent:
		return e.GetInstallation().GetID()
	case *github.StatusEvent:
		return e.GetInstallation().GetID()
	case *github.DeploymentProtectionRuleEvent:
		return e.GetInstallation().GetID()
	}
	return 0
}

func logger(ctx context.Context) *zerolog.Logger { return zerolog.Ctx(ctx) }

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

package housekeeping

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/go-github/v60/github"

	"github.com/stagegate/stagegate/app/ghevent"
	"github.com/stagegate/stagegate/app/logkey"
	"github.com/stagegate/stagegate/app/store"
	"github.com/stagegate/stagegate/checks"
	"github.com/stagegate/stagegate/pipeline/engine"
)

// ResendConclusions sends again the conclusions of the runs whose final
// check updates GitHub did not take (an outage, a 502 on the last PATCH:
// writes are not retried blindly), so that no check stays in progress.
// The store has every stage's conclusion and reason.
func ResendConclusions(ctx context.Context, db Store, gh Clients) error {
	runs, err := db.RunsWithUnsentChecks(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, run := range runs {
		if err := resendRun(ctx, db, gh, run); err != nil {
			errs = append(errs, fmt.Errorf("run %s: %w", run.ID, err))
			continue
		}
		if err := db.SetChecksUnsent(ctx, run.ID, false); err != nil {
			errs = append(errs, err)
		}
		logger(ctx).Info().Str(logkey.Run, run.ID).Msg("sent the run's conclusions that GitHub had missed")
	}
	return errors.Join(errs...)
}

func resendRun(ctx context.Context, db Store, gh Clients, run store.Run) error {
	client, err := gh.Installation(ctx, run.InstallationID)
	if err != nil {
		return err
	}
	stages, err := db.StagesForRun(ctx, run.ID)
	if err != nil {
		return err
	}
	owner, name := ghevent.SplitRepo(run.Repo)
	note := "\n\n_stagegate sent this conclusion again after GitHub did not take it at the end of the run._"
	update := func(id int64, checkName, conclusion, title, summary string) error {
		_, _, err := client.Checks.UpdateCheckRun(ctx, owner, name, id, github.UpdateCheckRunOptions{
			Name: checkName, Status: github.String("completed"), Conclusion: github.String(conclusion),
			Output: &github.CheckRunOutput{Title: github.String(title), Summary: github.String(summary + note)},
		})
		return err
	}
	for _, s := range stages {
		if s.CheckRunID == 0 || s.Status != store.StatusCompleted {
			continue
		}
		conclusion := checks.StageConclusion(engine.Status(s.Conclusion))
		summary := "**" + conclusion + "**"
		if s.Reason != "" {
			summary += ": " + s.Reason
		}
		if err := update(s.CheckRunID, checks.CheckName(s.Name), conclusion, s.Name+": "+conclusion, summary); err != nil {
			return err
		}
	}
	if run.SummaryCheckID != 0 {
		summary := "Run `" + run.ID + "`: **" + run.Conclusion + "**"
		if run.Reason != "" {
			summary += " (" + run.Reason + ")"
		}
		if err := update(run.SummaryCheckID, checks.SummaryName, run.Conclusion, "Run "+run.Conclusion, summary); err != nil {
			return err
		}
	}
	return nil
}

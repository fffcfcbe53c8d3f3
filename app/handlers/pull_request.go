package handlers

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/go-github/v60/github"

	"github.com/stagegate/stagegate/app/ghevent"
	"github.com/stagegate/stagegate/app/outcome"
	"github.com/stagegate/stagegate/app/store"
	"github.com/stagegate/stagegate/checks"
)

// pullRequestClosed is why the runs of a closed pull request are
// cancelled.
const pullRequestClosed = "the pull request was closed"

// handlePullRequest starts a run when a pull request is opened, pushed to,
// reopened or retargeted to another base branch, and cancels its runs
// when it is closed.
func (a *Handlers) handlePullRequest(ctx context.Context, d store.Delivery, e *github.PullRequestEvent) (string, error) {
	repo := ghevent.RepoFrom(e.GetInstallation(), e.GetRepo())
	action := e.GetAction()
	if action == "edited" {
		// A new base changes what on.pull_request.branches and the
		// changed files say; a title or description does not.
		if e.GetChanges().GetBase() == nil || e.GetPullRequest().GetState() != "open" {
			return "", outcome.Ignore("pull_request edited: the base branch did not change")
		}
		action = "retargeted"
	}
	switch action {
	case "opened", "synchronize", "reopened", "retargeted":
		ev, need, fork := ghevent.PullRequestEvent(e)
		if fork {
			waiting, err := a.awaitOkToTest(ctx, repo, ev.SHA, prPage(e.GetPullRequest()))
			if err != nil || waiting {
				return "", err
			}
		}
		return a.runs.Start(ctx, RunRequest{Repo: repo, Event: ev, Compare: need, Fork: fork, Delivery: d.GUID})
	case "closed":
		runs, err := a.db.RunsForPR(ctx, repo.FullName(), e.GetNumber())
		if err != nil {
			return "", fmt.Errorf("list runs of the pull request: %w", err)
		}
		n := 0
		for _, r := range runs {
			if r.Status != store.StatusCompleted {
				a.runs.Cancel(ctx, r, pullRequestClosed)
				n++
			}
		}
		return fmt.Sprintf("pull request #%d closed: %d runs cancelled", e.GetNumber(), n), nil
	}
	return "", outcome.Ignore("pull_request %s", e.GetAction())
}

// awaitOkToTest holds back a fork's commit until someone with write
// access comments /ok-to-test. Until then the pull request shows an
// action_required check saying so, linking the pull request where the
// comment goes: neutral would satisfy a required check and let the
// untested code merge, while action_required blocks it, as GitHub
// Actions' own wait for a fork's approval does. GitHub requires a
// details_url with action_required.
func (a *Handlers) awaitOkToTest(ctx context.Context, repo ghevent.RepoRef, sha, details string) (bool, error) {
	_, err := a.db.GetApproval(ctx, repo.FullName(), sha, store.ApprovalOkToTest, "")
	if err == nil {
		return false, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return false, err
	}
	// A fork may propose a commit that a trusted run of this repository
	// has already run (a fork starts with its parent's branches): those
	// checks are the commit's, and a newer "stagegate" would hide them.
	if trusted, err := a.runs.TrustedRunOf(ctx, repo.FullName(), sha); err != nil || trusted {
		if err != nil {
			return false, err
		}
		return true, outcome.Ignore("fork pull request waits for /ok-to-test on %s, which a trusted run reports", ghevent.ShortSHA(sha))
	}
	client, err := a.gh.Installation(ctx, repo.Installation)
	if err != nil {
		return false, fmt.Errorf("installation client: %w", err)
	}
	summary := "This pull request comes from a fork, so its code is not run until someone with write access " +
		"to the repository reviews it and comments `/ok-to-test`. The approval holds for commit " + ghevent.ShortSHA(sha) +
		" only; a new push needs a new one. Runs of forks never get secrets."
	_, _, err = client.Checks.CreateCheckRun(ctx, repo.Owner, repo.Name, github.CreateCheckRunOptions{
		Name: checks.SummaryName, HeadSHA: sha, Status: github.String("completed"), Conclusion: github.String("action_required"),
		DetailsURL: github.String(details),
		Output:     &github.CheckRunOutput{Title: github.String("Waiting for /ok-to-test"), Summary: github.String(summary)},
	})
	if err != nil {
		return false, fmt.Errorf("show the wait for /ok-to-test: %w", err)
	}
	return true, outcome.Ignore("fork pull request waits for /ok-to-test on %s", ghevent.ShortSHA(sha))
}

// prPage is the pull request's page on GitHub: its html_url, or else one
// made from the repository's.
func prPage(pr *github.PullRequest) string {
	if u := pr.GetHTMLURL(); u != "" {
		return u
	}
	return fmt.Sprintf("%s/pull/%d", pr.GetBase().GetRepo().GetHTMLURL(), pr.GetNumber())
}

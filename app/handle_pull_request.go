package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/go-github/v60/github"

	"github.com/stagegate/stagegate/app/store"
)

// errPullRequestClosed cancels the runs of a closed pull request.
var errPullRequestClosed = errors.New("the pull request was closed")

// handlePullRequest starts a run when a pull request is opened, pushed to
// or reopened, and cancels its runs when it is closed.
func (a *App) handlePullRequest(ctx context.Context, d store.Delivery, e *github.PullRequestEvent) (string, error) {
	repo := repoFrom(e.GetInstallation(), e.GetRepo())
	switch e.GetAction() {
	case "opened", "synchronize", "reopened":
		ev, need, fork := pullRequestEvent(e)
		return a.startRun(ctx, runRequest{repo: repo, event: ev, compare: need, fork: fork, delivery: d.GUID})
	case "closed":
		runs, err := a.db.RunsForPR(ctx, repo.FullName(), e.GetNumber())
		if err != nil {
			return "", fmt.Errorf("list runs of the pull request: %w", err)
		}
		n := 0
		for _, r := range runs {
			if r.Status != store.StatusCompleted {
				a.cancelRun(ctx, r, errPullRequestClosed)
				n++
			}
		}
		return fmt.Sprintf("pull request #%d closed: %d runs cancelled", e.GetNumber(), n), nil
	}
	return "", ignored("pull_request %s", e.GetAction())
}

package app

import (
	"context"

	"github.com/google/go-github/v60/github"

	"github.com/stagegate/stagegate/app/ghevent"
	"github.com/stagegate/stagegate/app/store"
)

// handlePush starts a run for a pushed branch or tag. Deletions start
// nothing.
func (a *App) handlePush(ctx context.Context, d store.Delivery, e *github.PushEvent) (string, error) {
	ev, need, skip := ghevent.PushEvent(e)
	if skip != "" {
		return "", ignored("%s", skip)
	}
	repo := ghevent.RepoRef{
		Installation:  e.GetInstallation().GetID(),
		Owner:         e.GetRepo().GetOwner().GetLogin(),
		Name:          e.GetRepo().GetName(),
		DefaultBranch: e.GetRepo().GetDefaultBranch(),
		CloneURL:      e.GetRepo().GetCloneURL(),
	}
	if repo.Owner == "" {
		repo.Owner = e.GetRepo().GetOwner().GetName()
	}
	return a.startRun(ctx, runRequest{repo: repo, event: ev, compare: need, delivery: d.GUID})
}

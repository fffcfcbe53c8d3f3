package handlers

import (
	"context"

	"github.com/google/go-github/v60/github"

	"github.com/stagegate/stagegate/app/ghevent"
	"github.com/stagegate/stagegate/app/outcome"
	"github.com/stagegate/stagegate/app/store"
)

// handlePush starts a run for a pushed branch or tag. Deletions start
// nothing.
func (a *Handlers) handlePush(ctx context.Context, d store.Delivery, e *github.PushEvent) (string, error) {
	ev, need, skip := ghevent.PushEvent(e)
	if skip != "" {
		return "", outcome.Ignore("%s", skip)
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
	return a.runs.Start(ctx, RunRequest{Repo: repo, Event: ev, Compare: need, Delivery: d.GUID})
}

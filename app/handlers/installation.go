package handlers

import (
	"context"
	"fmt"

	"github.com/google/go-github/v60/github"

	"github.com/stagegate/stagegate/app/store"
)

// handleInstallation records an installation being created, removed,
// suspended or given new permissions. The app serves every repository of
// an active installation.
func (a *Handlers) handleInstallation(ctx context.Context, e *github.InstallationEvent) (string, error) {
	inst := e.GetInstallation()
	rec := store.Installation{
		ID:           inst.GetID(),
		AccountLogin: inst.GetAccount().GetLogin(),
		AccountType:  inst.GetAccount().GetType(),
		Suspended:    inst.SuspendedAt != nil,
	}
	switch e.GetAction() {
	case "deleted":
		rec.Deleted = true
	case "suspend":
		rec.Suspended = true
	case "unsuspend":
		rec.Suspended = false
	}
	if err := a.db.UpsertInstallation(ctx, rec); err != nil {
		return "", fmt.Errorf("record installation: %w", err)
	}
	if e.GetAction() == "created" && len(e.Repositories) > 0 {
		if err := a.db.AddInstallationRepos(ctx, rec.ID, repoNames(e.Repositories)); err != nil {
			return "", fmt.Errorf("record installation repos: %w", err)
		}
	}
	return fmt.Sprintf("installation %d of %s %s", rec.ID, rec.AccountLogin, e.GetAction()), nil
}

func (a *Handlers) handleInstallationRepositories(ctx context.Context, e *github.InstallationRepositoriesEvent) (string, error) {
	inst := e.GetInstallation()
	if err := a.db.UpsertInstallation(ctx, store.Installation{
		ID: inst.GetID(), AccountLogin: inst.GetAccount().GetLogin(), AccountType: inst.GetAccount().GetType(),
	}); err != nil {
		return "", fmt.Errorf("record installation: %w", err)
	}
	if err := a.db.AddInstallationRepos(ctx, inst.GetID(), repoNames(e.RepositoriesAdded)); err != nil {
		return "", fmt.Errorf("record added repos: %w", err)
	}
	if err := a.db.RemoveInstallationRepos(ctx, inst.GetID(), repoNames(e.RepositoriesRemoved)); err != nil {
		return "", fmt.Errorf("record removed repos: %w", err)
	}
	return fmt.Sprintf("installation %d: %d repos added, %d removed", inst.GetID(), len(e.RepositoriesAdded), len(e.RepositoriesRemoved)), nil
}

func repoNames(repos []*github.Repository) []string {
	names := make([]string, 0, len(repos))
	for _, r := range repos {
		names = append(names, r.GetFullName())
	}
	return names
}

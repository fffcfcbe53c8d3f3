package runs

import (
	"context"
	"errors"
	"fmt"

	"github.com/stagegate/stagegate/app/ghevent"
	"github.com/stagegate/stagegate/app/store"
)

// CloneURL is where git fetches a run's repository: the clone_url GitHub
// gave in the delivery that started the run, else the one the repository
// API answers. It is never built from the API's address, since where git
// is served differs between github.com, GitHub Enterprise Server and
// GitHub Enterprise Cloud with data residency.
func (a *Runs) CloneURL(ctx context.Context, run store.Run) (string, error) {
	u, err := a.db.CloneURL(ctx, run.ID)
	if err != nil {
		return "", err
	}
	if u != "" {
		return u, nil
	}
	client, err := a.gh.Installation(ctx, run.InstallationID)
	if err != nil {
		return "", fmt.Errorf("installation client: %w", err)
	}
	owner, name := ghevent.SplitRepo(run.Repo)
	repo, _, err := client.Repositories.Get(ctx, owner, name)
	if err != nil {
		return "", fmt.Errorf("clone URL of %s: %w", run.Repo, err)
	}
	if repo.GetCloneURL() == "" {
		return "", errors.New("clone URL of " + run.Repo + ": GitHub gave none")
	}
	return repo.GetCloneURL(), nil
}

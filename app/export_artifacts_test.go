package app

import (
	"context"

	"github.com/stagegate/stagegate/app/store"
)

// FetchArtifacts gets, with the store a run of kind fork in repo would
// be given, what stage of run from stored, into dir.
func (a *App) FetchArtifacts(ctx context.Context, fork bool, repo, from, stage string, files []string, dir string) error {
	s, err := a.artifactStore(store.Run{ID: store.NewID(), Repo: repo, Fork: fork})
	if err != nil {
		return err
	}
	return s.Get(ctx, from, stage, files, dir)
}

package runs

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/stagegate/stagegate/app/logkey"
	"github.com/stagegate/stagegate/app/store"
)

// MoveLegacyDirs moves what an older version kept directly under the data
// dir into the trusted and untrusted roots: the artifact stores, which
// re-runs and resumed runs still need, go to the root of their run's
// kind; the scratch directories, emptied at every start anyway, are
// removed. A store whose run is unknown is left where it is.
func (a *Runs) MoveLegacyDirs(ctx context.Context) {
	log := logger(ctx)
	for _, name := range []string{"workspaces", "tmp"} {
		if err := os.RemoveAll(filepath.Join(a.cfg.DataDir, name)); err != nil {
			log.Warn().Err(err).Str("dir", name).Msg("remove an older version's scratch directory")
		}
	}
	old := filepath.Join(a.cfg.DataDir, "artifacts")
	entries, err := os.ReadDir(old)
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	if err != nil {
		log.Warn().Err(err).Msg("list an older version's artifact stores")
		return
	}
	for _, e := range entries {
		run, err := a.db.GetRun(ctx, e.Name())
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			log.Warn().Err(err).Str(logkey.Run, e.Name()).Msg("move an older version's artifact store")
			continue
		}
		if err := os.Rename(filepath.Join(old, e.Name()), a.dirs(run).Artifacts); err != nil {
			log.Warn().Err(err).Str(logkey.Run, e.Name()).Msg("move an older version's artifact store")
		}
	}
	// Removed once empty; what is left is kept for the operator.
	_ = os.Remove(old)
}

// Package housekeeping is the App's periodic upkeep, which the root's
// background calls: pruning what is past its retention (the store's log
// lines and deliveries, this disk's artifact stores) and sending again
// the check conclusions GitHub did not take (unsent.go).
package housekeeping

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"github.com/google/go-github/v60/github"
	"github.com/rs/zerolog"

	"github.com/stagegate/stagegate/app/logkey"
	"github.com/stagegate/stagegate/app/rundirs"
	"github.com/stagegate/stagegate/app/store"
)

// Store is what the housekeeping reads and prunes in the database.
type Store interface {
	PruneBefore(ctx context.Context, cutoff time.Time) (lines, deliveries int64, err error)
	RunsWithUnsentChecks(ctx context.Context) ([]store.Run, error)
	SetChecksUnsent(ctx context.Context, runID string, unsent bool) error
	StagesForRun(ctx context.Context, runID string) ([]store.Stage, error)
}

// Clients gives an installation's GitHub client.
type Clients interface {
	Installation(ctx context.Context, id int64) (*github.Client, error)
}

func logger(ctx context.Context) *zerolog.Logger { return zerolog.Ctx(ctx) }

// ArtifactRetention is how long a run's artifacts are kept: long enough
// to re-run a stage or deploy later, bounded so a volume does not fill.
const ArtifactRetention = 14 * 24 * time.Hour

// PruneExpired deletes the log lines and processed deliveries older than
// keep, the retention.
func PruneExpired(ctx context.Context, db Store, keep time.Duration, now time.Time) {
	lines, deliveries, err := db.PruneBefore(ctx, now.Add(-keep))
	if err != nil {
		logger(ctx).Warn().Err(err).Msg("prune expired log lines and deliveries")
	}
	if lines > 0 || deliveries > 0 {
		logger(ctx).Info().Int64("log_lines", lines).Int64("deliveries", deliveries).Dur("retention", keep).Msg("pruned expired records")
	}
}

// PruneArtifacts removes the artifact stores in dataDir of runs older
// than ArtifactRetention. Each replica prunes its own disk.
func PruneArtifacts(ctx context.Context, dataDir string) {
	for _, root := range rundirs.ArtifactRoots(dataDir) {
		entries, err := os.ReadDir(root)
		if err != nil {
			logger(ctx).Warn().Err(err).Msg("list artifact stores")
			continue
		}
		cutoff := time.Now().Add(-ArtifactRetention)
		for _, e := range entries {
			info, err := e.Info()
			if err != nil || !info.ModTime().Before(cutoff) {
				continue
			}
			if err := os.RemoveAll(filepath.Join(root, e.Name())); err != nil {
				logger(ctx).Warn().Err(err).Str(logkey.Run, e.Name()).Msg("remove old artifacts")
			}
		}
	}
}

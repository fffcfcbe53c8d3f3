package app

import (
	"context"
	"strings"
	"time"

	"github.com/stagegate/stagegate/app/housekeeping"
)

// DeliveryResult is what processing a delivery came to, and whether it
// has been processed; for tests that must wait for one delivery before
// sending the next.
func (a *App) DeliveryResult(ctx context.Context, guid string) (string, bool) {
	d, err := a.db.GetDelivery(ctx, guid)
	if err != nil || d.ProcessedAt.IsZero() {
		return "", false
	}
	return d.Result, true
}

// CatchUp runs one pass of the catch-up of missed deliveries now.
func (a *App) CatchUp(ctx context.Context) (int, error) { return a.catchUp(ctx) }

// ResendConclusions runs the background's resending of missed check
// conclusions now.
func (a *App) ResendConclusions(ctx context.Context) error {
	return housekeeping.ResendConclusions(ctx, a.db, a.gh)
}

// RunFinished reports whether the latest run for sha in the repo has
// completed.
func (a *App) RunFinished(ctx context.Context, repo, sha string) bool {
	run, err := a.db.LatestRunForSHA(ctx, repo, sha)
	return err == nil && run.Status == "completed"
}

// RunsForSHA counts the runs made for a commit.
func (a *App) RunsForSHA(ctx context.Context, repo, sha string) int {
	runs, err := a.db.RunsForSHA(ctx, repo, sha)
	if err != nil {
		return -1
	}
	return len(runs)
}

// DeliveryStored reports whether a delivery was stored at all.
func (a *App) DeliveryStored(ctx context.Context, guid string) bool {
	_, err := a.db.GetDelivery(ctx, guid)
	return err == nil
}

// StoredLog is what the store holds of the log lines of every run: how
// many lines, their bytes, and the texts in order.
func (a *App) StoredLog(ctx context.Context) (n int, size int64, texts []string, err error) {
	rows, err := a.db.SQL().QueryContext(ctx, `SELECT line FROM log_lines ORDER BY run_id, seq`)
	if err != nil {
		return 0, 0, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return 0, 0, nil, err
		}
		n++
		size += int64(len(s))
		texts = append(texts, s)
	}
	return n, size, texts, rows.Err()
}

// PruneExpiredAt runs the background's pruning of expired records as if
// it were now.
func (a *App) PruneExpiredAt(ctx context.Context, now time.Time) {
	housekeeping.PruneExpired(ctx, a.db, a.retention(), now)
}

// DBPath is the SQLite file of the app's database.
func (a *App) DBPath() string { return strings.TrimPrefix(a.cfg.Database, "sqlite://") }

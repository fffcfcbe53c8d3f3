package app

import "context"

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
func (a *App) ResendConclusions(ctx context.Context) error { return a.resendConclusions(ctx) }

// RunFinished reports whether the latest run for sha in the repo has
// completed.
func (a *App) RunFinished(ctx context.Context, repo, sha string) bool {
	run, err := a.db.LatestRunForSHA(ctx, repo, sha)
	return err == nil && run.Status == "completed"
}

// RunsForSHA counts the runs made for a commit.
func (a *App) RunsForSHA(ctx context.Context, repo, sha string) int {
	var n int
	if err := a.db.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM runs WHERE repo = ? AND sha = ?`, repo, sha).Scan(&n); err != nil {
		return -1
	}
	return n
}

// DeliveryStored reports whether a delivery was stored at all.
func (a *App) DeliveryStored(ctx context.Context, guid string) bool {
	_, err := a.db.GetDelivery(ctx, guid)
	return err == nil
}

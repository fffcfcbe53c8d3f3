package store

import "context"

// RunsForSHA lists the runs of a commit, newest first.
func (db *DB) RunsForSHA(ctx context.Context, repo, sha string) ([]Run, error) {
	return db.runs(ctx, "runs of a commit", `SELECT `+runColumns+` FROM runs
WHERE repo = ? AND sha = ? ORDER BY created_at DESC, id DESC`, repo, sha)
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// The queries of the web pages: a repository's visibility, its latest
// runs, the gates and deployments of its runs. Each is one indexed query
// (see 0011_pages.sql), so a page costs the same with one run stored or
// thousands.

// SetRepoPrivate records whether a repository is private, as a webhook
// delivery about it said.
func (db *DB) SetRepoPrivate(ctx context.Context, repo string, private bool) error {
	return db.SetRepoPrivateAt(ctx, repo, private, db.now())
}

// SetRepoPrivateAt records whether a repository is private, as a
// delivery received at said; what a later delivery said stands.
// Deliveries are processed in any order: a push sent before the
// repository was made private must not make it public again.
func (db *DB) SetRepoPrivateAt(ctx context.Context, repo string, private bool, at time.Time) error {
	_, err := db.exec(ctx, `INSERT INTO repo_visibility (repo, private, updated_at) VALUES (?, ?, ?)
ON CONFLICT (repo) DO UPDATE SET private = excluded.private, updated_at = excluded.updated_at
WHERE repo_visibility.updated_at <= excluded.updated_at`,
		repo, private, at.UnixMilli())
	if err != nil {
		return fmt.Errorf("store: visibility of %s: %w", repo, err)
	}
	return nil
}

// RepoPrivate reports whether a repository is private. A repository no
// delivery has described is private: its pages must not leak.
func (db *DB) RepoPrivate(ctx context.Context, repo string) (bool, error) {
	private := true
	err := db.get(ctx, `SELECT private FROM repo_visibility WHERE repo = ?`, []any{repo},
		func(s scanner) error { return s.Scan(&private) })
	if err != nil && !errors.Is(err, ErrNotFound) {
		return true, fmt.Errorf("store: visibility of %s: %w", repo, err)
	}
	return private, nil
}

// RecentRuns lists a repository's newest runs, newest first.
func (db *DB) RecentRuns(ctx context.Context, repo string, limit int) ([]Run, error) {
	return db.runs(ctx, "recent runs", `SELECT `+runColumns+` FROM runs WHERE repo = ?
ORDER BY created_at DESC, id DESC LIMIT ?`, repo, limit)
}

// LatestRunsByKey lists the newest run of each branch, tag and pull
// request of a repository, newest first.
func (db *DB) LatestRunsByKey(ctx context.Context, repo string, limit int) ([]Run, error) {
	return db.runs(ctx, "latest runs by branch", `SELECT `+runColumns+` FROM runs r WHERE r.repo = ?
AND r.created_at = (SELECT MAX(l.created_at) FROM runs l WHERE l.repo = r.repo AND l.concurrency_key = r.concurrency_key)
ORDER BY r.created_at DESC, r.id DESC LIMIT ?`, repo, limit)
}

// LatestRunForBranch returns the newest run of a branch (pushes to it, not
// pull requests into it), or ErrNotFound.
func (db *DB) LatestRunForBranch(ctx context.Context, repo, branch string) (Run, error) {
	var r Run
	err := db.get(ctx, `SELECT `+runColumns+` FROM runs WHERE repo = ? AND concurrency_key = ?
ORDER BY created_at DESC, id DESC LIMIT 1`, []any{repo, ConcurrencyKey(branch, "", 0)}, func(s scanner) (err error) {
		r, err = scanRun(s)
		return err
	})
	if err != nil {
		return Run{}, fmt.Errorf("store: latest run of %s on %s: %w", repo, branch, err)
	}
	return r, nil
}

// OwnerRepos lists the repositories of an owner (user or organisation)
// that have runs, by name, at most limit.
func (db *DB) OwnerRepos(ctx context.Context, owner string, limit int) ([]string, error) {
	// A range on the primary key's order instead of LIKE: '0' follows
	// '/' in every collation of ASCII, and an index serves a range.
	out, err := list(ctx, db, `SELECT DISTINCT repo FROM runs WHERE repo > ? AND repo < ? ORDER BY repo LIMIT ?`,
		[]any{owner + "/", owner + "0", limit}, func(s scanner) (string, error) {
			var r string
			return r, s.Scan(&r)
		})
	if err != nil {
		return nil, fmt.Errorf("store: repositories of %s: %w", owner, err)
	}
	return out, nil
}

// GateState is what a deploy stage's gate last showed.
type GateState struct {
	RunID, Stage, Environment string
	// Decision is the gate's decision then: proceed, wait, needs
	// approval or refuse.
	Decision string
	// Requirements is the gate's list as JSON, the app's to read.
	Requirements string
	UpdatedAt    time.Time
}

// RecordGate stores what a deploy stage's gate showed, replacing the last.
func (db *DB) RecordGate(ctx context.Context, g GateState) error {
	if g.UpdatedAt.IsZero() {
		g.UpdatedAt = db.now()
	}
	_, err := db.exec(ctx, `INSERT INTO run_gates (run_id, stage, environment, decision, requirements, updated_at)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (run_id, stage) DO UPDATE SET environment = excluded.environment, decision = excluded.decision,
    requirements = excluded.requirements, updated_at = excluded.updated_at`,
		g.RunID, g.Stage, g.Environment, g.Decision, g.Requirements, g.UpdatedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("store: gate of %s/%s: %w", g.RunID, g.Stage, err)
	}
	return nil
}

// GatesForRun lists the gates a run's deploy stages showed.
func (db *DB) GatesForRun(ctx context.Context, runID string) ([]GateState, error) {
	out, err := list(ctx, db, `SELECT run_id, stage, environment, decision, requirements, updated_at
FROM run_gates WHERE run_id = ? ORDER BY stage`, []any{runID}, func(s scanner) (GateState, error) {
		var (
			g  GateState
			ms int64
		)
		err := s.Scan(&g.RunID, &g.Stage, &g.Environment, &g.Decision, &g.Requirements, &ms)
		g.UpdatedAt = time.UnixMilli(ms).UTC()
		return g, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: gates of run %s: %w", runID, err)
	}
	return out, nil
}

// DeploymentRecord is one deploy of a repository to an environment.
type DeploymentRecord struct {
	Environment string
	RunID       string
	Stage       string
	SHA         string
	Branch      string
	// Status and Conclusion are the deploy stage's.
	Status     Status
	Conclusion string
	Started    time.Time
	Finished   time.Time
	// Approver is who approved the commit for the environment, "" when
	// no approval was needed or given.
	Approver string
}

// DeploymentHistory lists a repository's deploys, newest first: the
// GitHub deployments its runs started, with their environment as the
// gate recorded it.
func (db *DB) DeploymentHistory(ctx context.Context, repo string, limit int) ([]DeploymentRecord, error) {
	out, err := list(ctx, db, `SELECT g.environment, r.id, d.stage, r.sha, r.branch,
    COALESCE(s.status, 'queued'), COALESCE(s.conclusion, ''), s.started_at, s.finished_at, COALESCE(ap.approver, '')
FROM runs r
JOIN deployments d ON d.run_id = r.id
JOIN run_gates g ON g.run_id = d.run_id AND g.stage = d.stage
LEFT JOIN stages s ON s.run_id = d.run_id AND s.name = d.stage
LEFT JOIN approvals ap ON ap.repo = r.repo AND ap.sha = r.sha AND ap.kind = 'deploy' AND ap.scope = g.environment
WHERE r.repo = ?
ORDER BY r.created_at DESC, r.id DESC LIMIT ?`, []any{repo, limit}, func(sc scanner) (DeploymentRecord, error) {
		var (
			d                 DeploymentRecord
			started, finished sql.NullInt64
		)
		err := sc.Scan(&d.Environment, &d.RunID, &d.Stage, &d.SHA, &d.Branch, &d.Status, &d.Conclusion,
			&started, &finished, &d.Approver)
		d.Started, d.Finished = fromMillis(started), fromMillis(finished)
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: deployments of %s: %w", repo, err)
	}
	return out, nil
}

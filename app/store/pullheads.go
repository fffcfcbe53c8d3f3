package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// PullHead says that GitHub reported SHA as the head of pull request PR
// of Repo in a pull_request delivery whose pull_request.updated_at was At.
type PullHead struct {
	Repo string
	PR   int
	SHA  string
	At   time.Time
}

const qRecordPullHead = `INSERT INTO pull_heads (repo, pr, sha, updated_at) VALUES (?, ?, ?, ?)
ON CONFLICT (repo, pr, sha, updated_at) DO NOTHING`

// maxPullHeads bounds the heads read for one pull request: the newest
// are the ones a command can be about.
const maxPullHeads = 1000

// RecordPullHead stores h, in tx when it is not nil.
func (db *DB) RecordPullHead(ctx context.Context, tx *sql.Tx, h PullHead) error {
	q := db
	if tx != nil {
		q = db.InTx(tx)
	}
	if _, err := q.exec(ctx, qRecordPullHead, h.Repo, h.PR, h.SHA, h.At.UnixMilli()); err != nil {
		return fmt.Errorf("store: record head %s of %s#%d: %w", h.SHA, h.Repo, h.PR, err)
	}
	return nil
}

// PullHeads returns the heads recorded for a pull request, oldest first
// (at most the newest 1000).
func (db *DB) PullHeads(ctx context.Context, repo string, pr int) ([]PullHead, error) {
	out, err := list(ctx, db, `SELECT sha, updated_at FROM pull_heads WHERE repo = ? AND pr = ?
ORDER BY updated_at DESC LIMIT ?`, []any{repo, pr, maxPullHeads}, func(s scanner) (PullHead, error) {
		h := PullHead{Repo: repo, PR: pr}
		var at int64
		err := s.Scan(&h.SHA, &at)
		h.At = time.UnixMilli(at).UTC()
		return h, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: heads of %s#%d: %w", repo, pr, err)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// PrunePullHeads forgets the heads reported before before and returns
// how many.
func (db *DB) PrunePullHeads(ctx context.Context, before time.Time) (int64, error) {
	res, err := db.exec(ctx, `DELETE FROM pull_heads WHERE updated_at < ?`, before.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("store: prune pull request heads: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: prune pull request heads: %w", err)
	}
	return n, nil
}

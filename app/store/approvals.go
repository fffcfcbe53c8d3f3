package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Approval kinds.
const (
	// ApprovalDeploy approves the deploy of a commit to an environment
	// (the scope).
	ApprovalDeploy = "deploy"
	// ApprovalOkToTest lets a commit of a fork's pull request run.
	ApprovalOkToTest = "ok-to-test"
)

// Approval is a maintainer's go-ahead for one commit.
type Approval struct {
	Repo, SHA string
	Kind      string
	// Scope is the environment of a deploy approval, "" otherwise.
	Scope      string
	Approver   string
	ApprovedAt time.Time
}

// Approve records an approval; a second approval of the same commit and
// scope replaces the first, so the latest approver is the one shown.
func (db *DB) Approve(ctx context.Context, a Approval) error {
	if a.ApprovedAt.IsZero() {
		a.ApprovedAt = db.now()
	}
	_, err := db.exec(ctx, `INSERT INTO approvals (repo, sha, kind, scope, approver, approved_at)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (repo, sha, kind, scope) DO UPDATE SET approver = excluded.approver, approved_at = excluded.approved_at`,
		a.Repo, a.SHA, a.Kind, a.Scope, a.Approver, a.ApprovedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("store: approve %s %s of %s@%s: %w", a.Kind, a.Scope, a.Repo, a.SHA, err)
	}
	return nil
}

// GetApproval returns the approval of the commit for kind and scope, or
// ErrNotFound.
func (db *DB) GetApproval(ctx context.Context, repo, sha, kind, scope string) (Approval, error) {
	a := Approval{Repo: repo, SHA: sha, Kind: kind, Scope: scope}
	var at int64
	err := db.get(ctx, `SELECT approver, approved_at FROM approvals WHERE repo = ? AND sha = ? AND kind = ? AND scope = ?`,
		[]any{repo, sha, kind, scope}, func(s scanner) error { return s.Scan(&a.Approver, &at) })
	if errors.Is(err, ErrNotFound) {
		return Approval{}, fmt.Errorf("store: no %s approval of %s@%s: %w", kind, repo, sha, ErrNotFound)
	}
	if err != nil {
		return Approval{}, fmt.Errorf("store: approval of %s@%s: %w", repo, sha, err)
	}
	a.ApprovedAt = time.UnixMilli(at).UTC()
	return a, nil
}

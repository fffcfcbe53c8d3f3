package store

import (
	"context"
	"fmt"
	"time"
)

// ProtectionRequest is a GitHub Actions deployment waiting on
// stagegate's custom deployment protection rule.
type ProtectionRequest struct {
	CallbackURL    string
	Environment    string
	InstallationID int64
	// Repo is owner/name.
	Repo          string
	SHA           string
	WorkflowRunID int64
	CreatedAt     time.Time
	Answered      bool
}

// AddProtectionRequest records a request; a redelivered one is kept as
// it was.
func (db *DB) AddProtectionRequest(ctx context.Context, p ProtectionRequest) error {
	if p.CreatedAt.IsZero() {
		p.CreatedAt = db.now()
	}
	_, err := db.exec(ctx, `INSERT INTO protection_requests
(callback_url, environment, installation_id, repo, sha, workflow_run_id, created_at, answered)
VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (callback_url, environment) DO NOTHING`,
		p.CallbackURL, p.Environment, p.InstallationID, p.Repo, p.SHA, p.WorkflowRunID, millis(p.CreatedAt), p.Answered)
	if err != nil {
		return fmt.Errorf("store: protection request of run %d: %w", p.WorkflowRunID, err)
	}
	return nil
}

// PendingProtectionRequests lists the unanswered requests of a commit.
func (db *DB) PendingProtectionRequests(ctx context.Context, repo, sha string) ([]ProtectionRequest, error) {
	return list(ctx, db, `SELECT callback_url, environment, installation_id, repo, sha, workflow_run_id, created_at, answered
FROM protection_requests WHERE repo = ? AND sha = ? AND NOT answered ORDER BY created_at`, []any{repo, sha},
		func(s scanner) (ProtectionRequest, error) {
			var p ProtectionRequest
			var created int64
			err := s.Scan(&p.CallbackURL, &p.Environment, &p.InstallationID, &p.Repo, &p.SHA, &p.WorkflowRunID, &created, &p.Answered)
			p.CreatedAt = time.UnixMilli(created).UTC()
			return p, err
		})
}

// ProtectionAnswered marks a request answered; it reports false when it
// was already, so that only one answer is sent.
func (db *DB) ProtectionAnswered(ctx context.Context, callbackURL, environment string) (bool, error) {
	res, err := db.exec(ctx, `UPDATE protection_requests SET answered = TRUE
WHERE callback_url = ? AND environment = ? AND NOT answered`, callbackURL, environment)
	if err != nil {
		return false, fmt.Errorf("store: answer protection request: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// ProtectionUnanswered undoes ProtectionAnswered when the answer could
// not be sent, so that the next look sends it.
func (db *DB) ProtectionUnanswered(ctx context.Context, callbackURL, environment string) error {
	if _, err := db.exec(ctx, `UPDATE protection_requests SET answered = FALSE
WHERE callback_url = ? AND environment = ?`, callbackURL, environment); err != nil {
		return fmt.Errorf("store: protection request: %w", err)
	}
	return nil
}

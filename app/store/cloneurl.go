package store

import (
	"context"
	"errors"
	"fmt"
)

// SetCloneURL records the clone URL GitHub gave for a run's repository.
func (db *DB) SetCloneURL(ctx context.Context, runID, cloneURL string) error {
	_, err := db.exec(ctx, `INSERT INTO run_clone_urls (run_id, clone_url) VALUES (?, ?)
ON CONFLICT (run_id) DO UPDATE SET clone_url = excluded.clone_url`, runID, cloneURL)
	if err != nil {
		return fmt.Errorf("store: clone URL of %s: %w", runID, err)
	}
	return nil
}

// CloneURL is the clone URL recorded for a run, "" when none was.
func (db *DB) CloneURL(ctx context.Context, runID string) (string, error) {
	var u string
	err := db.get(ctx, `SELECT clone_url FROM run_clone_urls WHERE run_id = ?`, []any{runID},
		func(s scanner) error { return s.Scan(&u) })
	if errors.Is(err, ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("store: clone URL of %s: %w", runID, err)
	}
	return u, nil
}

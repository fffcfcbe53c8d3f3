package store

import (
	"context"
	"fmt"
)

// Deployment is a GitHub deployment a run's stage started.
type Deployment struct {
	RunID        string
	Stage        string
	DeploymentID int64
	Finished     bool
}

// RecordDeployment remembers the GitHub deployment of a run's stage.
func (db *DB) RecordDeployment(ctx context.Context, d Deployment) error {
	_, err := db.exec(ctx, `INSERT INTO deployments (run_id, stage, deployment_id, finished) VALUES (?, ?, ?, ?)
ON CONFLICT (run_id, stage) DO UPDATE SET deployment_id = excluded.deployment_id, finished = excluded.finished`,
		d.RunID, d.Stage, d.DeploymentID, d.Finished)
	if err != nil {
		return fmt.Errorf("store: deployment of %s/%s: %w", d.RunID, d.Stage, err)
	}
	return nil
}

// FinishDeployments marks every deployment of a run as ended on GitHub.
func (db *DB) FinishDeployments(ctx context.Context, runID string) error {
	if _, err := db.exec(ctx, `UPDATE deployments SET finished = TRUE WHERE run_id = ?`, runID); err != nil {
		return fmt.Errorf("store: finish deployments of %s: %w", runID, err)
	}
	return nil
}

// UnfinishedDeployments lists a run's deployments not yet ended on GitHub.
func (db *DB) UnfinishedDeployments(ctx context.Context, runID string) ([]Deployment, error) {
	return list(ctx, db, `SELECT run_id, stage, deployment_id, finished FROM deployments
WHERE run_id = ? AND NOT finished ORDER BY stage`, []any{runID}, func(s scanner) (Deployment, error) {
		var d Deployment
		err := s.Scan(&d.RunID, &d.Stage, &d.DeploymentID, &d.Finished)
		return d, err
	})
}

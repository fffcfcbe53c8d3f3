package store

import (
	"context"
	"fmt"
)

// SetChecksUnsent records whether a finished run's final check updates
// still have to reach GitHub.
func (db *DB) SetChecksUnsent(ctx context.Context, runID string, unsent bool) error {
	res, err := db.exec(ctx, `UPDATE runs SET checks_unsent = ? WHERE id = ?`, unsent, runID)
	if err := mustAffect(res, err); err != nil {
		return fmt.Errorf("store: checks unsent of run %s: %w", runID, err)
	}
	return nil
}

// RunsWithUnsentChecks lists the completed runs whose final check updates
// have not reached GitHub, oldest first.
func (db *DB) RunsWithUnsentChecks(ctx context.Context) ([]Run, error) {
	return db.runs(ctx, "runs with unsent checks", `SELECT `+runColumns+` FROM runs
WHERE checks_unsent AND status = 'completed' ORDER BY created_at, id`)
}

package runs

import (
	"context"
	"fmt"

	"github.com/stagegate/stagegate/app/store"
	"github.com/stagegate/stagegate/pipeline/engine"
)

// PreviousResults are the results a re-run reuses: those of the stages
// before the one re-run, from the run it repeats. Their artifacts are
// copied into the new run's store, where later stages look for them.
func (a *Runs) PreviousResults(ctx context.Context, run store.Run) ([]engine.StageResult, error) {
	if run.RerunOf == "" || run.RerunFromStage == "" {
		return nil, nil
	}
	orig, err := a.db.GetRun(ctx, run.RerunOf)
	if err != nil {
		return nil, fmt.Errorf("load run %s: %w", run.RerunOf, err)
	}
	// Artifacts cross from one store to another only within one kind
	// of code: a fork's build never supplies a trusted run's.
	if orig.Fork != run.Fork {
		return nil, fmt.Errorf("run %s is of other code (fork %v, this run %v); its artifacts are not reused", orig.ID, orig.Fork, run.Fork)
	}
	// The store is this run's: of its kind of code and its repository,
	// whatever run it is asked for.
	from, err := a.artifactStore(run)
	if err != nil {
		return nil, err
	}
	to := a.dirs(run).Artifacts
	stages, err := a.db.StagesForRun(ctx, run.RerunOf)
	if err != nil {
		return nil, fmt.Errorf("load the stages of run %s: %w", run.RerunOf, err)
	}
	fromPos := -1
	for _, s := range stages {
		if s.Name == run.RerunFromStage {
			fromPos = s.Position
		}
	}
	if fromPos < 0 {
		return nil, fmt.Errorf("run %s has no stage %s to re-run from", run.RerunOf, run.RerunFromStage)
	}
	var out []engine.StageResult
	for _, s := range stages {
		if s.Position >= fromPos {
			continue
		}
		out = append(out, engine.StageResult{
			Name: s.Name, Status: engine.Status(s.Conclusion),
			Reason:  "reused from run " + run.RerunOf,
			Started: s.StartedAt, Duration: s.FinishedAt.Sub(s.StartedAt),
			Outputs: s.Outputs, Artifacts: s.Artifacts,
		})
		if len(s.Artifacts) == 0 {
			// Nothing to fetch, and no store to open: the stage may
			// have run on another replica, whose disk this one lacks.
			continue
		}
		if err := from.Get(ctx, orig.ID, s.Name, s.Artifacts, to); err != nil {
			return nil, fmt.Errorf("reuse the artifacts of stage %s of run %s: %w", s.Name, run.RerunOf, err)
		}
		// Kept again as this run's, so that a re-run of this run finds
		// them under it (a no-op in the local store, where they are now).
		key := engine.ArtifactKey{Run: run.ID, Stage: s.Name, Action: engine.ReusedArtifacts}
		if err := from.Put(ctx, key, to, s.Artifacts); err != nil {
			return nil, fmt.Errorf("keep the reused artifacts of stage %s: %w", s.Name, err)
		}
	}
	return out, nil
}

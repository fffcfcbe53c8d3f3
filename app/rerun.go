package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/stagegate/stagegate/app/store"
	"github.com/stagegate/stagegate/pipeline/engine"
)

// previousResults are the results a re-run reuses: those of the stages
// before the one re-run, from the run it repeats. Their artifacts are
// copied into the new run's store, where later stages look for them.
func (a *App) previousResults(ctx context.Context, run store.Run) ([]engine.StageResult, error) {
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
	from, to := a.dirs(orig).Artifacts, a.dirs(run).Artifacts
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
		for _, path := range s.Artifacts {
			if err := copyFile(filepath.Join(from, path), filepath.Join(to, path)); err != nil {
				return nil, fmt.Errorf("reuse artifact %s of run %s: %w", path, run.RerunOf, err)
			}
		}
	}
	return out, nil
}

func copyFile(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	info, err := src.Stat()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o700); err != nil {
		return err
	}
	// A resumed run copies again: the file it copied before is
	// read-only, and replaced rather than written.
	if err := os.Remove(to); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	// Stored artifacts are read-only, as the engine stores them.
	if err := dst.Chmod(engine.ArtifactMode(info.Mode())); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}

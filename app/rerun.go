package app

import (
	"context"
	"fmt"
	"io"
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
	stages, err := a.db.StagesForRun(ctx, run.RerunOf)
	if err != nil {
		return nil, fmt.Errorf("load the stages of run %s: %w", run.RerunOf, err)
	}
	from := -1
	for _, s := range stages {
		if s.Name == run.RerunFromStage {
			from = s.Position
		}
	}
	if from < 0 {
		return nil, fmt.Errorf("run %s has no stage %s to re-run from", run.RerunOf, run.RerunFromStage)
	}
	var out []engine.StageResult
	for _, s := range stages {
		if s.Position >= from {
			continue
		}
		out = append(out, engine.StageResult{
			Name: s.Name, Status: engine.Status(s.Conclusion),
			Reason:  "reused from run " + run.RerunOf,
			Started: s.StartedAt, Duration: s.FinishedAt.Sub(s.StartedAt),
			Outputs: s.Outputs, Artifacts: s.Artifacts,
		})
		for _, path := range s.Artifacts {
			if err := copyFile(filepath.Join(a.artifactDir(run.RerunOf), path), filepath.Join(a.artifactDir(run.ID), path)); err != nil {
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
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, info.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}

//go:build unix

package engine_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stagegate/stagegate/pipeline/engine"
)

func TestPrepareMakesTheWorkspaceAfterTheRunIsAnnounced(t *testing.T) {
	f := newFixture(t)
	ws := t.TempDir()
	if err := os.WriteFile(filepath.Join(ws, "fetched"), []byte("yes"), 0o644); err != nil {
		t.Fatal(err)
	}
	announced := false
	res := f.run(context.Background(), pipe(stage("build", act("cat", "cat fetched"))), func(r *engine.Run) {
		r.Workspace = ""
		r.Prepare = func(context.Context) (string, error) {
			announced = len(f.rec.events) > 0 && isRunStarted(f.rec.events[0])
			return ws, nil
		}
	})
	if res.Status != engine.StatusSuccess {
		t.Fatalf("run = %s: %s", res.Status, res.Reason)
	}
	if !announced {
		t.Error("Prepare ran before RunStarted was observed")
	}
	if got := f.rec.lines("build", "cat", engine.Stdout); !slices.Equal(got, []string{"yes"}) {
		t.Errorf("the action did not run in the prepared workspace: %q", got)
	}
}

func TestPrepareFailureSkipsEveryStage(t *testing.T) {
	f := newFixture(t)
	p := pipe(stage("build", act("a", "touch ran")), stage("test", act("b", "touch ran")))
	res := f.run(context.Background(), p,
		func(r *engine.Run) {
			r.Prepare = func(context.Context) (string, error) { return "", errors.New("could not fetch the source") }
		})
	if res.Status != engine.StatusFailure || res.Reason != "could not fetch the source" {
		t.Errorf("run = %s %q", res.Status, res.Reason)
	}
	if len(res.Stages) != len(p.Stages) {
		t.Fatalf("%d stage results, want %d", len(res.Stages), len(p.Stages))
	}
	for _, s := range res.Stages {
		if s.Status != engine.StatusSkipped || s.Reason != "skipped: could not fetch the source" {
			t.Errorf("stage %s = %s %q", s.Name, s.Status, s.Reason)
		}
	}
	if _, err := os.Stat(filepath.Join(f.workspace, "ran")); err == nil {
		t.Error("an action ran although the workspace could not be prepared")
	}
}

func isRunStarted(e engine.Event) bool {
	_, ok := e.(engine.RunStarted)
	return ok
}

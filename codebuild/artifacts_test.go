//go:build unix

package codebuild_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The earlier stages' artifacts reach the build under
// $STAGEGATE_ARTIFACTS, modes kept; they do not come back into the
// workspace, and what the build does to them changes nothing here.
func TestArtifactsReachTheBuild(t *testing.T) {
	e := setup(t)
	arts := t.TempDir()
	if err := os.MkdirAll(filepath.Join(arts, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(arts, "bin", "tool"), []byte("#!/bin/sh\necho tool-from-build-stage\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	spec := e.spec(`"$STAGEGATE_ARTIFACTS/bin/tool"
case "$STAGEGATE_ARTIFACTS" in "$CODEBUILD_SRC_DIR"*) echo artifacts inside the workspace; exit 1;; esac
ls -A "$CODEBUILD_SRC_DIR"
echo changed > "$STAGEGATE_ARTIFACTS/bin/tool"
echo built > out.txt`)
	spec.Remote.Artifacts = arts
	res, err := e.runner.Run(t.Context(), spec)
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("result %+v, %v; stdout:\n%s\nstderr:\n%s", res, err, e.stdout, e.stderr)
	}
	if !strings.Contains(e.stdout.String(), "tool-from-build-stage") {
		t.Errorf("the build did not run the artifact:\n%s", e.stdout)
	}
	if strings.Contains(e.stdout.String(), ".stagegate-artifacts") {
		t.Errorf("the artifacts are in the build's workspace:\n%s", e.stdout)
	}
	entries, err := os.ReadDir(e.ws)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "out.txt" {
		t.Errorf("the workspace after the build holds %v, want out.txt alone", entries)
	}
	if b, err := os.ReadFile(filepath.Join(arts, "bin", "tool")); err != nil || strings.Contains(string(b), "changed") {
		t.Errorf("the local artifact %q, %v: changed by the build", b, err)
	}
}

// Artifacts count against the same bounds as the workspace coming back:
// too much to ship fails the action before any build starts.
func TestTooMuchToShipStartsNoBuild(t *testing.T) {
	e := setup(t)
	e.runner.Limits.Bytes = 1000
	arts := t.TempDir()
	if err := os.WriteFile(filepath.Join(arts, "big.bin"), make([]byte, 4000), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := e.spec("echo never")
	spec.Remote.Artifacts = arts
	_, err := e.runner.Run(t.Context(), spec)
	if err == nil || !strings.Contains(err.Error(), "more than 1000 bytes to ship") {
		t.Errorf("err = %v, want more than 1000 bytes to ship", err)
	}
	if n := len(e.fake.Starts()); n != 0 {
		t.Errorf("%d builds started", n)
	}
}

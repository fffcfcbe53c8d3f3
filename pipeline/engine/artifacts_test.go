//go:build unix

package engine_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stagegate/stagegate/pipeline/engine"
)

func TestArtifactsAreStoredAndVisibleLater(t *testing.T) {
	f := newFixture(t)
	build := `mkdir -p dist/sub
echo bin > dist/app; chmod 750 dist/app
echo data > dist/sub/data.txt
echo noise > dist/debug.log
echo keep > dist/keep.log
ln -s /etc/passwd dist/passwd
ln -s sub/data.txt dist/link.txt`
	deploy := `cat "$STAGEGATE_ARTIFACTS/dist/app"
test -x "$STAGEGATE_ARTIFACTS/dist/app"
test ! -e "$STAGEGATE_ARTIFACTS/dist/debug.log"
echo changed > dist/app
cat "$STAGEGATE_ARTIFACTS/dist/app"`
	p := pipe(
		stage("build", act("compile", build, artifacts("dist/**", "!**/*.log", "dist/keep.log", "missing/*", "dist"))),
		stage("deploy", act("ship", deploy)),
	)
	res := f.run(t.Context(), p)
	if res.Status != engine.StatusSuccess {
		t.Fatalf("run %s %q", res.Status, res.Reason)
	}
	want := []string{"dist/app", "dist/keep.log", "dist/link.txt", "dist/sub/data.txt"}
	if got := res.Stages[0].Artifacts; !slices.Equal(got, want) {
		t.Errorf("artifacts %q, want %q", got, want)
	}
	// The deploy changed the workspace's copy after reading the stored one
	// twice: a link would have shown the change.
	if got := f.rec.lines("deploy", "ship", engine.Stdout); !slices.Equal(got, []string{"bin", "bin"}) {
		t.Errorf("deploy read %q", got)
	}
	st, err := os.Lstat(filepath.Join(f.artifacts, "dist", "app"))
	if err != nil {
		t.Fatal(err)
	}
	// Stored read-only: later stages and re-runs read what this stage
	// stored, and nothing may change it under them.
	if !st.Mode().IsRegular() || st.Mode().Perm() != 0o550 {
		t.Errorf("stored dist/app has mode %s, want a regular file with 0550 (0750 less write)", st.Mode())
	}
	for _, p := range want {
		if st, err := os.Stat(filepath.Join(f.artifacts, p)); err != nil || st.Mode().Perm()&0o222 != 0 {
			t.Errorf("stored %s is writable (%v, %v)", p, st.Mode(), err)
		}
	}
	if st, err := os.Lstat(filepath.Join(f.artifacts, "dist", "link.txt")); err != nil || !st.Mode().IsRegular() {
		t.Errorf("a link inside the workspace should be stored as a file: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(f.artifacts, "dist", "passwd")); err == nil {
		t.Error("a link to a file outside the workspace was stored")
	}
	warnings := strings.Join(f.rec.lines("build", "compile", engine.System), "\n")
	for _, w := range []string{`"missing/*" matched no file`, `"dist" matched only directories`, "dist/passwd is a symlink"} {
		if !strings.Contains(warnings, w) {
			t.Errorf("no warning %q in:\n%s", w, warnings)
		}
	}
}

func TestArtifactsOfAFailedActionAreNotStored(t *testing.T) {
	f := newFixture(t)
	res := f.run(t.Context(), pipe(stage("build", act("a", "echo x > out.txt; exit 1", artifacts("out.txt")))))
	if res.Status != engine.StatusFailure || len(res.Stages[0].Artifacts) != 0 {
		t.Errorf("run %s, artifacts %q", res.Status, res.Stages[0].Artifacts)
	}
	if _, err := os.Stat(filepath.Join(f.artifacts, "out.txt")); err == nil {
		t.Error("a failed action's artifact was stored")
	}
}

func TestArtifactStoreInsideWorkspaceIsNotCollected(t *testing.T) {
	f := newFixture(t)
	f.artifacts = filepath.Join(f.workspace, ".artifacts")
	p := pipe(
		stage("one", act("a", "echo 1 > a.txt", artifacts("**"))),
		stage("two", act("b", "echo 2 > b.txt", artifacts("**"))),
	)
	res := f.run(t.Context(), p)
	if res.Status != engine.StatusSuccess {
		t.Fatalf("run %s %q", res.Status, res.Reason)
	}
	if got := res.Stages[1].Artifacts; !slices.Equal(got, []string{"a.txt", "b.txt"}) {
		t.Errorf("artifacts %q", got)
	}
}

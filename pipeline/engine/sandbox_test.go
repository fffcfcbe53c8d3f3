//go:build linux

package engine_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stagegate/stagegate/pipeline/engine"
	"github.com/stagegate/stagegate/pipeline/runner/local"
)

// TestRunInTheSandbox runs a build and a deploy through the sandboxed
// runner: outputs, TMPDIR, HOME and artifacts work as outside it, and the
// stored artifacts cannot be changed by a later stage.
func TestRunInTheSandbox(t *testing.T) {
	sb := &local.Sandbox{}
	if err := sb.Probe(t.Context()); err != nil {
		if os.Getenv("STAGEGATE_REQUIRE_SANDBOX") == "1" {
			t.Fatalf("the sandbox is required (STAGEGATE_REQUIRE_SANDBOX=1): %v", err)
		}
		t.Skipf("no working sandbox (apt-get install bubblewrap): %v", err)
	}
	f := newFixture(t)
	f.engine.Runner = &local.Runner{Grace: 200 * time.Millisecond, Sandbox: sb}
	home := filepath.Join(t.TempDir(), "home")
	build := `mkdir -p dist && echo bin > dist/app
echo version=7 >> "$STAGEGATE_OUTPUT"
echo t > "$TMPDIR/t" && echo h > "$HOME/h"`
	deploy := `echo "v$STAGEGATE_OUTPUT_BUILD_VERSION"
cat "$STAGEGATE_ARTIFACTS/dist/app"
(echo tampered > "$STAGEGATE_ARTIFACTS/dist/app") 2>/dev/null && echo rewrote || echo read-only`
	res := f.run(t.Context(), pipe(
		stage("build", act("compile", build, artifacts("dist/app"))),
		stage("deploy", act("ship", deploy)),
	), func(r *engine.Run) { r.Home = home })
	if res.Status != engine.StatusSuccess {
		t.Fatalf("run %s %q; logs %q", res.Status, res.Reason, f.rec.lines("build", "compile", engine.Stderr))
	}
	if got := f.rec.lines("deploy", "ship", engine.Stdout); !slices.Equal(got, []string{"v7", "bin", "read-only"}) {
		t.Errorf("deploy printed %q", got)
	}
	if b, _ := os.ReadFile(filepath.Join(f.artifacts, "dist", "app")); string(b) != "bin\n" {
		t.Errorf("stored artifact reads %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(home, "h")); string(b) != "h\n" {
		t.Errorf("HOME/h reads %q", b)
	}
}

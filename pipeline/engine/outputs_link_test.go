//go:build unix

package engine_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stagegate/stagegate/pipeline/engine"
)

// TestOutputFileLinkIsNotFollowed: the engine reads an action's output
// file outside any sandbox, with the App's own rights. An action that
// makes $STAGEGATE_OUTPUT a link to a file it cannot see itself (the
// App's credentials, /proc/self/environ of the App) must not get that
// file's content back as its outputs.
func TestOutputFileLinkIsNotFollowed(t *testing.T) {
	host := filepath.Join(t.TempDir(), "credentials")
	if err := os.WriteFile(host, []byte("PRIVATE_KEY=host-only-canary\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, script string }{
		{"link to a host file", `ln -s ` + host + ` "$STAGEGATE_OUTPUT"`},
		{"link to the engine's environment", `ln -s /proc/self/environ "$STAGEGATE_OUTPUT"`},
		// Opening a FIFO for reading would wait for a writer forever.
		{"a FIFO", `mkfifo "$STAGEGATE_OUTPUT"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("STAGEGATE_TEST_ENGINE_ONLY", "engine-env-canary")
			f := newFixture(t)
			res := f.run(t.Context(), pipe(
				stage("plant", act("link", tt.script)),
				stage("read", act("env", `env | grep '^STAGEGATE_OUTPUT_' || true`)),
			))
			if res.Status != engine.StatusSuccess {
				t.Fatalf("run %s %q", res.Status, res.Reason)
			}
			all := strings.Join(f.rec.lines("read", "env", engine.Stdout), "\n") + strings.Join(f.rec.lines("plant", "link", engine.System), "\n")
			for k, v := range res.Stages[0].Outputs {
				all += "\n" + k + "=" + v
			}
			for _, canary := range []string{"host-only-canary", "engine-env-canary"} {
				if strings.Contains(all, canary) {
					t.Errorf("the engine read a file for the action through its link:\n%s", all)
				}
			}
			if warn := strings.Join(f.rec.lines("plant", "link", engine.System), "\n"); !strings.Contains(warn, "not a regular file") {
				t.Errorf("no warning that the output file was refused: %q", warn)
			}
		})
	}
}

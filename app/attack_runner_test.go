package app_test

import (
	"context"
	"os"
	"testing"

	"github.com/stagegate/stagegate/pipeline/runner"
	"github.com/stagegate/stagegate/pipeline/runner/local"
)

// servedRunner is the runner `stagegate serve` gives the App by default:
// --sandbox=required, with the data dir covered.
func servedRunner(t *testing.T, dataDir string) runner.Runner {
	t.Helper()
	r, _, err := local.NewRunner(context.Background(), local.Config{Mode: local.ModeRequired, Hidden: []string{dataDir}})
	if err != nil {
		if os.Getenv("STAGEGATE_REQUIRE_SANDBOX") == "1" {
			t.Fatalf("the sandbox does not work here: %v", err)
		}
		t.Skipf("the sandbox does not work here (apt-get install bubblewrap; user namespaces): %v", err)
	}
	return r
}

package app_test

import (
	"testing"

	"github.com/stagegate/stagegate/pipeline/runner"
)

// servedRunner is the runner `stagegate serve` gives the App by default.
func servedRunner(t *testing.T, dataDir string) runner.Runner {
	t.Helper()
	return nil
}

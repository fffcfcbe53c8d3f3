package app

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestHardenedProcessIsNotDumpable checks, in a child process, that
// hardenProcess takes effect: a build started by the process then cannot
// read its environment through /proc.
func TestHardenedProcessIsNotDumpable(t *testing.T) {
	if os.Getenv("STAGEGATE_HARDEN_CHILD") == "1" {
		if err := hardenProcess(); err != nil {
			t.Fatal(err)
		}
		d, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if d != 0 {
			t.Fatalf("dumpable = %d after hardening", d)
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHardenedProcessIsNotDumpable$", "-test.v")
	cmd.Env = append(os.Environ(), "STAGEGATE_HARDEN_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

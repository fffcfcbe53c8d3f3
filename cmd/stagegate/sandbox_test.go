package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// requireBwrap skips without bubblewrap, unless CI requires it.
func requireBwrap(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("bwrap"); err != nil {
		if os.Getenv("STAGEGATE_REQUIRE_SANDBOX") == "1" {
			t.Fatal("bubblewrap is required (STAGEGATE_REQUIRE_SANDBOX=1): apt-get install bubblewrap")
		}
		t.Skip("bwrap not found: apt-get install bubblewrap")
	}
}

func TestRunSandboxModes(t *testing.T) {
	noBwrap := "PATH=" + t.TempDir() // a PATH where bwrap is not
	// pid 1 of the sandbox is bwrap's init; outside it is the host's.
	const probe = "stages: [{ name: s, actions: [{ name: a, run: 'echo pid1=$(tr \"\\\\0\" \" \" < /proc/1/cmdline); echo home=$HOME' }] }]\n"
	tests := []struct {
		name      string
		args, env []string
		bwrap     bool // needs a working sandbox
		wantCode  int
		want      []string // in stdout
		wantErr   []string // in stderr
		notWant   []string // in stdout
	}{
		{name: "auto sandboxes", args: []string{"run"}, bwrap: true, want: []string{"pid1=bwrap"}, notWant: []string{"home=" + os.Getenv("HOME") + "\n"}},
		{name: "required sandboxes", args: []string{"run", "--sandbox", "required"}, bwrap: true, want: []string{"pid1=bwrap"}},
		{name: "off by flag", args: []string{"run", "--sandbox=off"}, want: []string{"pid1="}, notWant: []string{"pid1=bwrap"}},
		{name: "off by environment", args: []string{"run"}, env: []string{"STAGEGATE_SANDBOX=off"}, want: []string{"pid1="}, notWant: []string{"pid1=bwrap"}},
		{name: "auto falls back with a warning", args: []string{"run"}, env: []string{noBwrap}, notWant: []string{"pid1=bwrap"},
			wantErr: []string{"warning: the sandbox does not work", "apt-get install bubblewrap", "unsandboxed"}},
		{name: "required refuses", args: []string{"run", "--sandbox=required"}, env: []string{noBwrap}, wantCode: 1,
			wantErr: []string{"bubblewrap (bwrap) is not installed", "apt-get install bubblewrap"}, notWant: []string{"pid1="}},
		{name: "bad mode", args: []string{"run", "--sandbox=maybe"}, wantCode: 2, wantErr: []string{"--sandbox (STAGEGATE_SANDBOX) must be required, auto or off"}},
		{name: "relative expose", args: []string{"run", "--sandbox-expose=opt"}, wantCode: 2, wantErr: []string{"takes absolute paths"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.bwrap {
				requireBwrap(t)
			}
			res := stagegate(t, workTree(t, probe), tt.env, tt.args...)
			if res.code != tt.wantCode {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", res.code, tt.wantCode, res.stdout, res.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(res.stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, res.stdout)
				}
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(res.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, res.stderr)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(res.stdout, w) {
					t.Errorf("stdout has %q:\n%s", w, res.stdout)
				}
			}
		})
	}
}

// TestServeRefusesWithoutSandbox starts serve, whose default is
// --sandbox=required, where bwrap cannot be found: it must not start,
// and must say why and how to fix it.
func TestServeRefusesWithoutSandbox(t *testing.T) {
	dir := t.TempDir()
	res := stagegate(t, dir, []string{"PATH=" + t.TempDir(), "STAGEGATE_ADDR=127.0.0.1:0", "STAGEGATE_DATA_DIR=" + dir + "/data",
		"STAGEGATE_DATABASE=sqlite://" + dir + "/db", "STAGEGATE_PUBLIC_URL=http://127.0.0.1"}, "serve")
	if res.code != 1 {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	for _, w := range []string{"the sandbox does not work", "apt-get install bubblewrap", "--sandbox=required"} {
		if !strings.Contains(res.stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, res.stderr)
		}
	}
}

//go:build linux

package local

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stagegate/stagegate/pipeline/runner"
)

// The attacks a build may try on the machine that runs it. Each one is
// written as the attacker would, and must fail inside the sandbox.

const testPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// runIn runs script with the sandboxed runner and returns its result and
// combined output.
func runIn(t *testing.T, r *Runner, spec runner.Spec) (runner.Result, string) {
	t.Helper()
	var out syncBuffer
	spec.Stdout, spec.Stderr = &out, &out
	if spec.Env == nil {
		spec.Env = []string{testPath}
	}
	res, err := r.Run(context.Background(), spec)
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, out.String())
	}
	return res, out.String()
}

// TestSandboxHidesTheDataDir places what stands for the data dir's
// credentials and database, and another run's workspace, beside the
// action's workspace, as the App lays them out, and tries to read them.
func TestSandboxHidesTheDataDir(t *testing.T) {
	r := sandboxRunner(t)
	base := t.TempDir()
	data := filepath.Join(base, "data")
	ws := filepath.Join(data, "workspaces", "run-1")
	other := filepath.Join(data, "workspaces", "run-2")
	for _, d := range []string{ws, other, filepath.Join(data, "artifacts")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	secrets := map[string]string{
		filepath.Join(data, "github-app.json"): "PRIVATE-KEY-MATERIAL",
		filepath.Join(data, "stagegate.db"):    "DATABASE-CONTENT",
		filepath.Join(other, "deploy.sh"):      "OTHER-RUN-SCRIPT",
		filepath.Join(t.TempDir(), "unlisted"): "UNLISTED-FILE",
	}
	for p, v := range secrets {
		if err := os.WriteFile(p, []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(base, "tool.txt"), []byte("visible tool\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		access runner.Access
	}{
		// The caller exposes a parent of the data dir (say, a home that
		// holds both tools and the data dir) and names the data dir hidden.
		{name: "hidden inside an exposed path", access: runner.Access{Writable: []string{ws}, ReadOnly: []string{base}, Hidden: []string{data}}},
		// Nothing named: the minimal root shows none of it.
		{name: "not exposed", access: runner.Access{Writable: []string{ws}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var script strings.Builder
			for p := range secrets {
				script.WriteString("cat '" + p + "' 2>/dev/null || true\n")
			}
			script.WriteString("ls -R '" + data + "' 2>/dev/null || true\n")
			script.WriteString("echo built > '" + filepath.Join(ws, "out.txt") + "'\n")
			res, out := runIn(t, r, runner.Spec{Script: script.String(), Dir: ws, Access: tt.access})
			if res.ExitCode != 0 {
				t.Fatalf("exit %d:\n%s", res.ExitCode, out)
			}
			for p, v := range secrets {
				if strings.Contains(out, v) {
					t.Errorf("the action read %s", p)
				}
			}
			for _, name := range []string{"run-2", "github-app.json", "stagegate.db"} {
				if strings.Contains(out, name) {
					t.Errorf("the action listed %s:\n%s", name, out)
				}
			}
			if b, err := os.ReadFile(filepath.Join(ws, "out.txt")); err != nil || string(b) != "built\n" {
				t.Errorf("the workspace was not writable: %q, %v\n%s", b, err, out)
			}
		})
	}
	t.Run("exposed paths stay readable", func(t *testing.T) {
		res, out := runIn(t, r, runner.Spec{Script: "cat '" + filepath.Join(base, "tool.txt") + "'", Dir: ws,
			Access: runner.Access{Writable: []string{ws}, ReadOnly: []string{base}, Hidden: []string{data}}})
		if res.ExitCode != 0 || out != "visible tool\n" {
			t.Errorf("exit %d, output %q", res.ExitCode, out)
		}
	})
}

// TestSandboxHidesOtherActionsEnviron runs an action holding a secret in
// its environment and, beside it, one that searches every process's
// environ for it.
func TestSandboxHidesOtherActionsEnviron(t *testing.T) {
	r := sandboxRunner(t)
	const secret = "SECRET-IN-ENV-5f3a9c"
	holderDir, thiefDir := t.TempDir(), t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	held := make(chan error, 1)
	go func() {
		_, err := r.Run(ctx, runner.Spec{
			Script: "echo up > up; while :; do sleep 0.05; done", Dir: holderDir,
			Env: []string{testPath, "DEPLOY_TOKEN=" + secret},
		})
		held <- err
	}()
	waitForFile(t, filepath.Join(holderDir, "up"))
	res, out := runIn(t, r, runner.Spec{
		Script: `for f in /proc/[0-9]*/environ; do tr '\0' '\n' < "$f" 2>/dev/null || true; done`,
		Dir:    thiefDir,
	})
	cancel()
	if err := <-held; err != nil {
		t.Errorf("holder: %v", err)
	}
	if res.ExitCode != 0 {
		t.Fatalf("exit %d: %s", res.ExitCode, out)
	}
	if strings.Contains(out, secret) {
		t.Errorf("the action read another action's environment")
	}
}

// TestSandboxShowsNoHostProcess lists /proc from inside: the test binary,
// which is the action's ancestor, must not be among what it sees.
func TestSandboxShowsNoHostProcess(t *testing.T) {
	r := sandboxRunner(t)
	self, err := os.Readlink("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	res, out := runIn(t, r, runner.Spec{
		Script: `for p in /proc/[0-9]*; do echo "$(basename $p) $(tr '\0' ' ' < $p/cmdline 2>/dev/null)"; done`,
		Dir:    t.TempDir(),
	})
	if res.ExitCode != 0 {
		t.Fatalf("exit %d: %s", res.ExitCode, out)
	}
	if strings.Contains(out, filepath.Base(self)) || strings.Contains(out, strconv.Itoa(os.Getpid())+" ") {
		t.Errorf("the action sees the host's processes:\n%s", out)
	}
	// The sandbox's init, the shell and the commands of the loop: a
	// handful, never the host's hundreds.
	if n := strings.Count(out, "\n"); n > 10 {
		t.Errorf("the action sees %d processes:\n%s", n, out)
	}
}

// TestSandboxEndsSetsidDaemons leaves a daemon in a new session with its
// output closed, which survives a process-group kill, and checks that it
// is gone once Run has returned.
func TestSandboxEndsSetsidDaemons(t *testing.T) {
	r := sandboxRunner(t)
	ws := t.TempDir()
	const mark = "30.7319" // a sleep no other process has
	res, out := runIn(t, r, runner.Spec{
		Script: "setsid sh -c 'sleep " + mark + "; touch marker' </dev/null >/dev/null 2>&1 &\n" +
			// Wait until the daemon's sleep runs, so that the test sees
			// the daemon and not one not yet started.
			// The bracket keeps grep from finding its own command line.
			"while ! grep -qs '30[.]7319' /proc/[0-9]*/cmdline; do sleep 0.01; done; echo started",
		Dir: ws,
	})
	t.Cleanup(func() { killArg(mark) })
	if res.ExitCode != 0 || out != "started\n" {
		t.Fatalf("exit %d: %q", res.ExitCode, out)
	}
	if pids := liveWithArg(mark); len(pids) > 0 {
		t.Errorf("the daemon survived the action: pids %v", pids)
	}
	if _, err := os.Stat(filepath.Join(ws, "marker")); err == nil {
		t.Errorf("the daemon wrote its marker")
	}
}

// TestSandboxIsReadOnlyOutsideItsPaths tries to write into the artifact
// store passed read-only, into the system, and into a host directory
// that was not passed at all.
func TestSandboxIsReadOnlyOutsideItsPaths(t *testing.T) {
	r := sandboxRunner(t)
	ws, artifacts, elsewhere := t.TempDir(), t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(artifacts, "app.bin"), []byte("genuine"), 0o644); err != nil {
		t.Fatal(err)
	}
	targets := []string{
		filepath.Join(artifacts, "app.bin"),
		filepath.Join(artifacts, "new"),
		filepath.Join(elsewhere, "new"),
		"/etc/stagegate-test-write",
		"/stagegate-test-write",
	}
	var script strings.Builder
	for _, p := range targets {
		script.WriteString("(echo tampered > '" + p + "') 2>/dev/null && echo wrote " + p + " || true\n")
	}
	res, out := runIn(t, r, runner.Spec{Script: script.String(), Dir: ws,
		Access: runner.Access{Writable: []string{ws}, ReadOnly: []string{artifacts}}})
	t.Cleanup(func() {
		_ = os.Remove("/etc/stagegate-test-write")
		_ = os.Remove("/stagegate-test-write")
	})
	if res.ExitCode != 0 {
		t.Fatalf("exit %d: %s", res.ExitCode, out)
	}
	if out != "" {
		t.Errorf("the action wrote outside its paths:\n%s", out)
	}
	if b, _ := os.ReadFile(filepath.Join(artifacts, "app.bin")); string(b) != "genuine" {
		t.Errorf("the artifact reads %q", b)
	}
	for _, p := range targets[1:] {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s exists on the host", p)
		}
	}
}

// liveWithArg lists the processes, other than zombies, whose command
// line holds arg.
func liveWithArg(arg string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil || !bytes.Contains(cmdline, []byte(arg)) || bytes.Contains(cmdline, []byte("grep")) {
			continue
		}
		if stat, err := os.ReadFile("/proc/" + e.Name() + "/stat"); err == nil {
			if f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:])); len(f) > 0 && f[0] == "Z" {
				continue
			}
		}
		pids = append(pids, pid)
	}
	return pids
}

// killArg ends what a failed test left running.
func killArg(arg string) {
	for _, pid := range liveWithArg(arg) {
		if p, err := os.FindProcess(pid); err == nil {
			_ = p.Kill()
		}
	}
}

// sandboxRunner is the runner under attack: the sandbox, once a probe
// shows it works. Without bubblewrap the test is skipped, unless
// STAGEGATE_REQUIRE_SANDBOX=1 (CI) makes that a failure.
func sandboxRunner(t *testing.T) *Runner {
	t.Helper()
	sb := &Sandbox{}
	if err := sb.Probe(context.Background()); err != nil {
		sandboxMissing(t, fmt.Sprintf("no working sandbox: %v", err))
	}
	return &Runner{Grace: 500 * time.Millisecond, Sandbox: sb}
}

// sandboxMissing skips a test that needs what this machine's bubblewrap
// lacks, naming the package to install, unless STAGEGATE_REQUIRE_SANDBOX=1
// (CI) makes it a failure.
func sandboxMissing(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("STAGEGATE_REQUIRE_SANDBOX") == "1" {
		t.Fatalf("the sandbox is required (STAGEGATE_REQUIRE_SANDBOX=1): %s", why)
	}
	t.Skipf("%s (apt-get install bubblewrap, 0.8 or later)", why)
}

// TestSandboxDirSymlinkDoesNotEscape commits, as a repository can, a
// symlink to a host directory and names it as the action's dir: the
// action must not reach the directory through it, nor anything nested in
// its workspace that was swapped for a symlink.
func TestSandboxDirSymlinkDoesNotEscape(t *testing.T) {
	r := sandboxRunner(t)
	ws, secretDir := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(secretDir, "github-app.json"), []byte("PRIVATE-KEY-MATERIAL"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"escape", "artifacts"} {
		if err := os.Symlink(secretDir, filepath.Join(ws, l)); err != nil {
			t.Fatal(err)
		}
	}
	var out syncBuffer
	res, err := r.Run(context.Background(), runner.Spec{
		Script: "cat github-app.json; echo planted > planted", Dir: filepath.Join(ws, "escape"),
		Env: []string{testPath}, Stdout: &out, Stderr: &out,
		// An artifact store inside the workspace, which an earlier action
		// replaced by a symlink.
		Access: runner.Access{Writable: []string{ws}, ReadOnly: []string{filepath.Join(ws, "artifacts")}},
	})
	if err == nil && res.ExitCode == 0 {
		t.Errorf("the action ran in the symlinked dir: %q", out.String())
	}
	if strings.Contains(out.String(), "PRIVATE-KEY-MATERIAL") {
		t.Errorf("the action read through the symlink")
	}
	if _, err := os.Stat(filepath.Join(secretDir, "planted")); err == nil {
		t.Errorf("the action wrote through the symlink")
	}
	res, all := runIn(t, r, runner.Spec{Script: "cat artifacts/github-app.json 2>&1 || true", Dir: ws,
		Access: runner.Access{Writable: []string{ws}, ReadOnly: []string{filepath.Join(ws, "artifacts")}}})
	if res.ExitCode != 0 || strings.Contains(all, "PRIVATE-KEY-MATERIAL") {
		t.Errorf("exit %d; the action read through a nested symlink: %q", res.ExitCode, all)
	}
}

// TestSandboxShowsLittleOfEtc lists /etc from inside: only what programs
// need, never the machine's keys or its shadow file.
func TestSandboxShowsLittleOfEtc(t *testing.T) {
	r := sandboxRunner(t)
	res, out := runIn(t, r, runner.Spec{Script: "ls /etc /etc/ssl", Dir: t.TempDir()})
	if res.ExitCode != 0 {
		t.Fatalf("exit %d: %s", res.ExitCode, out)
	}
	for _, name := range []string{"shadow", "private", "ssh_host", "sudoers", "machine-id", "environment"} {
		if strings.Contains(out, name) {
			t.Errorf("/etc shows %s:\n%s", name, out)
		}
	}
	for _, name := range []string{"passwd", "resolv.conf", "certs"} {
		if _, err := os.Stat("/etc/" + name); err == nil && !strings.Contains(out, name) {
			t.Errorf("/etc lacks %s:\n%s", name, out)
		}
	}
}

// TestSandboxForbidsNestedUserNamespaces tries to make a user namespace
// inside the sandbox, the first step of most kernel exploits, and to fill
// the sandbox's /tmp, which is memory, past its bound.
func TestSandboxForbidsNestedUserNamespaces(t *testing.T) {
	r := sandboxRunner(t)
	if !r.Sandbox.disableUserns || !r.Sandbox.tmpfsSize {
		sandboxMissing(t, "this bwrap lacks --disable-userns or --size")
	}
	if _, err := os.Stat("/usr/bin/unshare"); err != nil {
		t.Fatal("unshare (util-linux) is missing")
	}
	// The bound is 1 GiB; a test fills a smaller one.
	r.Sandbox.tmpBytes = 8 << 20
	res, out := runIn(t, r, runner.Spec{
		Script: `/usr/bin/unshare -U true 2>/dev/null && echo nested-userns || true
head -c 9M /dev/zero > /tmp/fill 2>/dev/null || true
echo "tmp holds $(($(wc -c < /tmp/fill) >> 20)) MiB"`,
		Dir: t.TempDir(),
	})
	if res.ExitCode != 0 {
		t.Fatalf("exit %d: %s", res.ExitCode, out)
	}
	if strings.Contains(out, "nested-userns") {
		t.Errorf("the action made a user namespace")
	}
	if !strings.Contains(out, "tmp holds 8 MiB") {
		t.Errorf("/tmp is not bounded: %s", out)
	}
}

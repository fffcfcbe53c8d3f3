//go:build linux

package local

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stagegate/stagegate/pipeline/runner"
)

// What a build needs still works inside the sandbox.

func TestSandboxRunResults(t *testing.T) {
	r := sandboxRunner(t)
	tests := []struct {
		name       string
		script     string
		env        []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{name: "success", script: "echo hello", wantStdout: "hello\n"},
		{name: "exit code is a result", script: "echo oops >&2; exit 3", wantCode: 3, wantStderr: "oops\n"},
		{name: "errexit stops at the first failing line", script: "false\necho unreachable", wantCode: 1},
		{name: "env is exactly the spec", script: `env | grep -Ev '^(PWD|OLDPWD|SHLVL|_)=' | sort`,
			env: []string{"A=1", "PATH=/usr/bin:/bin", "Z=two words"}, wantStdout: "A=1\nPATH=/usr/bin:/bin\nZ=two words\n"},
		{name: "empty env", script: `/usr/bin/env | grep -Ev '^(PWD|OLDPWD|SHLVL|_)=' | wc -l | tr -d ' '`, env: []string{}, wantStdout: "0\n"},
		// bwrap's init reports a command ended by signal N as a shell
		// does: exit status 128+N.
		{name: "signal gives 128+N", script: "kill -9 $$", wantCode: 137},
		{name: "one user, mapped", script: `[ "$(id -u)" = "` + uidString() + `" ] && echo same`, wantStdout: "same\n"},
		{name: "no capabilities", script: `grep ^CapEff /proc/self/status`, wantStdout: "CapEff:\t0000000000000000\n"},
		{name: "private tmp", script: `echo x > /tmp/f && cat /tmp/f`, wantStdout: "x\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut syncBuffer
			env := tt.env
			if env == nil {
				env = []string{testPath}
			}
			res, err := r.Run(context.Background(), runner.Spec{
				Script: tt.script, Dir: t.TempDir(), Env: env, Stdout: &out, Stderr: &errOut,
			})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if res.ExitCode != tt.wantCode || res.Killed {
				t.Errorf("result = %+v, want exit %d not killed (stderr %q)", res, tt.wantCode, errOut.String())
			}
			if got := out.String(); got != tt.wantStdout {
				t.Errorf("stdout = %q, want %q", got, tt.wantStdout)
			}
			if got := errOut.String(); got != tt.wantStderr {
				t.Errorf("stderr = %q, want %q", got, tt.wantStderr)
			}
		})
	}
}

func uidString() string { return strings.TrimSpace(strings.Fields(procStatusLine("Uid:"))[0]) }

func procStatusLine(key string) string {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, key); ok {
			return v
		}
	}
	return ""
}

// TestSandboxBuildWrites builds into the workspace, HOME and TMPDIR from a
// subdirectory of the workspace, and reads the artifacts of an earlier
// stage.
func TestSandboxBuildWrites(t *testing.T) {
	r := sandboxRunner(t)
	ws, home, tmp, artifacts := t.TempDir(), t.TempDir(), t.TempDir(), t.TempDir()
	sub := filepath.Join(ws, "src")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(artifacts, "lib.a"), []byte("earlier stage\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, out := runIn(t, r, runner.Spec{
		Script: `pwd
mkdir -p ../bin && cat "$ARTIFACTS/lib.a" > ../bin/app
echo cached > "$HOME/.cache-entry"
echo scratch > "$TMPDIR/scratch"`,
		Dir: sub,
		Env: []string{testPath, "HOME=" + home, "TMPDIR=" + tmp, "ARTIFACTS=" + artifacts},
		Access: runner.Access{
			Writable: []string{ws, home, tmp},
			ReadOnly: []string{artifacts},
		},
	})
	if res.ExitCode != 0 || out != sub+"\n" {
		t.Fatalf("exit %d, output %q", res.ExitCode, out)
	}
	for p, want := range map[string]string{
		filepath.Join(ws, "bin", "app"):     "earlier stage\n",
		filepath.Join(home, ".cache-entry"): "cached\n",
		filepath.Join(tmp, "scratch"):       "scratch\n",
	} {
		if b, err := os.ReadFile(p); err != nil || string(b) != want {
			t.Errorf("%s = %q, %v; want %q", p, b, err, want)
		}
	}
}

// TestSandboxOutputDrains checks that a large output arrives whole.
func TestSandboxOutputDrains(t *testing.T) {
	r := sandboxRunner(t)
	var out syncBuffer
	res, err := r.Run(context.Background(), runner.Spec{
		Script: "head -c 4000000 /dev/zero | tr '\\0' x; echo", Dir: t.TempDir(), Env: []string{testPath}, Stdout: &out,
	})
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("Run = %+v, %v", res, err)
	}
	if n := len(out.String()); n != 4000001 {
		t.Errorf("got %d bytes of output, want 4000001", n)
	}
}

// TestSandboxStop stops a script whose processes ignore SIGTERM, in its
// group and in a session of their own: they hear SIGTERM first, then
// are killed after the grace period, and none is left.
func TestSandboxStop(t *testing.T) {
	r := sandboxRunner(t)
	r.Grace = 300 * time.Millisecond
	const mark = "31.5713"
	tests := []struct {
		name   string
		script string
	}{
		{name: "TERM heard", script: `trap 'echo term >> heard; exit 0' TERM; sleep ` + mark + ` & echo up > up; wait`},
		{name: "TERM ignored", script: `trap 'echo term >> heard' TERM
setsid sh -c "trap 'echo daemon-term >> heard' TERM; sleep ` + mark + `; sleep ` + mark + `" </dev/null >/dev/null 2>&1 &
sh -c "trap '' TERM; sleep ` + mark + `" & echo up > up; while :; do wait; done`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Cleanup(func() { killArg(mark) })
			ctx, cancel := context.WithCancel(context.Background())
			go func() {
				waitForFile(t, filepath.Join(dir, "up"))
				for len(liveWithArg(mark)) == 0 {
					time.Sleep(5 * time.Millisecond)
				}
				cancel()
			}()
			res, err := r.Run(ctx, runner.Spec{Script: tt.script, Dir: dir, Env: []string{testPath}})
			if err != nil {
				t.Fatal(err)
			}
			if !res.Killed {
				t.Errorf("Killed = false, want true")
			}
			if pids := liveWithArg(mark); len(pids) > 0 {
				t.Errorf("processes left: %v", pids)
			}
			heard, _ := os.ReadFile(filepath.Join(dir, "heard"))
			if !strings.Contains(string(heard), "term") {
				t.Errorf("the script did not get SIGTERM first: %q", heard)
			}
		})
	}
}

func TestSandboxTimeout(t *testing.T) {
	r := sandboxRunner(t)
	r.Grace = 100 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	res, err := r.Run(ctx, runner.Spec{Script: "sleep 30", Dir: t.TempDir(), Env: []string{testPath}})
	if err != nil || !res.Killed {
		t.Fatalf("Run = %+v, %v; want killed", res, err)
	}
}

func TestSandboxMissingDirIsAnError(t *testing.T) {
	r := sandboxRunner(t)
	if _, err := r.Run(context.Background(), runner.Spec{Script: "true", Dir: "/nonexistent/dir"}); err == nil {
		t.Fatal("want an error for a missing working directory")
	}
}

// TestSandboxMounts checks the order of the mounts, on which what is
// visible depends: parents before what they contain, and at one path
// read-only last.
func TestSandboxMounts(t *testing.T) {
	base := t.TempDir()
	data := filepath.Join(base, "data")
	ws := filepath.Join(data, "ws")
	if err := os.MkdirAll(ws, 0o755); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(base, "app.db")
	if err := os.WriteFile(db, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	elsewhere := t.TempDir()
	sb := &Sandbox{Hidden: []string{elsewhere}}
	got := sb.mounts(runner.Spec{Dir: ws, Access: runner.Access{
		Writable: []string{ws, base, "relative/ignored", filepath.Join(base, "missing")},
		ReadOnly: []string{base},
		Hidden:   []string{data, db},
	}})
	want := []mount{
		{mountWritable, base},
		{mountReadOnly, base},
		{mountHiddenFile, db},
		{mountHidden, data},
		{mountWritable, ws},
	}
	// Same depth: by path. db and data are both at depth(base)+1.
	sort.SliceStable(want[2:4], func(i, j int) bool { return want[2+i].path < want[2+j].path })
	if !slices.Equal(got, want) {
		t.Errorf("mounts =\n%v\nwant\n%v", got, want)
	}
	args := strings.Join(sb.args(runner.Spec{Dir: ws}), " ")
	for _, a := range []string{"--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--die-with-parent", "--new-session", "--cap-drop ALL", "--proc /proc", "--remount-ro /", "--chdir " + ws} {
		if !strings.Contains(args, a) {
			t.Errorf("bwrap args lack %s: %s", a, args)
		}
	}
	if strings.Contains(args, "--unshare-net") || strings.Contains(args, "--unshare-all") {
		t.Errorf("the network must be shared: %s", args)
	}
}

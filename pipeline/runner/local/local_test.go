//go:build unix

package local

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stagegate/stagegate/pipeline/runner"
)

// syncBuffer is safe for the runner's copy goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRunResults(t *testing.T) {
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
		{name: "env is exactly the spec", script: `echo "$A:${HOME-unset}"`, env: []string{"A=1"}, wantStdout: "1:unset\n"},
		// Less the variables a shell sets itself (dash sets PWD; bash
		// also SHLVL, _ and OLDPWD).
		{name: "nil env is empty", script: `env | grep -Ev '^(PWD|OLDPWD|SHLVL|_)=' | wc -l | tr -d ' '`, wantStdout: "0\n"},
		{name: "signal gives -1", script: "kill -9 $$", wantCode: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut syncBuffer
			res, err := (&Runner{}).Run(context.Background(), runner.Spec{
				Script: tt.script, Dir: t.TempDir(), Env: tt.env, Stdout: &out, Stderr: &errOut,
			})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if res.ExitCode != tt.wantCode || res.Killed {
				t.Errorf("result = %+v, want exit %d not killed", res, tt.wantCode)
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

func TestParentEnvironmentDoesNotLeak(t *testing.T) {
	t.Setenv("STAGEGATE_TEST_PRIVATE_KEY", "do-not-leak")
	var out syncBuffer
	_, err := (&Runner{}).Run(context.Background(), runner.Spec{
		Script: "env", Dir: t.TempDir(), Env: []string{"PATH=" + os.Getenv("PATH")}, Stdout: &out,
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "do-not-leak") {
		t.Fatalf("parent variable reached the command:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "PATH=") {
		t.Fatalf("spec variable missing:\n%s", out.String())
	}
}

func TestStartFailureIsAnError(t *testing.T) {
	_, err := (&Runner{}).Run(context.Background(), runner.Spec{Script: "true", Dir: "/nonexistent/dir"})
	if err == nil {
		t.Fatal("want an error for a missing working directory")
	}
}

// TestStopKillsTheWholeGroup covers cancellation and a grandchild that
// ignores SIGTERM: both must be gone when Run returns.
func TestStopKillsTheWholeGroup(t *testing.T) {
	tests := []struct {
		name   string
		script string
		grace  time.Duration
	}{
		{name: "grandchild", script: `sh -c 'sleep 30' & echo $! > pid; wait`, grace: 5 * time.Second},
		{name: "SIGTERM ignored", script: `trap '' TERM; sh -c "trap '' TERM; sleep 30" & echo $! > pid; wait`, grace: 200 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			ctx, cancel := context.WithCancel(context.Background())
			go func() {
				waitForFile(t, filepath.Join(dir, "pid"))
				cancel()
			}()
			begin := time.Now()
			res, err := (&Runner{Grace: tt.grace}).Run(ctx, runner.Spec{Script: tt.script, Dir: dir, Env: []string{"PATH=/usr/bin:/bin"}})
			if err != nil {
				t.Fatal(err)
			}
			if !res.Killed {
				t.Errorf("Killed = false, want true")
			}
			// Well under the 30s the sleep would last if not killed.
			if elapsed := time.Since(begin); elapsed > 20*time.Second {
				t.Errorf("Run took %v: the group was not killed", elapsed)
			}
			assertGone(t, readPid(t, filepath.Join(dir, "pid")))
		})
	}
}

func TestStragglersAreKilledAfterExit(t *testing.T) {
	dir := t.TempDir()
	begin := time.Now()
	res, err := (&Runner{}).Run(context.Background(), runner.Spec{
		Script: `sleep 30 & echo $! > pid; echo done`, Dir: dir, Env: []string{"PATH=/usr/bin:/bin"},
	})
	if err != nil || res.ExitCode != 0 || res.Killed {
		t.Fatalf("Run = %+v, %v", res, err)
	}
	if elapsed := time.Since(begin); elapsed > 20*time.Second { // the sleep lasts 30s
		t.Errorf("Run waited %v for a background process", elapsed)
	}
	assertGone(t, readPid(t, filepath.Join(dir, "pid")))
}

func TestEscapedProcessCannotHoldTheRun(t *testing.T) {
	dir := t.TempDir()
	begin := time.Now()
	var out syncBuffer
	res, err := (&Runner{}).Run(context.Background(), runner.Spec{
		// setsid leaves the process group but keeps stdout open; the
		// loop waits until it has left.
		Script: `setsid sh -c 'echo $$ > pid; exec sleep 30' &
while [ ! -s pid ]; do sleep 0.01; done; echo out`,
		Dir: dir, Env: []string{"PATH=/usr/bin:/bin"}, Stdout: &out,
	})
	pid := readPid(t, filepath.Join(dir, "pid"))
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("Run = %+v, %v", res, err)
	}
	if elapsed := time.Since(begin); elapsed > 20*time.Second { // the sleep lasts 30s
		t.Errorf("Run took %v: it waited for the escaped process", elapsed)
	}
	if out.String() != "out\n" {
		t.Errorf("stdout = %q", out.String())
	}
}

func waitForFile(t *testing.T, path string) {
	for i := 0; i < 2000; i++ { // 20s
		if b, err := os.ReadFile(path); err == nil && len(b) > 0 && b[len(b)-1] == '\n' {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("%s never appeared", path)
}

func readPid(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// assertGone checks that pid is dead or a zombie awaiting its reaper.
func assertGone(t *testing.T, pid int) {
	t.Helper()
	for i := 0; i < 100; i++ {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			if _, statErr := os.Stat("/proc/self"); statErr != nil {
				// No procfs: fall back to signal 0.
				if syscall.Kill(pid, 0) != nil {
					return
				}
			} else {
				return
			}
		} else if fields := strings.Fields(string(stat)); len(fields) > 2 && fields[2] == "Z" {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("process %d still running", pid)
}

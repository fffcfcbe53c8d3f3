//go:build unix

package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
)

// binary is the stagegate command built once for these tests: they run
// it as users do, as a process with its own exit code.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "stagegate-cli-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "stagegate")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		panic("build: " + err.Error() + "\n" + string(out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// workTree makes a git work tree on branch main holding the pipeline.
func workTree(t *testing.T, pipeline string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("git", "-C", dir, "init", "-q", "-b", "main").CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	if err := os.WriteFile(filepath.Join(dir, ".stagegate.yml"), []byte(pipeline), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

type result struct {
	code           int
	stdout, stderr string
}

func stagegate(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatalf("stagegate %v: %v", args, err)
	}
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

const passing = `stages:
  - name: build
    actions:
      - { name: compile, run: "echo compiled; echo version=7 >> $STAGEGATE_OUTPUT" }
  - name: test
    actions:
      - { name: unit, run: "echo unit sees $STAGEGATE_OUTPUT_BUILD_VERSION" }
      - { name: vet, run: "echo vetted" }
`

func TestRun(t *testing.T) {
	tests := []struct {
		name     string
		pipeline string
		args     []string
		env      []string
		wantCode int
		want     []string // substrings of stdout
		wantErr  []string // substrings of stderr
		notWant  []string // must not appear in stdout
	}{
		{
			name: "success", pipeline: passing, args: []string{"run"}, wantCode: 0,
			want: []string{"[build/compile] compiled", "[test/unit] unit sees 7", "[test/vet] vetted",
				"STAGE", "compile", "✓ success", ": success in"},
		},
		{
			name: "failure stops the run", wantCode: 1, args: []string{"run"},
			pipeline: `stages:
  - { name: build, actions: [{ name: compile, run: "echo broken >&2; exit 4" }] }
  - { name: test, actions: [{ name: unit, run: "echo never ran" }] }
`,
			want:    []string{"[build/compile] broken", "✗ failure  4", "skipped: stage build failed", "failure in"},
			notWant: []string{"never ran"},
		},
		{
			name: "deploy stages run only when named", pipeline: passing + `  - name: ship
    environment: production
    actions: [{ name: push, run: "echo shipped" }]
`, args: []string{"run"}, wantCode: 0,
			want: []string{"a local run deploys only with --stage ship"}, notWant: []string{"shipped"},
		},
		{
			name: "a named deploy stage runs", pipeline: passing + `  - name: ship
    environment: production
    actions: [{ name: push, run: "echo shipped" }]
`, args: []string{"run", "--stage", "ship"}, wantCode: 0,
			want: []string{"[ship/push] shipped", "skipped: not selected with --stage"},
		},
		{
			name: "the parent's environment does not leak", args: []string{"run"}, wantCode: 0,
			env:      []string{"STAGEGATE_WEBHOOK_SECRET=hunter2-leak", "VISIBLE=passed"},
			pipeline: "pass_env: [VISIBLE]\nstages: [{ name: s, actions: [{ name: a, run: env }] }]\n",
			want:     []string{"VISIBLE=passed", "CI=true", "STAGEGATE_STAGE=s"}, notWant: []string{"hunter2-leak"},
		},
		{
			name: "secrets are masked", args: []string{"run"}, wantCode: 0,
			env:      []string{"DEPLOY_TOKEN=s3cr3t-value"},
			pipeline: "secrets: [DEPLOY_TOKEN]\nstages: [{ name: s, actions: [{ name: a, run: 'echo token=$DEPLOY_TOKEN' }] }]\n",
			want:     []string{"token=***"}, notWant: []string{"s3cr3t-value"},
		},
		{
			name: "path filters and explicit events", pipeline: "on: { push: { paths: [src/**] } }\n" + passing,
			args: []string{"run", "--changed", "docs/a.md"}, wantCode: 0,
			want: []string{"no changed file matches on.push.paths [src/**]", "nothing to run"},
		},
		{
			name: "invalid pipeline is a config error", pipeline: "stages:\n  - name: build\n    actoins: []\n",
			args: []string{"run"}, wantCode: 2, wantErr: []string{".stagegate.yml:3:5: unknown key \"actoins\""},
		},
		{
			name: "unknown stage is a usage error", pipeline: passing, args: []string{"run", "--stage", "nope"},
			wantCode: 2, wantErr: []string{`no stage "nope"; the stages are build, test`},
		},
		{
			name: "bad event is a usage error", pipeline: passing, args: []string{"run", "--event", "release"},
			wantCode: 2, wantErr: []string{"--event must be push or pull_request"},
		},
		{
			name: "pull request needs a base", pipeline: passing, args: []string{"run", "--event", "pull_request"},
			wantCode: 2, wantErr: []string{"--base is required"},
		},
		{
			name: "unknown flag is a usage error", pipeline: passing, args: []string{"run", "--nope"},
			wantCode: 2, wantErr: []string{"unknown flag: --nope"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := workTree(t, tt.pipeline)
			res := stagegate(t, dir, tt.env, tt.args...)
			if res.code != tt.wantCode {
				t.Errorf("exit code = %d, want %d\nstdout:\n%s\nstderr:\n%s", res.code, tt.wantCode, res.stdout, res.stderr)
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
				if strings.Contains(res.stdout+res.stderr, w) {
					t.Errorf("output has %q:\n%s%s", w, res.stdout, res.stderr)
				}
			}
		})
	}
}

func TestValidate(t *testing.T) {
	dir := workTree(t, passing)
	bad := filepath.Join(dir, "bad.yml")
	if err := os.WriteFile(bad, []byte("stagse: []\nmode: fast\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
		wantErr  []string
	}{
		{"default file", []string{"validate"}, 0, ".stagegate.yml: ok, 2 stages", nil},
		{"every error of every file", []string{"validate", ".stagegate.yml", "bad.yml", "missing.yml"}, 1, ".stagegate.yml: ok",
			[]string{`bad.yml:1:1: unknown key "stagse" in pipeline; did you mean "stages"?`, "bad.yml:2:7:", "missing.yml:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := stagegate(t, dir, nil, tt.args...)
			if res.code != tt.wantCode || !strings.Contains(res.stdout, tt.wantOut) {
				t.Errorf("code %d stdout %q; want %d and %q\nstderr: %s", res.code, res.stdout, tt.wantCode, tt.wantOut, res.stderr)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(res.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, res.stderr)
				}
			}
		})
	}
}

func TestExplainRunsNothing(t *testing.T) {
	dir := workTree(t, `stages:
  - { name: build, actions: [{ name: touch, run: "touch ran" }] }
  - name: deploy
    if: branch == "main"
    actions: [{ name: ship, run: "touch ran" }]
`)
	res := stagegate(t, dir, nil, "explain", "--branch", "feature/x")
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	for _, w := range []string{"event: push to branch feature/x", "build   run",
		"deploy  skip   skipped: if `branch == \"main\"` was false on branch feature/x"} {
		if !strings.Contains(res.stdout, w) {
			t.Errorf("stdout lacks %q:\n%s", w, res.stdout)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "ran")); err == nil {
		t.Error("explain ran an action")
	}
}

func TestSchemaMatchesCommittedFile(t *testing.T) {
	res := stagegate(t, ".", nil, "schema")
	committed, err := os.ReadFile("../../schema/stagegate.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	if res.code != 0 || res.stdout != string(committed) {
		t.Errorf("stagegate schema (exit %d) differs from schema/stagegate.schema.json", res.code)
	}
	if v := stagegate(t, ".", nil, "version"); v.code != 0 || !strings.HasPrefix(v.stdout, "stagegate ") {
		t.Errorf("version: %+v", v)
	}
}

// TestInterruptStopsEverything sends SIGINT as a terminal's Ctrl-C would
// and expects exit 130 with the action's whole process group gone.
func TestInterruptStopsEverything(t *testing.T) {
	dir := workTree(t, `stages:
  - { name: s, actions: [{ name: a, run: "sh -c 'sleep 60.4711' & echo $! > child.pid; wait" }] }
`)
	cmd := exec.Command(binary, "run", "--grace", "2s")
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pidFile := filepath.Join(dir, "child.pid")
	waitFor(t, func() bool { b, _ := os.ReadFile(pidFile); return bytes.HasSuffix(b, []byte("\n")) })
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 130 {
		t.Fatalf("exit = %v, want 130\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "cancelled") {
		t.Errorf("output does not report the cancellation:\n%s", out.String())
	}
	// In the sandbox the pid file holds a pid of its own namespace: look
	// for the sleep by its argument instead.
	waitFor(t, func() bool { return len(processesWithArg("60.4711")) == 0 })
}

// processesWithArg lists the live processes whose command line holds arg.
func processesWithArg(arg string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline"); err == nil && bytes.Contains(b, []byte(arg)) && !processGone(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// TestLiveViewOnATerminal runs stagegate under a pseudo-terminal, where
// it must redraw in place and still end with the summary.
func TestLiveViewOnATerminal(t *testing.T) {
	dir := workTree(t, passing)
	cmd := exec.Command(binary, "run")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out bytes.Buffer
	buf := make([]byte, 4096)
	for {
		n, err := f.Read(buf)
		out.Write(buf[:n])
		if err != nil {
			break
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	s := out.String()
	for _, w := range []string{"\x1b[2K", "✓ build", "✓ compile", "STAGE", ": success in"} {
		if !strings.Contains(s, w) {
			t.Errorf("terminal output lacks %q:\n%q", w, s)
		}
	}
	if strings.Contains(s, "[build/compile]") {
		t.Errorf("terminal output has plain lines:\n%s", s)
	}
}

func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// processGone reports whether pid has exited (a zombie counts as gone).
func processGone(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return syscall.Kill(pid, 0) != nil
	}
	fields := strings.Fields(string(stat))
	return len(fields) > 2 && fields[2] == "Z"
}

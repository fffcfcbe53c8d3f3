//go:build unix

package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/stagegate/stagegate/internal/githubtest"
)

// server is `stagegate serve` as a process, against the fake GitHub.
type server struct {
	t      testing.TB
	gh     *githubtest.Server
	repo   *githubtest.Repo
	env    []string
	url    string
	cmd    *exec.Cmd
	output *lockedBuffer
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

const serveSecret = "serve-test-secret"

func newServer(t testing.TB, pipeline string) *server {
	gh := githubtest.New(t)
	repo := gh.AddRepo("acme", "web")
	repo.Commit("main", map[string]string{".stagegate.yml": pipeline}, "initial")
	gh.AddInstallation("acme", "web")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	s := &server{t: t, gh: gh, repo: repo, url: "http://" + addr, output: &lockedBuffer{}}
	s.env = []string{
		"STAGEGATE_ADDR=" + addr,
		fmt.Sprintf("STAGEGATE_APP_ID=%d", gh.AppID()),
		"STAGEGATE_PRIVATE_KEY=" + string(gh.PrivateKeyPEM()),
		"STAGEGATE_WEBHOOK_SECRET=" + serveSecret,
		"STAGEGATE_GITHUB_URL=" + gh.APIURL(),
		"STAGEGATE_DATABASE=sqlite://" + filepath.Join(dir, "stagegate.db"),
		"STAGEGATE_DATA_DIR=" + filepath.Join(dir, "data"),
		"STAGEGATE_SHUTDOWN_GRACE=1s",
		// The tests' actions wait for release files in temporary
		// directories, which the sandbox shows only when exposed.
		"STAGEGATE_SANDBOX_EXPOSE=" + os.TempDir(),
	}
	t.Cleanup(func() {
		if s.cmd != nil && s.cmd.ProcessState == nil {
			_ = s.cmd.Process.Kill()
			_ = s.cmd.Wait()
		}
		if t.Failed() {
			t.Logf("stagegate serve output:\n%s", s.output.String())
		}
	})
	return s
}

func (s *server) start() {
	s.t.Helper()
	s.cmd = exec.Command(binary, "serve")
	s.cmd.Env = append(os.Environ(), s.env...)
	s.cmd.Stdout, s.cmd.Stderr = s.output, s.output
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	waitFor(s.t, func() bool {
		resp, err := http.Get(s.url + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
}

func (s *server) push(files map[string]string) string {
	s.t.Helper()
	before := s.repo.Head("main")
	sha := s.repo.Commit("main", files, "change")
	body := s.repo.Webhook("push", func(p map[string]any) {
		githubtest.SetPath(p, "ref", "refs/heads/main")
		githubtest.SetPath(p, "before", before)
		githubtest.SetPath(p, "after", sha)
		githubtest.SetPath(p, "created", false)
	})
	resp := githubtest.SendWebhook(s.t, s.url+"/webhook", serveSecret, "push", githubtest.NewDeliveryID(), body)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		s.t.Fatalf("push: %d %s", resp.StatusCode, b)
	}
	return sha
}

// check is the latest check run of the name on sha, if any.
func (s *server) check(sha, name string) (githubtest.CheckRun, bool) {
	var latest githubtest.CheckRun
	found := false
	for _, c := range s.gh.CheckRuns("acme", "web") {
		if c.HeadSHA == sha && c.Name == name && c.ID > latest.ID {
			latest, found = c, true
		}
	}
	return latest, found
}

func (s *server) inProgress(sha string) []string {
	var names []string
	for _, c := range s.gh.CheckRuns("acme", "web") {
		if c.HeadSHA == sha && c.Status != "completed" {
			names = append(names, fmt.Sprintf("%s#%d", c.Name, c.ID))
		}
	}
	return names
}

// slowUntil is a pipeline whose first stage waits until the file exists.
func slowUntil(release string) string {
	return `stages:
  - name: work
    actions:
      - { name: wait, run: '` + waitForFile(release) + `; echo released' }
  - { name: after, actions: [{ name: a, run: 'echo after' }] }
`
}

// TestKilledMidRunLeavesNoCheckInProgress kills the server with SIGKILL
// while a stage runs, and starts it again: the interrupted run's checks
// are concluded, and the run starts again and finishes.
func TestKilledMidRunLeavesNoCheckInProgress(t *testing.T) {
	release := filepath.Join(t.TempDir(), "release")
	s := newServer(t, slowUntil(release))
	s.start()
	sha := s.push(map[string]string{"a": "1"})
	waitFor(t, func() bool { c, ok := s.check(sha, "stagegate/work"); return ok && c.Status == "in_progress" })
	first, _ := s.check(sha, "stagegate/work")

	s.kill()
	if len(s.inProgress(sha)) == 0 {
		t.Fatal("expected the killed run's checks to be in progress before the restart")
	}
	writeRelease(t, release)
	s.start()
	waitFor(t, func() bool {
		c, ok := s.check(sha, "stagegate")
		return ok && c.Status == "completed" && c.ID > first.ID && len(s.inProgress(sha)) == 0
	})
	old, _ := s.gh.CheckRun(first.ID)
	if old.Conclusion != "cancelled" || !strings.Contains(old.Output.Summary, "stagegate stopped while this run was in progress; it started again as run") {
		t.Errorf("the interrupted stage's check: %s %q", old.Conclusion, old.Output.Summary)
	}
	if c, _ := s.check(sha, "stagegate"); c.Conclusion != "success" {
		t.Errorf("the restarted run: %s", c.Conclusion)
	}
}

// TestSIGTERMQueuesTheRunAgain stops the server gracefully while a stage
// runs past the grace period: the checks end cancelled, and the run
// starts again at the next start.
func TestSIGTERMQueuesTheRunAgain(t *testing.T) {
	release := filepath.Join(t.TempDir(), "release")
	s := newServer(t, slowUntil(release))
	s.start()
	sha := s.push(map[string]string{"a": "1"})
	waitFor(t, func() bool { c, ok := s.check(sha, "stagegate/work"); return ok && c.Status == "in_progress" })

	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Wait(); err != nil {
		t.Fatalf("serve exited with %v after SIGTERM", err)
	}
	if left := s.inProgress(sha); len(left) != 0 {
		t.Fatalf("checks left in progress after a graceful stop: %v", left)
	}
	if c, _ := s.check(sha, "stagegate"); c.Conclusion != "cancelled" || !strings.Contains(c.Output.Summary, "started again as run") {
		t.Errorf("the stopped run's summary: %s %q, want cancelled and saying it starts again", c.Conclusion, c.Output.Summary)
	}
	writeRelease(t, release)
	s.start()
	s.waitSucceeded(sha)
}

// TestKilledDuringADeployEndsItsDeployment kills the server while a
// deploy stage runs: the next start gives that GitHub deployment a final
// error status and deploys again.
func TestKilledDuringADeployEndsItsDeployment(t *testing.T) {
	release := filepath.Join(t.TempDir(), "release")
	s := newServer(t, `stages:
  - name: ship
    environment: production
    actions:
      - { name: deploy, run: '`+waitForFile(release)+`; echo shipped' }
`)
	s.start()
	sha := s.push(map[string]string{"a": "1"})
	waitFor(t, func() bool {
		deps := s.gh.Deployments("acme", "web")
		return len(deps) == 1 && len(deps[0].Statuses) > 0 && deps[0].Statuses[len(deps[0].Statuses)-1].State == "in_progress"
	})
	s.kill()
	writeRelease(t, release)
	s.start()
	s.waitSucceeded(sha)
	deps := s.gh.Deployments("acme", "web")
	if len(deps) != 2 {
		t.Fatalf("%d deployments, want the interrupted one and the new one", len(deps))
	}
	last := func(i int) string { return deps[i].Statuses[len(deps[i].Statuses)-1].State }
	if last(0) != "error" || last(1) != "success" {
		t.Errorf("deployment statuses end %s and %s, want error and success", last(0), last(1))
	}
}

// TestAnInterruptedRunResumesAtItsStage kills the server during the
// second stage: the next start runs the pipeline again from that stage,
// reusing the first stage's result and artifact.
func TestAnInterruptedRunResumesAtItsStage(t *testing.T) {
	release := filepath.Join(t.TempDir(), "release")
	s := newServer(t, `stages:
  - name: build
    actions: [{ name: compile, run: 'echo binary > app.bin', artifacts: [app.bin] }]
  - name: test
    actions: [{ name: wait, run: 'test -f "$STAGEGATE_ARTIFACTS/app.bin"; `+waitForFile(release)+`' }]
`)
	s.start()
	sha := s.push(map[string]string{"a": "1"})
	waitFor(t, func() bool { c, ok := s.check(sha, "stagegate/test"); return ok && c.Status == "in_progress" })
	firstBuild, _ := s.check(sha, "stagegate/build")
	s.kill()
	writeRelease(t, release)
	s.start()
	s.waitSucceeded(sha)
	build, _ := s.check(sha, "stagegate/build")
	if build.ID == firstBuild.ID || !strings.Contains(build.Output.Summary, "reused") {
		t.Errorf("the resumed run's build check: %q, want it reused", build.Output.Summary)
	}
}

// waitForFile is a shell loop that waits for path, bounded: a test that
// fails before writing it (and a server killed with SIGKILL, whose
// actions live on) must not leave the loop running for ever.
func waitForFile(path string) string {
	return `i=0; while [ ! -f ` + path + ` ] && [ $i -lt 1200 ]; do i=$((i+1)); sleep 0.05; done`
}

// kill stops the server with SIGKILL, as a crash or an OOM kill would:
// its actions live on, and nothing is concluded.
func (s *server) kill() {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		s.t.Fatal(err)
	}
	_ = s.cmd.Wait()
}

// waitSucceeded waits until the run of sha has concluded success.
func (s *server) waitSucceeded(sha string) {
	s.t.Helper()
	waitFor(s.t, func() bool {
		c, ok := s.check(sha, "stagegate")
		return ok && c.Status == "completed" && c.Conclusion == "success"
	})
}

func writeRelease(t testing.TB, path string) {
	t.Helper()
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

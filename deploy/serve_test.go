//go:build unix

package deploy_test

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stagegate/stagegate/internal/githubtest"
)

// TestServeWithFlyEnv starts the binary built as the Dockerfile builds it,
// with the image's command and fly.toml's environment, the volume moved to
// a temporary directory and the secrets made up, and asks it what Fly.io
// would: the HTTP checks and the metrics on the internal port. Then it
// stops it with fly.toml's kill_signal and wants a clean exit within
// kill_timeout.
func TestServeWithFlyEnv(t *testing.T) {
	bin := imageBinary(t)
	fc := readFly(t)
	if fc.HTTPService == nil || len(fc.Mounts) == 0 {
		t.Fatal("fly.toml has no [http_service] or [[mounts]]")
	}
	final := readDockerfile(t).final()

	// The arguments: ENTRYPOINT after the binary, then CMD.
	var args []string
	if eps := final.all("ENTRYPOINT"); len(eps) > 0 {
		l, err := eps[len(eps)-1].list()
		if err != nil {
			t.Fatal(err)
		}
		if i := slices.IndexFunc(l, func(a string) bool { return filepath.Base(a) == "stagegate" }); i >= 0 {
			args = l[i+1:]
		}
	}
	if cmds := final.all("CMD"); len(cmds) > 0 {
		l, err := cmds[len(cmds)-1].list()
		if err != nil {
			t.Fatal(err)
		}
		args = append(args, l...)
	}

	// A faithful fake GitHub with the App's key and one installation. The
	// server must start and answer Fly's checks; at start it lists the
	// App's installations, signed as the App.
	github := githubtest.New(t)
	github.AddRepo("acme", "widgets")
	github.AddInstallation("acme", "widgets")

	vol := t.TempDir()
	dest := strings.TrimSuffix(fc.Mounts[0].Destination, "/")
	onVolume := func(v string) string {
		if v == dest {
			return vol
		}
		return strings.ReplaceAll(v, dest+"/", vol+"/")
	}
	port := freePort(t)
	env := withoutEnv(os.Environ(), envNames(os.Environ(), "STAGEGATE_")...)
	for k, v := range flyEnv(t, fc) {
		if strings.HasPrefix(k, "STAGEGATE_") {
			env = append(env, k+"="+onVolume(v))
		}
	}
	env = append(env,
		fmt.Sprintf("STAGEGATE_ADDR=127.0.0.1:%d", port),
		"STAGEGATE_APP_ID="+strconv.FormatInt(github.AppID(), 10),
		"STAGEGATE_WEBHOOK_SECRET=deploy-test",
		"STAGEGATE_PRIVATE_KEY="+string(github.PrivateKeyPEM()),
		"STAGEGATE_GITHUB_URL="+github.APIURL(),
	)

	var logs lockedBuffer
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Dir = vol
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	waited := false
	defer func() {
		if !waited {
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("stagegate %s with fly.toml's environment logged:\n%s", strings.Join(args, " "), logs.String())
		}
	}()

	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	client := &http.Client{Timeout: 5 * time.Second}
	get := func(p string) (int, string) {
		resp, err := client.Get(base + p)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	}

	// Wait for the first check as Fly does, within its grace period and
	// a margin for a slow machine.
	first := fc.HTTPService.Checks[0]
	deadline := time.Now().Add(first.GracePeriod.Duration + 30*time.Second)
	for {
		code, _ := get(first.Path)
		if code == http.StatusOK {
			break
		}
		select {
		case err := <-exited:
			waited = true
			t.Fatalf("stagegate exited before answering %s: %v", first.Path, err)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s did not answer 200 within %v", first.Path, first.GracePeriod.Duration+30*time.Second)
		}
	}
	for _, c := range fc.HTTPService.Checks {
		if code, body := get(c.Path); code != http.StatusOK {
			t.Errorf("Fly's check GET %s: %d %s", c.Path, code, body)
		}
	}
	for _, m := range fc.Metrics {
		if code, body := get(m.Path); code != http.StatusOK || !strings.Contains(body, "stagegate_") {
			t.Errorf("Fly's metrics scrape GET %s: %d, no stagegate_ metrics", m.Path, code)
		}
	}

	// It reached GitHub, with the App's JWT, and GitHub took it.
	listed := func() bool {
		return slices.ContainsFunc(github.CallsTo("GET /app/installations"), func(c githubtest.Call) bool {
			return c.Cred == githubtest.CredAppJWT && c.Authenticated && c.AppID == github.AppID() && c.Status == http.StatusOK
		})
	}
	for deadline := time.Now().Add(30 * time.Second); !listed() && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	if !listed() {
		t.Errorf("no authenticated GET /app/installations with the App's JWT at start; calls: %+v", github.Calls())
	}

	// What the server keeps lands on the volume.
	serverEnv := flyEnv(t, fc)
	for _, p := range []string{sqlitePath(t, onVolume(setting(t, serverEnv, "STAGEGATE_DATABASE"))), onVolume(setting(t, serverEnv, "STAGEGATE_DATA_DIR"))} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("not on the volume: %v", err)
		}
	}

	sig := map[string]os.Signal{"SIGTERM": syscall.SIGTERM, "SIGINT": os.Interrupt}[fc.KillSignal]
	if sig == nil {
		t.Fatalf("kill_signal %q: this test knows SIGTERM and SIGINT", fc.KillSignal)
	}
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		waited = true
		if err != nil {
			t.Errorf("after %s stagegate exited with %v, want 0", fc.KillSignal, err)
		}
	case <-time.After(fc.KillTimeout.Duration):
		t.Errorf("stagegate still runs %v after %s: Fly would kill it", fc.KillTimeout, fc.KillSignal)
	}
}

// freePort is a TCP port nobody listens on at the moment.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// envNames lists the variables of env whose names start with prefix.
func envNames(env []string, prefix string) []string {
	var out []string
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	return out
}

// lockedBuffer collects a process's output, written by exec's copying
// goroutines and read by the test.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

package app_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/stagegate/stagegate/app"
	"github.com/stagegate/stagegate/internal/githubtest"
)

// The attacks of a fork's build on the App (issue 8, point 1), through the
// whole App and the fake GitHub, with the App set up as `stagegate serve`
// sets it up by default: the database and the stored credentials in the
// data dir, and actions in the sandbox. The attacker is a fork's pull
// request that a maintainer let run with /ok-to-test; its pipeline file
// is the attacker's. Each attack prints what it got, disguised (rot13) so
// that no masking hides it, and the test looks for it in the logs GitHub
// shows.

// requireSandbox skips without bubblewrap, unless CI requires it.
func requireSandbox(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("bwrap"); err != nil {
		if os.Getenv("STAGEGATE_REQUIRE_SANDBOX") == "1" {
			t.Fatal("bwrap is required (apt-get install bubblewrap)")
		}
		t.Skip("bwrap not found (apt-get install bubblewrap)")
	}
}

// credentialsCanary stands for the App's private key in the stored
// credentials.
const credentialsCanary = "MIIEcanary-private-key-of-the-app"

// newAttackHarness is the App as served by default, with files on main.
func newAttackHarness(t *testing.T, files map[string]string) *harness {
	t.Helper()
	requireSandbox(t)
	gh := githubtest.New(t)
	repo := gh.AddRepo("acme", "web")
	repo.Commit("main", files, "initial")
	dataDir := t.TempDir()
	h := &harness{t: t, gh: gh, repo: repo, inst: gh.AddInstallation("acme", "web"), level: zerolog.InfoLevel,
		runner: servedRunner(t, dataDir)}
	h.cfg = app.Config{
		Addr: "127.0.0.1:0", AppID: gh.AppID(), PrivateKey: gh.PrivateKeyPEM(), WebhookSecret: []byte(webhookSecret),
		GitHubURL: gh.APIURL(), Database: "sqlite://" + filepath.Join(dataDir, "stagegate.db"), DataDir: dataDir,
	}
	// As /setup stores them.
	if err := os.WriteFile(filepath.Join(dataDir, "github-app.json"), []byte(`{"id":1,"pem":"`+credentialsCanary+`"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	h.start()
	h.gh.SetPermission("acme", "web", "alice", "write")
	h.gh.AddFork("acme", "web", "mallory")
	return h
}

// forkRun opens pull request number from mallory's fork with pipeline as
// its .stagegate.yml, and has alice let it run. It returns its head.
func (h *harness) forkRun(number int, pipeline string) string {
	h.t.Helper()
	sha := h.openPR(number, "evil", "mallory/web", map[string]string{".stagegate.yml": pipeline})
	h.gh.Advance(2 * time.Second) // alice reads the change before she comments
	h.comment(number, "alice", "/ok-to-test")
	return sha
}

// workspaceFile waits until a file name exists in some run's workspace,
// whatever the layout of the data dir, and returns its workspace.
func (h *harness) workspaceFile(name string) string {
	h.t.Helper()
	var found string
	waitFor(h.t, func() bool {
		for _, pattern := range []string{"workspaces/*/" + name, "*/workspaces/*/" + name} {
			if m, _ := filepath.Glob(filepath.Join(h.cfg.DataDir, pattern)); len(m) > 0 {
				found = filepath.Dir(m[0])
				return true
			}
		}
		return false
	})
	return found
}

func rot13(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return 'a' + (r-'a'+13)%26
		case r >= 'A' && r <= 'Z':
			return 'A' + (r-'A'+13)%26
		}
		return r
	}, s)
}

// rot13Sh is rot13 in the attacker's shell.
const rot13Sh = `tr 'A-Za-z' 'N-ZA-Mn-za-m'`

const harmless = "stages:\n  - { name: build, actions: [{ name: compile, run: 'echo built' }] }\n"

// stageLog waits for the run of sha and returns the log of its stage.
func (h *harness) stageLog(sha, stage string) string {
	h.t.Helper()
	c := h.waitChecks(sha, 60*time.Second)["stagegate/"+stage]
	if c.Status != "completed" {
		h.t.Fatalf("stage %s of %s: %s", stage, short(sha), describeChecks(h.checks(sha)))
	}
	return c.Output.Text
}

func TestAttackReadsTheDataDir(t *testing.T) {
	h := newAttackHarness(t, map[string]string{".stagegate.yml": harmless})
	h.push("main", map[string]string{"a": "1"}) // the database has something in it
	fork := h.forkRun(20, `stages:
  - name: steal
    actions:
      - name: read
        run: |
          echo attempted
          for d in "$STAGEGATE_WORKSPACE"/.. "$STAGEGATE_WORKSPACE"/../.. "$STAGEGATE_WORKSPACE"/../../..; do
            cat "$d/github-app.json" 2>/dev/null | `+rot13Sh+` | sed 's/^/stolen: /' || true
            head -c 15 "$d/stagegate.db" 2>/dev/null | `+rot13Sh+` | sed 's/^/stolen: /' || true
            echo
          done
`)
	log := h.stageLog(fork, "steal")
	if !strings.Contains(log, "attempted") {
		t.Fatalf("the attack did not run:\n%s", log)
	}
	if strings.Contains(log, rot13(credentialsCanary)) {
		t.Errorf("a fork's build read the App's stored credentials:\n%s", log)
	}
	if strings.Contains(log, rot13("SQLite format")) {
		t.Errorf("a fork's build read the database:\n%s", log)
	}
}

func TestAttackReadsAnotherRunsEnviron(t *testing.T) {
	const secret = "prod-deploy-token-canary"
	t.Setenv("STAGEGATE_SECRET_DEPLOY_TOKEN", secret)
	h := newAttackHarness(t, map[string]string{".stagegate.yml": `secrets: [DEPLOY_TOKEN]
stages:
  - { name: hold, actions: [{ name: wait, run: 'touch started; while [ ! -f release ]; do sleep 0.02; done' }] }
`})
	main := h.push("main", map[string]string{"a": "1"})
	ws := h.workspaceFile("started") // main's action runs, its secret in its environment
	fork := h.forkRun(21, `stages:
  - name: steal
    actions:
      - name: environ
        run: |
          echo attempted
          for e in /proc/[0-9]*/environ; do tr '\0' '\n' 2>/dev/null < "$e" || true; echo; done \
            | grep -a '^DEPLOY_TOKEN=' | `+rot13Sh+` | sed 's/^/stolen: /' || true
`)
	log := h.stageLog(fork, "steal")
	if err := os.WriteFile(filepath.Join(ws, "release"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if c := h.waitChecks(main, 60*time.Second)["stagegate/hold"]; c.Conclusion != "success" {
		t.Errorf("main's run: %s", c.Conclusion)
	}
	if !strings.Contains(log, "attempted") {
		t.Fatalf("the attack did not run:\n%s", log)
	}
	if strings.Contains(log, rot13(secret)) {
		t.Errorf("a fork's build read another run's secret from /proc:\n%s", log)
	}
}

func TestAttackCapturesAConcurrentFetchToken(t *testing.T) {
	h := newAttackHarness(t, map[string]string{".stagegate.yml": harmless})
	fork := h.forkRun(22, `stages:
  - name: steal
    actions:
      - name: token
        run: |
          echo attempted
          touch ready
          while [ ! -f go ]; do sleep 0.02; done
          for e in /proc/[0-9]*/environ; do tr '\0' '\n' 2>/dev/null < "$e" || true; echo; done \
            | grep -a '^GIT_CONFIG_VALUE_0=Authorization: Basic ' | sed 's/.* //' | base64 -d 2>/dev/null \
            | `+rot13Sh+` | sed 's/^/stolen: /' || true
          echo
`)
	ws := h.workspaceFile("ready")
	// The next fetch, main's, hangs in flight while the fork's build looks.
	held, release := h.gh.HoldGit("acme", "web")
	defer release()
	main := h.push("main", map[string]string{"a": "1"})
	select {
	case <-held:
	case <-time.After(30 * time.Second):
		t.Fatal("main's fetch never reached GitHub")
	}
	if err := os.WriteFile(filepath.Join(ws, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	log := h.stageLog(fork, "steal")
	release()
	if c := h.waitChecks(main, 60*time.Second)["stagegate/build"]; c.Conclusion != "success" {
		t.Errorf("main's run: %s", c.Conclusion)
	}
	if !strings.Contains(log, "attempted") {
		t.Fatalf("the attack did not run:\n%s", log)
	}
	for _, tok := range h.gh.IssuedTokens() {
		if strings.Contains(log, rot13(tok)) {
			t.Errorf("a fork's build captured an installation token from a concurrent git fetch:\n%s", log)
		}
	}
}

func TestAttackDaemonRewritesLaterDeploy(t *testing.T) {
	// Main's pipeline gives a daemon every chance: its first stage waits
	// up to two seconds for deploy.sh to change before the deploy runs.
	h := newAttackHarness(t, map[string]string{
		"deploy.sh": "echo real deploy\n",
		".stagegate.yml": `stages:
  - { name: build, actions: [{ name: wait, run: 'for i in $(seq 100); do grep -q PWNED deploy.sh && break; sleep 0.02; done' }] }
  - { name: deploy, actions: [{ name: ship, run: 'sh deploy.sh' }] }
`})
	fork := h.forkRun(23, `stages:
  - name: plant
    actions:
      - name: daemon
        run: |
          ws="$STAGEGATE_WORKSPACE"
          setsid sh -c '
            workspaces=$(cd "$1/.." && pwd); data=$(cd "$1/../../.." && pwd)
            end=$(( $(date +%s) + 60 ))
            while [ -d "$workspaces" ] && [ "$(date +%s)" -lt "$end" ]; do
              for f in "$workspaces"/*/deploy.sh "$data"/*/workspaces/*/deploy.sh; do
                [ -f "$f" ] && echo "echo PWNED" > "$f"
              done
              sleep 0.01
            done' daemon "$ws" </dev/null >/dev/null 2>&1 &
          echo planted
`)
	if log := h.stageLog(fork, "plant"); !strings.Contains(log, "planted") {
		t.Fatalf("the attack did not run:\n%s", log)
	}
	main := h.push("main", map[string]string{"a": "1"})
	log := h.stageLog(main, "deploy")
	if strings.Contains(log, "PWNED") || !strings.Contains(log, "real deploy") {
		t.Errorf("main's deploy did not run the real deploy.sh:\n%s", log)
	}
}

func TestAttackRewritesArtifacts(t *testing.T) {
	h := newAttackHarness(t, map[string]string{".stagegate.yml": `stages:
  - { name: build, actions: [{ name: compile, run: 'echo real > app.bin', artifacts: [app.bin] }] }
`})
	main := h.push("main", map[string]string{"a": "1"})
	if c := h.waitChecks(main, 60*time.Second)["stagegate/build"]; c.Conclusion != "success" {
		t.Fatalf("main's build: %s", c.Conclusion)
	}
	fork := h.forkRun(24, `stages:
  - { name: build, actions: [{ name: compile, run: 'echo mine > out.txt', artifacts: [out.txt] }] }
  - name: tamper
    actions:
      - name: write
        run: |
          echo attempted
          stores=$(cd "$STAGEGATE_ARTIFACTS/.." && pwd); data=$(cd "$STAGEGATE_ARTIFACTS/../../.." && pwd)
          for f in "$STAGEGATE_ARTIFACTS/out.txt" "$stores"/*/app.bin "$data"/*/artifacts/*/app.bin; do
            [ -f "$f" ] || continue
            (chmod u+w "$f"; echo evil > "$f") 2>/dev/null && echo "rewrote $f" || true
          done
`)
	if log := h.stageLog(fork, "tamper"); !strings.Contains(log, "attempted") {
		t.Fatalf("the attack did not run:\n%s", log)
	}
	var stored []string
	for _, pattern := range []string{"artifacts/*/*", "*/artifacts/*/*"} {
		m, _ := filepath.Glob(filepath.Join(h.cfg.DataDir, pattern))
		stored = append(stored, m...)
	}
	if len(stored) != 2 {
		t.Fatalf("stored artifacts: %q, want main's app.bin and the fork's out.txt", stored)
	}
	for _, f := range stored {
		b, err := os.ReadFile(f)
		if err != nil || strings.Contains(string(b), "evil") {
			t.Errorf("stored artifact %s = %q (%v): a later stage rewrote it", f, b, err)
		}
	}
}

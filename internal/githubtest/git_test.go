package githubtest

import (
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// runGit runs the git client with a clean environment; when token is not
// "" it is given as an Authorization header through GIT_CONFIG_* variables
// (http.extraHeader), so it appears neither in argv nor in any file.
func runGit(t *testing.T, dir, user, token string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + t.TempDir(),
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=" + os.DevNull,
		"GIT_TERMINAL_PROMPT=0",
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.invalid",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.invalid",
	}
	if token != "" {
		basic := base64.StdEncoding.EncodeToString([]byte(user + ":" + token))
		env = append(env, "GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=http.extraHeader",
			"GIT_CONFIG_VALUE_0=Authorization: Basic "+basic)
	}
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	for _, a := range cmd.Args {
		if token != "" && strings.Contains(a, token) {
			t.Fatalf("token leaked into argv: %q", cmd.Args)
		}
	}
	return string(out), err
}

func TestGitCloneAndFetch(t *testing.T) {
	f := newFixture(t)
	old := f.repo.Commit("main", map[string]string{"app.txt": "v1\n"}, "v1")
	f.repo.Commit("main", map[string]string{"app.txt": "v2\n"}, "v2")
	tok := f.token(t)
	work := t.TempDir()

	out, err := runGit(t, work, "x-access-token", tok, "clone", "--quiet", f.repo.CloneURL(), "clone")
	if err != nil {
		t.Fatalf("clone with token: %v\n%s", err, out)
	}
	if b, err := os.ReadFile(filepath.Join(work, "clone", "app.txt")); err != nil || string(b) != "v2\n" {
		t.Errorf("cloned app.txt = %q, %v", b, err)
	}

	// A shallow fetch of a commit that is no branch tip, by sha.
	shallow := filepath.Join(work, "shallow")
	if out, err := runGit(t, work, "", "", "init", "--quiet", shallow); err != nil {
		t.Fatal(out)
	}
	if out, err := runGit(t, shallow, "x-access-token", tok, "fetch", "--quiet", "--depth=1", f.repo.CloneURL(), old); err != nil {
		t.Fatalf("fetch --depth=1 %s: %v\n%s", old, err, out)
	}
	if out, _ := runGit(t, shallow, "", "", "rev-parse", "FETCH_HEAD"); strings.TrimSpace(out) != old {
		t.Errorf("FETCH_HEAD = %q, want %s", out, old)
	}
	if out, _ := runGit(t, shallow, "", "", "show", "FETCH_HEAD:app.txt"); out != "v1\n" {
		t.Errorf("app.txt at %s = %q", old, out)
	}
	for _, gr := range f.srv.GitRequests() {
		if !gr.AuthOK || gr.Username != "x-access-token" || gr.InstallationID != f.instID || gr.Service != "git-upload-pack" || gr.Status != 200 {
			t.Errorf("git request %+v", gr)
		}
	}
}

func TestGitRequiresToken(t *testing.T) {
	f := newFixture(t)
	tok := f.token(t)
	otherRepo := f.srv.AddRepo("globex", "gadgets")
	otherRepo.Commit("main", map[string]string{"x": "y"}, "x")
	otherInst := f.srv.AddInstallation("globex")
	_, itr := instClient(t, f.srv, f.srv.App(), otherInst)
	otherTok, err := itr.Token(ctx(t))
	if err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name, user, token, want string
	}{
		{"no credentials", "", "", "401"},
		{"wrong user name", "git", tok, "401"},
		{"unknown token", "x-access-token", "ghs_000000000000000000000000000000000000", "401"},
		{"token of another installation", "x-access-token", otherTok, "404"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := len(f.srv.GitRequests())
			out, err := runGit(t, t.TempDir(), tc.user, tc.token, "clone", "--quiet", f.repo.CloneURL(), "c")
			if err == nil {
				t.Fatalf("clone succeeded:\n%s", out)
			}
			reqs := f.srv.GitRequests()[before:]
			if len(reqs) == 0 {
				t.Fatal("no git request recorded")
			}
			last := reqs[len(reqs)-1]
			if last.AuthOK || strconv.Itoa(last.Status) != tc.want {
				t.Errorf("recorded %+v, want status %s and AuthOK false", last, tc.want)
			}
		})
	}
	// The 401 carries GitHub's challenge.
	r := do(t, "GET", f.repo.CloneURL()+"/info/refs?service=git-upload-pack", "", nil)
	if r.status != 401 || r.header.Get("WWW-Authenticate") != `Basic realm="GitHub"` {
		t.Errorf("challenge: %d %q", r.status, r.header.Get("WWW-Authenticate"))
	}
	// The dumb protocol is not served.
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("x-access-token:"+tok))
	if r := do(t, "GET", f.repo.CloneURL()+"/HEAD", basic, nil); r.status != 404 {
		t.Errorf("dumb HTTP: %d", r.status)
	}
	// Expired tokens stop working for git too.
	f.srv.Advance(2 * time.Hour)
	if out, err := runGit(t, t.TempDir(), "x-access-token", tok, "clone", "--quiet", f.repo.CloneURL(), "c"); err == nil {
		t.Errorf("clone with expired token succeeded:\n%s", out)
	}
}

func TestGitPushNeedsContentsWrite(t *testing.T) {
	f := newFixture(t)
	work := t.TempDir()
	readTok := f.token(t)
	if out, err := runGit(t, work, "x-access-token", readTok, "clone", "--quiet", f.repo.CloneURL(), "c"); err != nil {
		t.Fatal(out)
	}
	dir := filepath.Join(work, "c")
	if err := os.WriteFile(filepath.Join(dir, "pushed.txt"), []byte("hi\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := runGit(t, dir, "", "", "add", "pushed.txt"); err != nil {
		t.Fatal(out)
	}
	if out, err := runGit(t, dir, "", "", "commit", "--quiet", "-m", "push me"); err != nil {
		t.Fatal(out)
	}
	sha, _ := runGit(t, dir, "", "", "rev-parse", "HEAD")
	sha = strings.TrimSpace(sha)

	if out, err := runGit(t, dir, "x-access-token", readTok, "push", "--quiet", "origin", "HEAD:main"); err == nil {
		t.Fatalf("push with contents:read succeeded:\n%s", out)
	}
	if f.repo.Head("main") == sha {
		t.Fatal("rejected push moved main")
	}
	f.srv.SetInstallationPermissions(f.instID, map[string]string{"contents": "write", "metadata": "read"})
	writeTok := f.token(t)
	if out, err := runGit(t, dir, "x-access-token", writeTok, "push", "--quiet", "origin", "HEAD:main"); err != nil {
		t.Fatalf("push with contents:write: %v\n%s", err, out)
	}
	if f.repo.Head("main") != sha {
		t.Errorf("main = %s, want pushed %s", f.repo.Head("main"), sha)
	}
}

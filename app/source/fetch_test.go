package source

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v60/github"

	"github.com/stagegate/stagegate/internal/githubtest"
)

type fixture struct {
	srv       *githubtest.Server
	repo      *githubtest.Repo
	old, head string // two commits on main
	token     string
	root      string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	srv := githubtest.New(t)
	repo := srv.AddRepo("acme", "widgets")
	old := repo.Commit("main", map[string]string{"app.txt": "v1\n"}, "v1")
	head := repo.Commit("main", map[string]string{"app.txt": "v2\n", "lib/x.go": "package lib\n"}, "v2")
	inst := srv.AddInstallation("acme", "widgets")
	return &fixture{srv: srv, repo: repo, old: old, head: head, token: mintToken(t, srv, inst), root: t.TempDir()}
}

// mintToken gets an installation token as the App does: a JWT, then
// POST /app/installations/{id}/access_tokens.
func mintToken(t *testing.T, srv *githubtest.Server, inst int64) string {
	t.Helper()
	atr, err := ghinstallation.NewAppsTransport(http.DefaultTransport, srv.AppID(), srv.PrivateKeyPEM())
	if err != nil {
		t.Fatal(err)
	}
	gh, err := github.NewClient(&http.Client{Transport: atr}).WithEnterpriseURLs(srv.APIURL(), srv.APIURL())
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := gh.Apps.CreateInstallationToken(context.Background(), inst, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tok.GetToken()
}

func (f *fixture) opts(runID, sha string) FetchOptions {
	return FetchOptions{Root: f.root, RunID: runID, CloneURL: f.repo.CloneURL(), SHA: sha, Token: f.token}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func gitOut(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "GIT_CONFIG_NOSYSTEM=1"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// gitWrapper puts a `git` first on PATH that records, in dir, the argv
// of every git it is asked to run (argv.log), their environment
// (env.log), and through GIT_TRACE the argv of every git process those
// start in turn (trace.log: remote-http, fetch-pack, index-pack, ...).
// The paths are written into the script: Fetch gives git a clean
// environment, so the wrapper cannot be told them through it.
func gitWrapper(t *testing.T) (logDir string) {
	t.Helper()
	real, err := exec.LookPath("git")
	if err != nil {
		t.Fatal(err)
	}
	bin, logDir := t.TempDir(), t.TempDir()
	script := "#!/bin/sh\n" +
		"printf '%s\\n' \"$*\" >> '" + logDir + "/argv.log'\n" +
		"env >> '" + logDir + "/env.log'\n" +
		"GIT_TRACE='" + logDir + "/trace.log'; export GIT_TRACE\n" +
		"exec '" + real + "' \"$@\"\n"
	if err := os.WriteFile(filepath.Join(bin, "git"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	return logDir
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestFetchExactSHAKeepsTokenOutOfArgvURLAndConfig(t *testing.T) {
	f := newFixture(t)
	logDir := gitWrapper(t)
	t.Setenv("STAGEGATE_TEST_SENTINEL", "host-env-must-not-reach-git")

	// The older commit, not the branch tip: exactly that sha is checked out.
	dir, err := Fetch(testCtx(t), f.opts("run-42", f.old))
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(f.root, "run-42"); dir != want {
		t.Errorf("dir = %s, want %s", dir, want)
	}
	if head := gitOut(t, dir, "rev-parse", "HEAD"); head != f.old {
		t.Errorf("HEAD = %s, want %s", head, f.old)
	}
	if got := readFile(t, filepath.Join(dir, "app.txt")); got != "v1\n" {
		t.Errorf("app.txt = %q, want v1", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "lib")); !os.IsNotExist(err) {
		t.Errorf("lib/ of a later commit is in the checkout: %v", err)
	}
	if n := gitOut(t, dir, "rev-list", "--count", "HEAD"); n != "1" {
		t.Errorf("history depth = %s, want 1 (shallow)", n)
	}
	if tags := gitOut(t, dir, "tag"); tags != "" {
		t.Errorf("tags fetched: %q", tags)
	}

	secrets := []string{f.token, basicCredential(f.token)}
	if url := gitOut(t, dir, "remote", "get-url", "origin"); url != f.repo.CloneURL() {
		t.Errorf("remote URL = %q, want %q", url, f.repo.CloneURL())
	}
	// Not in .git/config, nor in any other file git wrote.
	err = filepath.WalkDir(filepath.Join(dir, ".git"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		for _, s := range secrets {
			if strings.Contains(string(b), s) {
				t.Errorf("%s holds the token", p)
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	argv, trace, env := readFile(t, logDir+"/argv.log"), readFile(t, logDir+"/trace.log"), readFile(t, logDir+"/env.log")
	for _, cmd := range []string{"init", "remote add origin " + f.repo.CloneURL(), "fetch --quiet --depth=1 --no-tags --no-recurse-submodules origin " + f.old, "checkout --quiet --detach FETCH_HEAD"} {
		if !strings.Contains(argv, cmd) {
			t.Errorf("no `git %s` in argv log:\n%s", cmd, argv)
		}
	}
	if !strings.Contains(trace, "remote-http") {
		t.Errorf("setup: GIT_TRACE did not record the helper processes:\n%s", trace)
	}
	for _, s := range secrets {
		if strings.Contains(argv, s) || strings.Contains(trace, s) {
			t.Errorf("the token is in some process's argv")
		}
	}
	// The environment is the clean one, and the token is only in the fetch's.
	for _, want := range []string{"GIT_TERMINAL_PROMPT=0", "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_KEY_0=http." + f.srv.URL + "/.extraHeader"} {
		if !strings.Contains(env, want) {
			t.Errorf("git's environment lacks %s", want)
		}
	}
	if strings.Contains(env, "STAGEGATE_TEST_SENTINEL") || strings.Contains(env, "HOME="+os.Getenv("HOME")+"\n") {
		t.Errorf("host environment reached git:\n%s", env)
	}
	if n := strings.Count(env, "GIT_CONFIG_VALUE_0=Authorization: Basic "+basicCredential(f.token)); n != 1 {
		t.Errorf("the header was given to %d git commands, want only the fetch", n)
	}
	for _, gr := range f.srv.GitRequests() {
		if !gr.AuthOK || gr.Username != "x-access-token" {
			t.Errorf("git request %+v", gr)
		}
	}

	if err := Remove(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("workspace still there: %v", err)
	}
}

func TestFetchHead(t *testing.T) {
	f := newFixture(t)
	dir, err := Fetch(testCtx(t), f.opts("run-head", f.head))
	if err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(dir, "lib", "x.go")); got != "package lib\n" {
		t.Errorf("lib/x.go = %q", got)
	}
}

func TestFetchFailures(t *testing.T) {
	f := newFixture(t)
	other := f.srv.AddRepo("acme", "secret") // not covered by the installation
	other.Commit("main", map[string]string{"a": "b"}, "c")
	const wrong = "ghs_WrongTokenThatMustNotAppear0123456789"
	cases := []struct {
		name string
		edit func(o *FetchOptions)
		want error
	}{
		{"wrong token", func(o *FetchOptions) { o.Token = wrong }, ErrAuthentication},
		{"repo not covered", func(o *FetchOptions) { o.CloneURL = other.CloneURL() }, ErrRepositoryNotFound},
		{"unknown sha", func(o *FetchOptions) { o.SHA = strings.Repeat("ab", 20) }, ErrCommitNotFound},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := f.opts("fail-"+string(rune('a'+i)), f.head)
			tc.edit(&o)
			dir, err := Fetch(testCtx(t), o)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if dir != "" {
				t.Errorf("dir = %q on failure", dir)
			}
			for _, s := range []string{o.Token, basicCredential(o.Token)} {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error holds the token: %v", err)
				}
			}
			if _, serr := os.Stat(filepath.Join(f.root, o.RunID)); !os.IsNotExist(serr) {
				t.Errorf("failed workspace left behind")
			}
			t.Logf("error: %v", err)
		})
	}
}

func TestFetchStopsWithContext(t *testing.T) {
	// A git server that never answers.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(30 * time.Second):
		}
	}))
	t.Cleanup(srv.Close)
	root := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Fetch(ctx, FetchOptions{Root: root, RunID: "r1", CloneURL: srv.URL + "/acme/widgets.git", SHA: strings.Repeat("a", 40), Token: "ghs_x"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("Fetch returned %v after the deadline", el)
	}
	if _, serr := os.Stat(filepath.Join(root, "r1")); !os.IsNotExist(serr) {
		t.Errorf("workspace left behind")
	}
}

func TestFetchValidates(t *testing.T) {
	f := newFixture(t)
	logDir := gitWrapper(t)
	// Everything in good is real: with no validation, each case below
	// that still names this repository, token and commit would fetch.
	good := FetchOptions{Root: f.root, RunID: "r", CloneURL: f.repo.CloneURL(), SHA: f.head, Token: f.token}
	if err := os.Mkdir(filepath.Join(f.root, "taken"), 0o700); err != nil {
		t.Fatal(err)
	}
	withCreds := strings.Replace(f.repo.CloneURL(), "://", "://x-access-token:"+f.token+"@", 1)
	if withCreds == f.repo.CloneURL() {
		t.Fatalf("setup: cannot put credentials into %s", f.repo.CloneURL())
	}
	cases := []struct {
		name string
		edit func(*FetchOptions)
		want string // in the error
	}{
		{"no root", func(o *FetchOptions) { o.Root = "" }, "no workspace root"},
		{"run id with path", func(o *FetchOptions) { o.RunID = "../escape" }, "cannot name a workspace"},
		{"run id option", func(o *FetchOptions) { o.RunID = "-x" }, "cannot name a workspace"},
		{"dot run id", func(o *FetchOptions) { o.RunID = ".." }, "cannot name a workspace"},
		{"short sha", func(o *FetchOptions) { o.SHA = f.head[:7] }, "is not a full commit sha"},
		{"upper-case sha", func(o *FetchOptions) { o.SHA = strings.ToUpper(f.head) }, "is not a full commit sha"},
		{"sha as option", func(o *FetchOptions) { o.SHA = "--upload-pack=x" }, "is not a full commit sha"},
		{"no token", func(o *FetchOptions) { o.Token = "" }, "no token"},
		{"token in URL", func(o *FetchOptions) { o.CloneURL = withCreds }, "want no credentials, query or fragment"},
		{"ssh URL", func(o *FetchOptions) { o.CloneURL = "ssh://git@github.com/acme/widgets.git" }, "want http(s)"},
		{"file URL", func(o *FetchOptions) { o.CloneURL = "file:///etc" }, "want http(s)"},
		{"existing dir", func(o *FetchOptions) { o.RunID = "taken" }, "create workspace"},
	}
	argvLog := filepath.Join(logDir, "argv.log")
	for _, tc := range cases {
		o := good
		tc.edit(&o)
		dir, err := Fetch(context.Background(), o)
		switch {
		case err == nil:
			t.Errorf("%s: accepted, fetched into %s", tc.name, dir)
			_ = Remove(dir)
		case !strings.Contains(err.Error(), tc.want):
			t.Errorf("%s: err = %v, want one saying %q", tc.name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), f.token) {
			t.Errorf("%s: error shows the URL's credentials: %v", tc.name, err)
		}
		if tc.name == "existing dir" && !errors.Is(err, fs.ErrExist) {
			t.Errorf("%s: err = %v, want fs.ErrExist", tc.name, err)
		}
		if _, serr := os.Stat(argvLog); !os.IsNotExist(serr) {
			t.Fatalf("%s: git ran before the options were checked:\n%s", tc.name, readFile(t, argvLog))
		}
	}

	// The unedited options do fetch, and the wrapper sees that git ran:
	// so the checks above would have noticed a git process.
	dir, err := Fetch(testCtx(t), good)
	if err != nil {
		t.Fatalf("good options: %v", err)
	}
	if head := gitOut(t, dir, "rev-parse", "HEAD"); head != f.head {
		t.Errorf("HEAD = %s, want %s", head, f.head)
	}
	if argv := readFile(t, argvLog); !strings.Contains(argv, "fetch ") {
		t.Errorf("setup: the git wrapper did not record the fetch:\n%s", argv)
	}
}

func TestRemoveRefusesNonsense(t *testing.T) {
	for _, d := range []string{"", "/", "relative/dir"} {
		if err := Remove(d); err == nil {
			t.Errorf("Remove(%q) accepted", d)
		}
	}
}

func TestScrub(t *testing.T) {
	tok := "ghs_abc"
	in := "fatal: ghs_abc failed\n" + basicCredential(tok) + "\n=> Send header: Authorization: Basic Zm9v\nok"
	got := scrub(in, secrets(tok))
	if strings.Contains(got, tok) || strings.Contains(got, basicCredential(tok)) || strings.Contains(got, "Zm9v") {
		t.Errorf("scrub left a secret: %q", got)
	}
	if !strings.HasSuffix(got, "\nok") {
		t.Errorf("scrub lost other lines: %q", got)
	}
}

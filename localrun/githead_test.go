package localrun

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_GLOBAL=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func newRepo(t *testing.T) string {
	dir := t.TempDir()
	git(t, dir, "init", "-q", "-b", "main")
	git(t, dir, "commit", "-q", "--allow-empty", "-m", "first")
	return dir
}

func TestReadHeadAgreesWithGit(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, repo string) (dir string)
	}{
		{"branch", func(t *testing.T, repo string) string { return repo }},
		{"subdirectory", func(t *testing.T, repo string) string {
			sub := filepath.Join(repo, "a", "b")
			if err := os.MkdirAll(sub, 0o755); err != nil {
				t.Fatal(err)
			}
			return sub
		}},
		{"branch with slash", func(t *testing.T, repo string) string {
			git(t, repo, "checkout", "-q", "-b", "release/1.0")
			return repo
		}},
		{"packed refs", func(t *testing.T, repo string) string {
			git(t, repo, "pack-refs", "--all")
			return repo
		}},
		{"detached", func(t *testing.T, repo string) string {
			git(t, repo, "checkout", "-q", "--detach")
			return repo
		}},
		{"worktree", func(t *testing.T, repo string) string {
			wt := filepath.Join(t.TempDir(), "wt")
			git(t, repo, "worktree", "add", "-q", "-b", "feature/x", wt)
			git(t, wt, "commit", "-q", "--allow-empty", "-m", "second")
			return wt
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := tt.setup(t, newRepo(t))
			got, err := ReadHead(dir)
			if err != nil {
				t.Fatal(err)
			}
			wantSHA := git(t, dir, "rev-parse", "HEAD")
			wantBranch := git(t, dir, "rev-parse", "--abbrev-ref", "HEAD")
			if wantBranch == "HEAD" {
				wantBranch = ""
			}
			if got.SHA != wantSHA || got.Branch != wantBranch {
				t.Errorf("ReadHead = %+v, want branch %q sha %q", got, wantBranch, wantSHA)
			}
		})
	}
}

func TestReadHeadUnbornAndMissing(t *testing.T) {
	dir := t.TempDir()
	git(t, dir, "init", "-q", "-b", "trunk")
	got, err := ReadHead(dir)
	if err != nil || got != (Head{Branch: "trunk"}) {
		t.Errorf("unborn: ReadHead = %+v, %v", got, err)
	}
	if _, err := ReadHead(t.TempDir()); !errors.Is(err, ErrNotRepository) {
		// /tmp is not inside a repository on any sane machine.
		t.Errorf("no repository: err = %v, want ErrNotRepository", err)
	}
}

// Package source puts the code of a run on disk: a shallow fetch of the
// exact commit into a fresh workspace, authenticated with an installation
// token that never appears in argv, in a URL or in any file.
package source

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// Errors a caller can tell apart, e.g. to say why a check failed. Fetch
// wraps them with git's (scrubbed) message.
var (
	// ErrAuthentication: the token was refused (expired, revoked, or
	// without contents:read).
	ErrAuthentication = errors.New("git authentication failed: the installation token was refused")
	// ErrRepositoryNotFound: no such repository, or the installation
	// does not cover it (GitHub answers both with "not found").
	ErrRepositoryNotFound = errors.New("repository not found or not accessible to the installation")
	// ErrCommitNotFound: the repository has no such commit (a force push
	// may have removed it).
	ErrCommitNotFound = errors.New("commit not found in the repository")
)

// FetchOptions says what to fetch and where.
type FetchOptions struct {
	// Root is the existing directory that holds workspaces.
	Root string
	// RunID names the workspace, Root/RunID, which must not exist yet.
	RunID string
	// CloneURL is the repository's http(s) clone URL, without
	// credentials, e.g. https://github.com/acme/widgets.git.
	CloneURL string
	// SHA is the full commit id to check out.
	SHA string
	// Token is an installation token (x-access-token).
	Token string
}

const (
	logKeyRun      = "run"
	logKeySHA      = "sha"
	logKeyDuration = "duration"
)

// Fetch creates Root/RunID and checks out opts.SHA there, detached, with
// history of depth one and no tags: `git init`, `git remote add`, `git
// fetch --depth=1 --no-tags origin <sha>`, `git checkout --detach
// FETCH_HEAD`. It returns the workspace's absolute path. On failure the
// workspace is removed. Git runs with a clean environment and is killed
// (with everything it started) when ctx ends.
//
// The token reaches git only as an http.extraHeader given through the
// GIT_CONFIG_COUNT environment variables of the fetch, scoped to the
// clone URL's host: not in argv (which any local user can read), not in
// the remote URL, not in .git/config. Errors carry git's stderr with the
// token scrubbed.
func Fetch(ctx context.Context, opts FetchOptions) (string, error) {
	if err := opts.validate(); err != nil {
		return "", err
	}
	root, err := filepath.Abs(opts.Root)
	if err != nil {
		return "", fmt.Errorf("source: workspace root: %w", err)
	}
	dir := filepath.Join(root, opts.RunID)
	if err := os.Mkdir(dir, 0o700); err != nil {
		return "", fmt.Errorf("source: create workspace: %w", err)
	}
	start := time.Now()
	if err := fetch(ctx, dir, opts); err != nil {
		_ = os.RemoveAll(dir)
		return "", err
	}
	zerolog.Ctx(ctx).Debug().Str(logKeyRun, opts.RunID).Str(logKeySHA, opts.SHA).
		Dur(logKeyDuration, time.Since(start)).Msg("source fetched")
	return dir, nil
}

func fetch(ctx context.Context, dir string, opts FetchOptions) error {
	// HOME is an empty directory of its own so that no user's
	// ~/.gitconfig (credential helpers, url rewrites, hooks) applies.
	home, err := os.MkdirTemp("", "stagegate-git-home-")
	if err != nil {
		return fmt.Errorf("source: git home: %w", err)
	}
	defer os.RemoveAll(home)

	g := &git{dir: dir, env: baseEnv(home)}
	if _, err := g.run(ctx, "init", "--quiet"); err != nil {
		return err
	}
	if _, err := g.run(ctx, "remote", "add", "origin", opts.CloneURL); err != nil {
		return err
	}
	authed := &git{dir: dir, env: append(g.env, authEnv(opts.CloneURL, opts.Token)...), secrets: secrets(opts.Token)}
	if _, err := authed.run(ctx, "fetch", "--quiet", "--depth=1", "--no-tags", "--no-recurse-submodules", "origin", opts.SHA); err != nil {
		return err
	}
	if _, err := g.run(ctx, "checkout", "--quiet", "--detach", "FETCH_HEAD"); err != nil {
		return err
	}
	head, err := g.run(ctx, "rev-parse", "HEAD")
	if err != nil {
		return err
	}
	if got := strings.TrimSpace(head); got != opts.SHA {
		return fmt.Errorf("source: checked out %s, want %s", got, opts.SHA)
	}
	return nil
}

func (o FetchOptions) validate() error {
	switch {
	case o.Root == "":
		return errors.New("source: no workspace root")
	case !validRunID(o.RunID):
		return fmt.Errorf("source: run id %q cannot name a workspace", o.RunID)
	case !validSHA(o.SHA):
		return fmt.Errorf("source: %q is not a full commit sha", o.SHA)
	case o.Token == "":
		return errors.New("source: no token")
	}
	u, err := url.Parse(o.CloneURL)
	if err != nil {
		return fmt.Errorf("source: clone URL: %w", err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("source: clone URL %q: want http(s)", o.CloneURL)
	}
	// Credentials belong in the header, never in the URL git records.
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("source: clone URL %s: want no credentials, query or fragment", u.Redacted())
	}
	return nil
}

// validRunID accepts names that are one path element and no option: a
// letter or digit, then letters, digits, '.', '_' or '-'.
func validRunID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i, c := range id {
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || !strings.ContainsRune("._-", c)) {
			return false
		}
	}
	return true
}

// validSHA accepts a full SHA-1 or SHA-256 object id in lower case.
func validSHA(sha string) bool {
	if len(sha) != 40 && len(sha) != 64 {
		return false
	}
	for _, c := range sha {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Remove deletes a workspace made by Fetch, or another directory a run's
// actions wrote (its HOME and TMPDIR). A build may leave directories it
// cannot write, such as Go's module cache (0555), which os.RemoveAll
// cannot empty as an ordinary user: they are made writable, without
// following links out of the tree, and removal is tried again.
func Remove(dir string) error {
	clean := filepath.Clean(dir)
	if dir == "" || !filepath.IsAbs(clean) || clean == filepath.Dir(clean) {
		return fmt.Errorf("source: refusing to remove %q", dir)
	}
	if os.RemoveAll(clean) == nil {
		return nil
	}
	// WalkDir calls the function for a directory before reading it, and
	// gives links as links. The modes are changed through the tree as a
	// root, so that a link swapped in meanwhile cannot lead the chmod out
	// of it.
	if root, err := os.OpenRoot(clean); err == nil {
		_ = filepath.WalkDir(clean, func(p string, d fs.DirEntry, err error) error {
			if rel, rerr := filepath.Rel(clean, p); rerr == nil && d != nil && d.IsDir() {
				_ = root.Chmod(rel, 0o700)
			}
			return nil
		})
		_ = root.Close()
	}
	if err := os.RemoveAll(clean); err != nil {
		return fmt.Errorf("source: remove %s: %w", clean, err)
	}
	return nil
}

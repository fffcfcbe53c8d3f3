package localrun

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Head is the checked-out state of a git work tree.
type Head struct {
	// Branch is empty when HEAD is detached.
	Branch string
	// SHA is empty on a branch with no commits yet.
	SHA string
}

// ErrNotRepository means no .git was found at or above the directory.
var ErrNotRepository = errors.New("not a git repository")

// ReadHead finds the repository holding dir and reads its HEAD from the
// files, without running git: `stagegate run` counts its start-up in
// milliseconds, and a git process costs several.
func ReadHead(dir string) (Head, error) {
	gitDir, err := findGitDir(dir)
	if err != nil {
		return Head{}, err
	}
	raw, err := os.ReadFile(filepath.Join(gitDir, "HEAD"))
	if err != nil {
		return Head{}, fmt.Errorf("read HEAD: %w", err)
	}
	head := strings.TrimSpace(string(raw))
	ref, symbolic := strings.CutPrefix(head, "ref: ")
	if !symbolic {
		return Head{SHA: head}, nil
	}
	sha, err := resolveRef(gitDir, ref)
	if err != nil {
		return Head{}, err
	}
	return Head{Branch: strings.TrimPrefix(ref, "refs/heads/"), SHA: sha}, nil
}

// findGitDir walks up from dir to the repository's git directory,
// following the "gitdir:" file of worktrees and submodules.
func findGitDir(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("find repository: %w", err)
	}
	for d := abs; ; d = filepath.Dir(d) {
		candidate := filepath.Join(d, ".git")
		info, err := os.Stat(candidate)
		switch {
		case err == nil && info.IsDir():
			return candidate, nil
		case err == nil:
			return readGitFile(candidate)
		case !errors.Is(err, os.ErrNotExist):
			return "", fmt.Errorf("find repository: %w", err)
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("%s: %w", abs, ErrNotRepository)
		}
	}
}

func readGitFile(path string) (string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	target, ok := strings.CutPrefix(strings.TrimSpace(string(raw)), "gitdir: ")
	if !ok {
		return "", fmt.Errorf("%s: no gitdir line", path)
	}
	if !filepath.IsAbs(target) {
		target = filepath.Join(filepath.Dir(path), target)
	}
	return target, nil
}

// resolveRef reads a ref as a loose file or from packed-refs, in the
// worktree's own directory first and then in the common directory.
func resolveRef(gitDir, ref string) (string, error) {
	dirs := []string{gitDir}
	if common, err := os.ReadFile(filepath.Join(gitDir, "commondir")); err == nil {
		c := strings.TrimSpace(string(common))
		if !filepath.IsAbs(c) {
			c = filepath.Join(gitDir, c)
		}
		dirs = append(dirs, c)
	}
	for _, d := range dirs {
		if raw, err := os.ReadFile(filepath.Join(d, filepath.FromSlash(ref))); err == nil {
			return strings.TrimSpace(string(raw)), nil
		}
		if sha, ok := packedRef(filepath.Join(d, "packed-refs"), ref); ok {
			return sha, nil
		}
	}
	// An unborn branch: HEAD names it, but it has no commit yet.
	return "", nil
}

func packedRef(path, ref string) (string, bool) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", false
	}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		sha, name, ok := strings.Cut(sc.Text(), " ")
		if ok && name == ref {
			return sha, true
		}
	}
	return "", false
}

package githubtest

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Deleted, as a value in [Repo.Commit]'s files map, deletes that path.
// (A Go map[string]string cannot hold nil, so this sentinel plays the part
// of "a nil entry"; [Repo.CommitChanges] has an explicit Delete flag.)
const Deleted = "\x00githubtest:deleted\x00"

// Change is one file change for [Repo.CommitChanges].
type Change struct {
	Path       string
	Content    string
	Delete     bool // remove Path; Content is ignored
	Executable bool // mode 100755 instead of 100644
}

// Commit writes a commit on branch that sets each path in files to its
// content ([Deleted] removes the path) and returns the commit sha. A
// branch that does not exist yet starts from the default branch's head
// (like creating a branch on GitHub), or as a root commit when the
// repository is empty.
func (r *Repo) Commit(branch string, files map[string]string, message string) string {
	changes := make([]Change, 0, len(files))
	for p, c := range files {
		if c == Deleted {
			changes = append(changes, Change{Path: p, Delete: true})
		} else {
			changes = append(changes, Change{Path: p, Content: c})
		}
	}
	return r.CommitChanges(branch, message, changes...)
}

// CommitChanges is [Repo.Commit] with explicit changes (deletions, modes).
// It uses git fast-import, so the commit, trees and blobs are real git
// objects; the branch ref is updated only as a fast-forward.
func (r *Repo) CommitChanges(branch, message string, changes ...Change) string {
	s := r.s
	s.t.Helper()
	if !refRE.MatchString(branch) || strings.HasPrefix(branch, "-") {
		s.t.Fatalf("githubtest: Commit: invalid branch %q", branch)
	}
	sort.Slice(changes, func(i, j int) bool { return changes[i].Path < changes[j].Path })
	r.mu.Lock()
	defer r.mu.Unlock()

	ref := "refs/heads/" + branch
	parent, ok := r.resolveCommit(ref)
	if !ok {
		parent, _ = r.resolveCommit("refs/heads/" + r.DefaultBranch)
	}
	ts := max(time.Now().Unix(), r.lastTime+1) // distinct commits get distinct shas
	r.lastTime = ts

	var in bytes.Buffer
	ident := fmt.Sprintf("Octo Tester <octo@users.noreply.github.invalid> %d +0000", ts)
	fmt.Fprintf(&in, "commit %s\nauthor %s\ncommitter %s\n", ref, ident, ident)
	if !strings.HasSuffix(message, "\n") {
		message += "\n"
	}
	fmt.Fprintf(&in, "data %d\n%s", len(message), message)
	if parent != "" {
		fmt.Fprintf(&in, "from %s\n", parent)
	}
	for _, c := range changes {
		if err := checkPath(c.Path); err != nil {
			s.t.Fatalf("githubtest: Commit: %v", err)
		}
		if c.Delete {
			fmt.Fprintf(&in, "D %s\n", quotePath(c.Path))
			continue
		}
		mode := "100644"
		if c.Executable {
			mode = "100755"
		}
		fmt.Fprintf(&in, "M %s inline %s\ndata %d\n%s\n", mode, quotePath(c.Path), len(c.Content), c.Content)
	}
	in.WriteString("done\n")
	if _, err := s.git(r.dir, in.Bytes(), "fast-import", "--quiet", "--done"); err != nil {
		s.t.Fatalf("githubtest: Commit: %v", err)
	}
	sha, ok := r.resolveCommit(ref)
	if !ok {
		s.t.Fatalf("githubtest: Commit: %s missing after fast-import", ref)
	}
	return sha
}

// Head returns the sha branch points at, or "" when it does not exist.
func (r *Repo) Head(branch string) string {
	sha, _ := r.resolveCommit("refs/heads/" + branch)
	return sha
}

// Tag points the lightweight tag name at sha.
func (r *Repo) Tag(name, sha string) {
	r.s.t.Helper()
	r.updateRef("refs/tags/"+name, sha)
}

// DeleteBranch removes a branch.
func (r *Repo) DeleteBranch(branch string) {
	r.s.t.Helper()
	r.updateRef("refs/heads/"+branch, "")
}

func (r *Repo) updateRef(ref, sha string) {
	if !refRE.MatchString(ref) {
		r.s.t.Fatalf("githubtest: invalid ref %q", ref)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	args := []string{"update-ref", ref, sha}
	if sha == "" {
		args = []string{"update-ref", "-d", ref}
	}
	if _, err := r.s.git(r.dir, nil, args...); err != nil {
		r.s.t.Fatalf("githubtest: %v", err)
	}
}

func checkPath(p string) error {
	if p == "" || strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") || strings.ContainsRune(p, 0) {
		return fmt.Errorf("invalid path %q", p)
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." || strings.EqualFold(seg, ".git") {
			return fmt.Errorf("invalid path %q", p)
		}
	}
	return nil
}

// quotePath C-quotes a path for fast-import: git's unquoting understands
// \" \\ \n \t and octal escapes, and takes other bytes (UTF-8) verbatim.
func quotePath(p string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, `\%03o`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

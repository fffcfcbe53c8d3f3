package githubtest

import (
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"
)

// blobSHA is git's object id for a blob, computed without git.
func blobSHA(content string) string {
	return fmt.Sprintf("%x", sha1.Sum([]byte(fmt.Sprintf("blob %d\x00%s", len(content), content))))
}

func TestGetRepository(t *testing.T) {
	f := newFixture(t)
	repo, _, err := f.client(t).Repositories.Get(ctx(t), "acme", "widgets")
	if err != nil {
		t.Fatal(err)
	}
	if repo.GetID() != f.repo.ID || repo.GetName() != "widgets" || repo.GetFullName() != "acme/widgets" ||
		repo.GetOwner().GetLogin() != "acme" || repo.GetDefaultBranch() != "main" || !repo.GetPrivate() ||
		repo.GetCloneURL() != f.srv.URL+"/acme/widgets.git" {
		t.Errorf("repository = %+v", repo)
	}
	// GitHub matches owner and name case-insensitively.
	if _, _, err := f.client(t).Repositories.Get(ctx(t), "ACME", "Widgets"); err != nil {
		t.Errorf("case-insensitive lookup: %v", err)
	}
	if _, resp, _ := f.client(t).Repositories.Get(ctx(t), "acme", "nope"); resp == nil || resp.StatusCode != 404 {
		t.Errorf("unknown repository should be 404")
	}
}

func TestContents(t *testing.T) {
	f := newFixture(t)
	long := strings.Repeat("0123456789abcdef", 40) + "\n" // 641 bytes: several base64 lines
	uni := "héllo, wörld — ✓\n"
	v1 := f.repo.Commit("main", map[string]string{"docs/long.txt": long, "uni.txt": uni, ".stagegate.yml": "stages: []\n"}, "add files")
	v2 := f.repo.Commit("main", map[string]string{"uni.txt": "changed\n", "docs/long.txt": Deleted}, "change")
	c := f.client(t)

	// Round trip through go-github's decoder, at a sha and at a branch.
	for _, tc := range []struct{ path, ref, want string }{
		{"docs/long.txt", v1, long},
		{"uni.txt", v1, uni},
		{"uni.txt", "main", "changed\n"},
		{"uni.txt", "", "changed\n"}, // default branch
		{".stagegate.yml", v2, "stages: []\n"},
	} {
		var opt *github.RepositoryContentGetOptions
		if tc.ref != "" {
			opt = &github.RepositoryContentGetOptions{Ref: tc.ref}
		}
		fc, dir, _, err := c.Repositories.GetContents(ctx(t), "acme", "widgets", tc.path, opt)
		if err != nil || dir != nil {
			t.Fatalf("%s@%s: %v (dir %v)", tc.path, tc.ref, err, dir)
		}
		got, err := fc.GetContent()
		if err != nil || got != tc.want {
			t.Errorf("%s@%s = %q, %v; want %q", tc.path, tc.ref, got, err, tc.want)
		}
		if fc.GetType() != "file" || fc.GetEncoding() != "base64" || fc.GetSHA() != blobSHA(tc.want) ||
			fc.GetSize() != len(tc.want) || fc.GetPath() != tc.path || !strings.HasSuffix(tc.path, fc.GetName()) {
			t.Errorf("%s@%s metadata: type %q enc %q sha %q size %d path %q name %q", tc.path, tc.ref,
				fc.GetType(), fc.GetEncoding(), fc.GetSHA(), fc.GetSize(), fc.GetPath(), fc.GetName())
		}
	}

	// GitHub's base64 layout: 60-character lines, each ending in "\n".
	tok := f.token(t)
	r := do(t, "GET", f.repo.APIURL()+"/contents/docs/long.txt?ref="+v1, "token "+tok, nil)
	content := r.object(t)["content"].(string)
	lines := strings.Split(strings.TrimSuffix(content, "\n"), "\n")
	if !strings.HasSuffix(content, "\n") || len(lines) < 3 {
		t.Fatalf("content layout: %q", content)
	}
	for i, l := range lines {
		if (i < len(lines)-1 && len(l) != 60) || len(l) > 60 {
			t.Errorf("line %d has %d characters", i, len(l))
		}
	}
	dec, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(content, "\n", ""))
	if err != nil || string(dec) != long {
		t.Errorf("independent decode: %v", err)
	}

	// Directories list their entries.
	_, dir, _, err := c.Repositories.GetContents(ctx(t), "acme", "widgets", "docs", &github.RepositoryContentGetOptions{Ref: v1})
	if err != nil || len(dir) != 1 || dir[0].GetPath() != "docs/long.txt" || dir[0].GetType() != "file" {
		t.Errorf("docs listing = %v, %v", dir, err)
	}
	_, root, _, err := c.Repositories.GetContents(ctx(t), "acme", "widgets", "", nil)
	var names []string
	for _, e := range root {
		names = append(names, e.GetName()+":"+e.GetType())
	}
	sort.Strings(names)
	if err != nil || strings.Join(names, ",") != ".stagegate.yml:file,README.md:file,uni.txt:file" {
		t.Errorf("root listing = %v, %v", names, err)
	}

	// Missing paths and refs are GitHub's 404s.
	wantGitHubError(t, do(t, "GET", f.repo.APIURL()+"/contents/docs/long.txt?ref="+v2, "token "+tok, nil), 404, "Not Found")
	wantGitHubError(t, do(t, "GET", f.repo.APIURL()+"/contents/nope.txt", "token "+tok, nil), 404, "Not Found")
	wantGitHubError(t, do(t, "GET", f.repo.APIURL()+"/contents/uni.txt?ref=no-such-branch", "token "+tok, nil), 404,
		"No commit found for the ref no-such-branch")
	wantGitHubError(t, do(t, "GET", f.repo.APIURL()+"/contents/uni.txt?ref=0123456789012345678901234567890123456789", "token "+tok, nil), 404,
		"No commit found for the ref 0123456789012345678901234567890123456789")
}

func TestCommitBranchesAndModes(t *testing.T) {
	f := newFixture(t)
	main := f.repo.Head("main")
	feat := f.repo.CommitChanges("feature/x", "exec", Change{Path: "run.sh", Content: "#!/bin/sh\necho hi\n", Executable: true})
	if f.repo.Head("feature/x") != feat || f.repo.Head("main") != main {
		t.Fatal("branch heads wrong")
	}
	out, err := f.srv.git(f.repo.Dir(), nil, "ls-tree", feat)
	if err != nil || !strings.Contains(string(out), "100755 blob") || !strings.Contains(string(out), "README.md") {
		t.Errorf("feature tree (branched from main, executable run.sh):\n%s %v", out, err)
	}
	if parent, _ := f.srv.git(f.repo.Dir(), nil, "rev-parse", feat+"^"); strings.TrimSpace(string(parent)) != main {
		t.Errorf("feature parent = %s, want main %s", parent, main)
	}
	// The same change twice still makes two commits.
	a := f.repo.Commit("main", map[string]string{"a": "1"}, "same")
	b := f.repo.Commit("main", map[string]string{"a": "1"}, "same")
	if a == b || f.repo.Head("main") != b {
		t.Errorf("commits %s %s", a, b)
	}
	f.repo.Tag("v1", a)
	if sha, ok := f.repo.resolveCommit("v1"); !ok || sha != a {
		t.Errorf("tag v1 = %s", sha)
	}
	f.repo.DeleteBranch("feature/x")
	if f.repo.Head("feature/x") != "" {
		t.Error("branch not deleted")
	}
}

func TestCompare(t *testing.T) {
	f := newFixture(t)
	rename := strings.Repeat("stable content line\n", 20)
	base := f.repo.Commit("main", map[string]string{"a.txt": "a\n", "b.txt": "b\n", "c.txt": rename}, "base files")
	c1 := f.repo.Commit("feature", map[string]string{"a.txt": "a\nmore\n", "b.txt": Deleted}, "edit a, drop b")
	c2 := f.repo.Commit("feature", map[string]string{"d.txt": "new\n", "c.txt": Deleted, "e.txt": rename}, "add d, move c")
	c := f.client(t)

	cmp, _, err := c.Repositories.CompareCommits(ctx(t), "acme", "widgets", "main", "feature", nil)
	if err != nil {
		t.Fatal(err)
	}
	if cmp.GetStatus() != "ahead" || cmp.GetAheadBy() != 2 || cmp.GetBehindBy() != 0 || cmp.GetTotalCommits() != 2 {
		t.Errorf("status %q ahead %d behind %d total %d", cmp.GetStatus(), cmp.GetAheadBy(), cmp.GetBehindBy(), cmp.GetTotalCommits())
	}
	if len(cmp.Commits) != 2 || cmp.Commits[0].GetSHA() != c1 || cmp.Commits[1].GetSHA() != c2 ||
		cmp.Commits[1].GetCommit().GetMessage() != "add d, move c" || cmp.GetMergeBaseCommit().GetSHA() != base {
		t.Errorf("commits = %v, merge base %s", cmp.Commits, cmp.GetMergeBaseCommit().GetSHA())
	}
	got := map[string]string{}
	for _, fl := range cmp.Files {
		got[fl.GetFilename()] = fl.GetStatus()
		if fl.GetStatus() == "renamed" && fl.GetPreviousFilename() != "c.txt" {
			t.Errorf("rename source = %q", fl.GetPreviousFilename())
		}
		if fl.GetFilename() == "a.txt" && (fl.GetAdditions() != 1 || fl.GetDeletions() != 0 || !strings.Contains(fl.GetPatch(), "+more")) {
			t.Errorf("a.txt: +%d -%d patch %q", fl.GetAdditions(), fl.GetDeletions(), fl.GetPatch())
		}
		if fl.GetFilename() == "d.txt" && fl.GetSHA() != blobSHA("new\n") {
			t.Errorf("d.txt sha = %s", fl.GetSHA())
		}
	}
	want := map[string]string{"a.txt": "modified", "b.txt": "removed", "d.txt": "added", "e.txt": "renamed"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("files = %v, want %v", got, want)
	}

	// main moves on: the branches diverge; the reverse comparison is behind.
	f.repo.Commit("main", map[string]string{"z.txt": "z\n"}, "main moves")
	cmp, _, err = c.Repositories.CompareCommits(ctx(t), "acme", "widgets", "main", "feature", nil)
	if err != nil || cmp.GetStatus() != "diverged" || cmp.GetAheadBy() != 2 || cmp.GetBehindBy() != 1 || len(cmp.Files) != 4 {
		t.Errorf("diverged: %v status %q ahead %d behind %d files %d", err, cmp.GetStatus(), cmp.GetAheadBy(), cmp.GetBehindBy(), len(cmp.Files))
	}
	cmp, _, err = c.Repositories.CompareCommits(ctx(t), "acme", "widgets", c2, base, nil)
	if err != nil || cmp.GetStatus() != "behind" || cmp.GetBehindBy() != 2 || len(cmp.Files) != 0 {
		t.Errorf("behind: %v %q %d files %d", err, cmp.GetStatus(), cmp.GetBehindBy(), len(cmp.Files))
	}
	cmp, _, err = c.Repositories.CompareCommits(ctx(t), "acme", "widgets", c2, c2, nil)
	if err != nil || cmp.GetStatus() != "identical" || len(cmp.Commits) != 0 {
		t.Errorf("identical: %v %q", err, cmp.GetStatus())
	}
	if _, resp, _ := c.Repositories.CompareCommits(ctx(t), "acme", "widgets", "main", "nope", nil); resp == nil || resp.StatusCode != 404 {
		t.Error("unknown head should be 404")
	}
}

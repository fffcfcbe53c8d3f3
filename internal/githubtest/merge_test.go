package githubtest

import (
	"strings"
	"testing"
)

// A merge joins the base branch as it is now (moved since the pull
// request was opened) and the head, on the base branch; the pull request
// is then closed and merged, as the API shows it.
func TestMergePullRequestMakesAMergeCommit(t *testing.T) {
	f := newFixture(t)
	head := f.repo.Commit("feature", map[string]string{"a.txt": "feature\n"}, "feature work")
	n := f.srv.AddPullRequest("acme", "widgets", PullRequest{HeadRef: "feature"})
	moved := f.repo.Commit("main", map[string]string{"b.txt": "main moved\n"}, "meanwhile")

	before, merge := f.srv.MergePullRequest("acme", "widgets", n)
	if before != moved || f.repo.Head("main") != merge {
		t.Fatalf("before %s (want %s), main at %s (want the merge %s)", before, moved, f.repo.Head("main"), merge)
	}
	out, err := f.srv.git(f.repo.dir, nil, "show", "-s", "--format=%P%n%s", merge)
	if err != nil {
		t.Fatal(err)
	}
	if want := moved + " " + head + "\nMerge pull request #1 from acme/feature\n"; string(out) != want {
		t.Errorf("merge commit parents and subject %q, want %q", out, want)
	}
	files, err := f.srv.git(f.repo.dir, nil, "ls-tree", "--name-only", merge)
	if err != nil || !strings.Contains(string(files), "a.txt\n") || !strings.Contains(string(files), "b.txt\n") {
		t.Errorf("the merge's tree %q, %v: want both sides' files", files, err)
	}
	pr, _, err := f.client(t).PullRequests.Get(ctx(t), "acme", "widgets", n)
	if err != nil {
		t.Fatal(err)
	}
	if pr.GetState() != "closed" || !pr.GetMerged() || pr.MergedAt == nil {
		t.Errorf("after the merge: state %s, merged %v at %v", pr.GetState(), pr.GetMerged(), pr.MergedAt)
	}
}

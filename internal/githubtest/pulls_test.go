package githubtest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"
)

func TestPullRequestGet(t *testing.T) {
	f := newFixture(t)
	head := f.repo.Commit("feature", map[string]string{"a.txt": "one\ntwo\n", "README.md": "# widgets!\n"}, "feature work")
	f.srv.AddUser("ada", "User")
	n := f.srv.AddPullRequest("acme", "widgets", PullRequest{User: "ada", HeadRef: "feature", Title: "Add a"})
	c := f.client(t)

	pr, _, err := c.PullRequests.Get(ctx(t), "acme", "widgets", n)
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 || pr.GetNumber() != 1 || pr.GetState() != "open" || pr.GetTitle() != "Add a" || pr.GetUser().GetLogin() != "ada" ||
		pr.GetHead().GetSHA() != head || pr.GetHead().GetRef() != "feature" || pr.GetHead().GetLabel() != "acme:feature" ||
		pr.GetHead().GetRepo().GetFullName() != "acme/widgets" || pr.GetHead().GetRepo().GetFork() ||
		pr.GetBase().GetRef() != "main" || pr.GetBase().GetSHA() != f.sha || pr.GetBase().GetRepo().GetFullName() != "acme/widgets" ||
		pr.Mergeable != nil || pr.GetMergeableState() != "unknown" || pr.GetMerged() || pr.GetDraft() {
		t.Errorf("pull request = %+v", pr)
	}
	if pr.GetCommits() != 1 || pr.GetChangedFiles() != 2 || pr.GetAdditions() != 3 || pr.GetDeletions() != 1 {
		t.Errorf("counts: commits %d files %d +%d -%d", pr.GetCommits(), pr.GetChangedFiles(), pr.GetAdditions(), pr.GetDeletions())
	}
	// mergeable is present and null, as GitHub answers before computing it.
	raw := do(t, "GET", f.repo.APIURL()+"/pulls/1", "token "+f.token(t), nil).object(t)
	if v, ok := raw["mergeable"]; !ok || v != nil {
		t.Errorf("mergeable = %v (present %v)", v, ok)
	}

	// A push moves head.sha, the branch and refs/pull/1/head; base.sha
	// follows the base branch.
	next := f.repo.Commit("feature", map[string]string{"b.txt": "b\n"}, "more")
	newBase := f.repo.Commit("main", map[string]string{"m.txt": "m\n"}, "main moves")
	f.srv.PushToPullRequest("acme", "widgets", n, next)
	pr, _, err = c.PullRequests.Get(ctx(t), "acme", "widgets", n)
	if err != nil || pr.GetHead().GetSHA() != next || pr.GetBase().GetSHA() != newBase || pr.GetCommits() != 2 {
		t.Errorf("after push: %v %v", pr, err)
	}
	if sha, _ := f.repo.resolveCommit("refs/pull/1/head"); sha != next {
		t.Errorf("refs/pull/1/head = %s, want %s", sha, next)
	}
	// A push of an older commit is a force push: the branch follows.
	f.srv.PushToPullRequest("acme", "widgets", n, head)
	if f.repo.Head("feature") != head || f.srv.PullRequests("acme", "widgets")[0].HeadSHA != head {
		t.Errorf("force push: branch at %s", f.repo.Head("feature"))
	}

	for _, path := range []string{"/pulls/99", "/pulls/abc"} {
		if r := do(t, "GET", f.repo.APIURL()+path, "token "+f.token(t), nil); r.status != 404 {
			t.Errorf("%s: %d", path, r.status)
		}
	}
	g := newFixture(t, WithPermissions(withoutPerm("pull_requests")))
	g.repo.Commit("feature", map[string]string{"x": "x"}, "x")
	g.srv.AddPullRequest("acme", "widgets", PullRequest{HeadRef: "feature"})
	if _, resp, _ := g.client(t).PullRequests.Get(ctx(t), "acme", "widgets", 1); code(resp) != 403 {
		t.Errorf("without pull_requests: %d", code(resp))
	}
}

func TestPullRequestFromFork(t *testing.T) {
	f := newFixture(t)
	fork := f.srv.AddFork("acme", "widgets", "mallory")
	evil := fork.Commit("patch", map[string]string{"evil.sh": "curl | sh\n"}, "innocent change")
	if f.repo.hasCommit(evil) {
		t.Fatal("the fork's commit is in the base repository before any pull request")
	}
	n := f.srv.AddPullRequest("acme", "widgets", PullRequest{User: "mallory", HeadRepo: "mallory/widgets", HeadRef: "patch"})
	pr, _, err := f.client(t).PullRequests.Get(ctx(t), "acme", "widgets", n)
	if err != nil {
		t.Fatal(err)
	}
	h := pr.GetHead()
	if h.GetRepo().GetFullName() != "mallory/widgets" || !h.GetRepo().GetFork() || h.GetRepo().GetOwner().GetType() != "User" ||
		h.GetLabel() != "mallory:patch" || h.GetSHA() != evil || pr.GetBase().GetRepo().GetFullName() != "acme/widgets" ||
		pr.GetAuthorAssociation() != "NONE" {
		t.Errorf("fork pull request: head %+v", h)
	}
	// Like GitHub, the head commit is now in the base repository, so a
	// check run can be created on it there.
	if !f.repo.hasCommit(evil) {
		t.Fatal("refs/pull/N/head did not bring the fork's commit")
	}
	cr, _, err := f.client(t).Checks.CreateCheckRun(ctx(t), "acme", "widgets", github.CreateCheckRunOptions{Name: "build", HeadSHA: evil})
	if err != nil {
		t.Fatal(err)
	}
	// GitHub leaves fork pull requests out of a check run's pull_requests.
	if len(cr.PullRequests) != 0 {
		t.Errorf("check run lists fork pull requests: %v", cr.PullRequests)
	}
	// Pushing to the fork updates the pull request.
	evil2 := fork.Commit("patch", map[string]string{"evil.sh": "rm -rf /\n"}, "more")
	f.srv.PushToPullRequest("acme", "widgets", n, evil2)
	if !f.repo.hasCommit(evil2) || f.srv.PullRequests("acme", "widgets")[0].HeadSHA != evil2 {
		t.Error("push to the fork not reflected")
	}
}

func TestPullRequestList(t *testing.T) {
	f := newFixture(t)
	f.repo.Commit("a", map[string]string{"a": "a"}, "a")
	f.repo.Commit("b", map[string]string{"b": "b"}, "b")
	f.repo.Commit("c", map[string]string{"c": "c"}, "c")
	f.repo.Commit("release", map[string]string{"r": "r"}, "r")
	fork := f.srv.AddFork("acme", "widgets", "mallory")
	fork.Commit("a", map[string]string{"fa": "fa"}, "fork a")
	f.srv.AddPullRequest("acme", "widgets", PullRequest{HeadRef: "a"})
	f.srv.AddPullRequest("acme", "widgets", PullRequest{HeadRef: "b", State: "closed"})
	f.srv.AddPullRequest("acme", "widgets", PullRequest{HeadRef: "c", BaseRef: "release"})
	f.srv.AddPullRequest("acme", "widgets", PullRequest{HeadRepo: "mallory/widgets", HeadRef: "a"})
	c := f.client(t)

	list := func(opts *github.PullRequestListOptions) string {
		t.Helper()
		prs, _, err := c.PullRequests.List(ctx(t), "acme", "widgets", opts)
		if err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, p := range prs {
			s = append(s, fmt.Sprint(p.GetNumber()))
		}
		return strings.Join(s, ",")
	}
	for _, tc := range []struct {
		opts *github.PullRequestListOptions
		want string
	}{
		{nil, "4,3,1"},
		{&github.PullRequestListOptions{State: "closed"}, "2"},
		{&github.PullRequestListOptions{State: "all"}, "4,3,2,1"},
		{&github.PullRequestListOptions{State: "all", Direction: "asc"}, "1,2,3,4"},
		{&github.PullRequestListOptions{Head: "acme:a"}, "1"},
		{&github.PullRequestListOptions{Head: "mallory:a"}, "4"},
		{&github.PullRequestListOptions{Head: "ACME:c"}, "3"},
		{&github.PullRequestListOptions{Head: "acme:nope"}, ""},
		{&github.PullRequestListOptions{Head: "a"}, "4,3,1"}, // no owner: GitHub ignores the filter
		{&github.PullRequestListOptions{Base: "release"}, "3"},
	} {
		if got := list(tc.opts); got != tc.want {
			t.Errorf("list %+v = %q, want %q", tc.opts, got, tc.want)
		}
	}
	tok := f.token(t)
	for _, q := range []string{"state=merged", "sort=size", "direction=up"} {
		r := do(t, "GET", f.repo.APIURL()+"/pulls?"+q, "token "+tok, nil)
		if r.status != 422 || !strings.Contains(string(r.raw), "is not a member of") {
			t.Errorf("%s: %d %s", q, r.status, r.raw)
		}
	}
}

func TestPullRequestsForCommit(t *testing.T) {
	f := newFixture(t)
	c1 := f.repo.Commit("feature", map[string]string{"1": "1"}, "one")
	c2 := f.repo.Commit("feature", map[string]string{"2": "2"}, "two")
	other := f.repo.Commit("other", map[string]string{"o": "o"}, "other")
	f.srv.AddPullRequest("acme", "widgets", PullRequest{HeadRef: "feature"})
	f.srv.AddPullRequest("acme", "widgets", PullRequest{HeadRef: "other", State: "closed"})
	// A merged pull request whose commit is on main.
	merged := f.repo.Commit("done", map[string]string{"d": "d"}, "done")
	f.srv.AddPullRequest("acme", "widgets", PullRequest{HeadRef: "done", State: "closed", Merged: true})
	f.repo.updateRef("refs/heads/main", merged) // fast-forward main to it
	// An open pull request whose head was then pushed to main directly.
	landed := f.repo.Commit("landed", map[string]string{"l": "l"}, "landed")
	f.srv.AddPullRequest("acme", "widgets", PullRequest{HeadRef: "landed"})
	before := f.repo.Commit("open", map[string]string{"o": "o"}, "still open")
	f.srv.AddPullRequest("acme", "widgets", PullRequest{HeadRef: "open"})
	if prs := f.srv.PullRequests("acme", "widgets"); len(prs) != 5 {
		t.Fatalf("%d pull requests", len(prs))
	}
	c := f.client(t)
	if got, _, _ := c.PullRequests.ListPullRequestsWithCommit(ctx(t), "acme", "widgets", landed, nil); len(got) != 1 || got[0].GetNumber() != 4 {
		t.Fatalf("before landing: %v", got)
	}
	f.repo.updateRef("refs/heads/main", landed)

	numbers := func(sha string) string {
		t.Helper()
		prs, _, err := c.PullRequests.ListPullRequestsWithCommit(ctx(t), "acme", "widgets", sha, nil)
		if err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, p := range prs {
			s = append(s, fmt.Sprint(p.GetNumber()))
		}
		return strings.Join(s, ",")
	}
	for _, tc := range []struct{ name, sha, want string }{
		{"head", c2, "1"},
		{"earlier commit of the pull request", c1, "1"},
		{"closed pull request", other, ""},
		{"on the default branch: the merged one", merged, "3"},
		{"on the default branch, not from a pull request", f.sha, ""},
		{"on the default branch: open pull requests are not listed", landed, ""},
		{"another open pull request", before, "5"},
	} {
		if got := numbers(tc.sha); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
	if _, resp, _ := c.PullRequests.ListPullRequestsWithCommit(ctx(t), "acme", "widgets", strings.Repeat("0", 40), nil); code(resp) != 422 {
		t.Errorf("unknown sha: %d", code(resp))
	}
	// The check run on the head lists the open pull request.
	cr, _, err := c.Checks.CreateCheckRun(ctx(t), "acme", "widgets", github.CreateCheckRunOptions{Name: "x", HeadSHA: c2})
	if err != nil || len(cr.PullRequests) != 1 || cr.PullRequests[0].GetNumber() != 1 || cr.PullRequests[0].GetHead().GetSHA() != c2 {
		t.Errorf("check run pull_requests = %v %v", cr.PullRequests, err)
	}
}

func TestPullRequestHelpersRefuse(t *testing.T) {
	fc := &fatalCatcher{TB: t}
	srv := New(fc)
	repo := srv.AddRepo("acme", "widgets")
	base := repo.Commit("main", map[string]string{"x": "x"}, "x")
	repo.Commit("feature", map[string]string{"y": "y"}, "y")
	srv.AddRepo("globex", "widgets")
	n := srv.AddPullRequest("acme", "widgets", PullRequest{HeadRef: "feature"})
	for _, tc := range []struct {
		name string
		fn   func()
		want string
	}{
		{"no head ref", func() { srv.AddPullRequest("acme", "widgets", PullRequest{}) }, "HeadRef is required"},
		{"unknown head branch", func() { srv.AddPullRequest("acme", "widgets", PullRequest{HeadRef: "nope"}) }, "no branch"},
		{"head sha not a commit", func() {
			srv.AddPullRequest("acme", "widgets", PullRequest{HeadRef: "feature", HeadSHA: strings.Repeat("a", 40)})
		}, "is not a commit"},
		{"same branch", func() { srv.AddPullRequest("acme", "widgets", PullRequest{HeadRef: "main"}) }, "both main"},
		{"not a fork", func() { srv.AddPullRequest("acme", "widgets", PullRequest{HeadRepo: "globex/widgets", HeadRef: "a"}) }, "not a fork"},
		{"duplicate number", func() { srv.AddPullRequest("acme", "widgets", PullRequest{Number: n, HeadRef: "feature"}) }, "exists"},
		{"bad state", func() { srv.AddPullRequest("acme", "widgets", PullRequest{HeadRef: "feature", State: "merged"}) }, "state"},
		{"merged but open", func() { srv.AddPullRequest("acme", "widgets", PullRequest{HeadRef: "feature", Merged: true}) }, "state"},
		{"push to unknown", func() { srv.PushToPullRequest("acme", "widgets", 42, base) }, "no pull request"},
		{"push a non-commit", func() { srv.PushToPullRequest("acme", "widgets", n, strings.Repeat("b", 40)) }, "is not a commit"},
	} {
		if got := fc.fatal(tc.fn); got == "" || !strings.Contains(got, tc.want) {
			t.Errorf("%s: fatal %q, want %q", tc.name, got, tc.want)
		}
	}
}

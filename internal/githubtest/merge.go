package githubtest

import (
	"fmt"
	"strings"
)

// MergePullRequest merges pull request number as the "Create a merge
// commit" method does (https://docs.github.com/rest/pulls/pulls#merge-a-pull-request):
// a commit whose parents are the base branch's tip and the pull request's
// head, with the message "Merge pull request #N from OWNER/BRANCH", moves
// the base branch, and the pull request is closed and merged. A conflict
// fails the test, as GitHub answers 405 then. It returns the base
// branch's tip before the merge and the merge commit; sending the push
// webhook ([Repo.PushWebhook]) is the caller's part.
func (s *Server) MergePullRequest(owner, repo string, number int) (before, merge string) {
	s.t.Helper()
	base := s.Repo(owner, repo)
	if base == nil {
		s.t.Fatalf("githubtest: MergePullRequest: no repository %s/%s", owner, repo)
	}
	s.mu.Lock()
	pr := s.pullLocked(base, number)
	var baseRef, headSHA, headRepo, headRef string
	open := false
	if pr != nil {
		baseRef, headSHA, headRepo, headRef, open = pr.BaseRef, pr.HeadSHA, pr.HeadRepo, pr.HeadRef, pr.State == "open"
	}
	s.mu.Unlock()
	if pr == nil || !open {
		s.t.Fatalf("githubtest: MergePullRequest: no open pull request #%d in %s", number, base.FullName())
	}
	before = base.Head(baseRef)
	headOwner, _, _ := strings.Cut(headRepo, "/")
	message := fmt.Sprintf("Merge pull request #%d from %s/%s", number, headOwner, headRef)

	base.mu.Lock()
	// The head commit is in the base repository through
	// refs/pull/<number>/head, a fork's too (linkPullHead).
	tree, err := s.git(base.dir, nil, "merge-tree", "--write-tree", before, headSHA)
	if err == nil {
		merge, err = s.commitTree(base.dir, strings.TrimSpace(strings.SplitN(string(tree), "\n", 2)[0]), message, before, headSHA)
	}
	base.mu.Unlock()
	if err != nil {
		s.t.Fatalf("githubtest: MergePullRequest: #%d does not merge: %v", number, err)
	}
	base.updateRef("refs/heads/"+baseRef, merge)

	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.nowLocked()
	pr.State, pr.Merged, pr.ClosedAt, pr.MergedAt, pr.UpdatedAt = "closed", true, now, now, now
	return before, merge
}

// commitTree writes a commit of tree with parents, as the fake's fixed
// identity, and returns its sha.
func (s *Server) commitTree(dir, tree, message string, parents ...string) (string, error) {
	args := []string{"-c", "user.name=Octo Tester", "-c", "user.email=octo@users.noreply.github.invalid", "commit-tree", tree, "-m", message}
	for _, p := range parents {
		args = append(args, "-p", p)
	}
	out, err := s.git(dir, nil, args...)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

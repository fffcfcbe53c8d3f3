package githubtest

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// PullRequest is a pull request: what a test passes to
// [Server.AddPullRequest], and the server's record of it.
type PullRequest struct {
	// Number is the issue number; 0 takes the repository's next one.
	Number int
	Title  string // default "Pull request #<number>"
	Body   string
	// User is the author's login (default "octocat"), created as a "User"
	// if unknown.
	User  string
	State string // "open" (default) or "closed"
	Draft bool
	// Merged says a closed pull request was merged.
	Merged bool
	// Mergeable is nil until GitHub has computed it, which is how a
	// pull request starts; the API then reports null.
	Mergeable *bool
	// HeadRepo is the head repository's "owner/name": "" for this
	// repository, or a fork made with [Server.AddFork].
	HeadRepo string
	// HeadRef is the head branch in HeadRepo (required). HeadSHA defaults
	// to its tip; a HeadSHA given moves the branch there, as a push would.
	HeadRef, HeadSHA string
	// BaseRef is the base branch (default: the default branch); BaseSHA
	// defaults to its tip.
	BaseRef, BaseSHA string

	// Set by the server.
	ID                   int64
	Owner, Repo          string
	CreatedAt, UpdatedAt time.Time
	ClosedAt, MergedAt   time.Time
}

// AddFork creates forkOwner/repo as a fork of owner/repo holding the same
// branches and tags. Its owner is a user account (created as a "User").
func (s *Server) AddFork(owner, repo, forkOwner string) *Repo {
	s.t.Helper()
	parent := s.Repo(owner, repo)
	if parent == nil {
		s.t.Fatalf("githubtest: AddFork: no repository %s/%s", owner, repo)
	}
	fork := s.AddRepo(forkOwner, parent.Name)
	if _, err := s.git(fork.dir, nil, "fetch", "--quiet", parent.dir, "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"); err != nil {
		s.t.Fatalf("githubtest: AddFork: %v", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	fork.Private = parent.Private
	s.forks[fork.ID] = parent.ID
	if _, err := s.ensureUserLocked(forkOwner); err != nil {
		s.t.Fatalf("githubtest: AddFork: %v", err)
	}
	return fork
}

func (s *Server) ownerTypeLocked(r *Repo) string {
	if s.forks[r.ID] != 0 {
		return "User"
	}
	return "Organization"
}

// AddPullRequest opens (or records) a pull request on owner/repo and
// returns its number. Like GitHub it makes refs/pull/<number>/head in the
// base repository, so the head commit (a fork's too) is in the base
// repository: check runs and statuses can be created on it there.
func (s *Server) AddPullRequest(owner, repo string, pr PullRequest) int {
	s.t.Helper()
	base := s.Repo(owner, repo)
	if base == nil {
		s.t.Fatalf("githubtest: AddPullRequest: no repository %s/%s", owner, repo)
	}
	head := s.pullHeadRepo(base, pr.HeadRepo)
	if pr.HeadRef == "" {
		s.t.Fatalf("githubtest: AddPullRequest: HeadRef is required")
	}
	if pr.BaseRef == "" {
		pr.BaseRef = base.DefaultBranch
	}
	if head == base && pr.HeadRef == pr.BaseRef {
		s.t.Fatalf("githubtest: AddPullRequest: head and base are both %s", pr.BaseRef)
	}
	switch {
	case pr.BaseSHA == "":
		if pr.BaseSHA = base.Head(pr.BaseRef); pr.BaseSHA == "" {
			s.t.Fatalf("githubtest: AddPullRequest: no base branch %q", pr.BaseRef)
		}
	case !base.hasCommit(pr.BaseSHA):
		s.t.Fatalf("githubtest: AddPullRequest: BaseSHA %s is not a commit of %s", pr.BaseSHA, base.FullName())
	}
	pr.HeadSHA = s.moveHead(head, pr.HeadRef, pr.HeadSHA)
	if pr.State == "" {
		pr.State = "open"
	}
	if !oneOf(pr.State, "open", "closed") || (pr.Merged && pr.State != "closed") {
		s.t.Fatalf("githubtest: AddPullRequest: state %q (merged %v)", pr.State, pr.Merged)
	}
	if pr.User == "" {
		pr.User = "octocat"
	}

	s.mu.Lock()
	list := s.pulls[repoKey(base.Owner, base.Name)]
	if pr.Number == 0 {
		pr.Number = 1
		if len(list) > 0 {
			pr.Number = list[len(list)-1].Number + 1
		}
	}
	for _, p := range list {
		if p.Number == pr.Number {
			s.mu.Unlock()
			s.t.Fatalf("githubtest: AddPullRequest: #%d exists", pr.Number)
		}
	}
	author, err := s.ensureUserLocked(pr.User)
	if err != nil {
		s.mu.Unlock()
		s.t.Fatalf("githubtest: AddPullRequest: %v", err)
	}
	if pr.Title == "" {
		pr.Title = fmt.Sprintf("Pull request #%d", pr.Number)
	}
	now := s.nowLocked()
	pr.User, pr.HeadRepo, pr.ID, pr.Owner, pr.Repo = author.login, head.FullName(), s.newIDLocked(), base.Owner, base.Name
	pr.CreatedAt, pr.UpdatedAt = now, now
	if pr.State == "closed" {
		pr.ClosedAt = now
	}
	if pr.Merged {
		pr.MergedAt = now
	}
	stored := pr
	list = append(list, &stored)
	sort.Slice(list, func(i, j int) bool { return list[i].Number < list[j].Number })
	s.pulls[repoKey(base.Owner, base.Name)] = list
	s.mu.Unlock()

	s.linkPullHead(base, head, pr.Number, pr.HeadSHA)
	s.recordPush(base, pr.Number, pr.BaseSHA, "", pr.HeadSHA, pr.User)
	return pr.Number
}

// PushToPullRequest moves pull request number's head to sha, a commit of
// its head repository, as a push to the head branch does: the branch and
// refs/pull/<number>/head follow, and base.sha is refreshed to the base
// branch's tip. The timeline records the push: a committed event per
// commit added, after a head_ref_force_pushed event when the old head is
// not an ancestor of sha (timeline.go).
func (s *Server) PushToPullRequest(owner, repo string, number int, sha string) {
	s.t.Helper()
	base := s.Repo(owner, repo)
	if base == nil {
		s.t.Fatalf("githubtest: PushToPullRequest: no repository %s/%s", owner, repo)
	}
	s.mu.Lock()
	pr := s.pullLocked(base, number)
	var headRepo, headRef, baseRef, oldHead, baseSHA, author string
	if pr != nil {
		headRepo, headRef, baseRef, oldHead, baseSHA, author = pr.HeadRepo, pr.HeadRef, pr.BaseRef, pr.HeadSHA, pr.BaseSHA, pr.User
	}
	s.mu.Unlock()
	if pr == nil {
		s.t.Fatalf("githubtest: PushToPullRequest: no pull request #%d in %s", number, base.FullName())
	}
	head := s.pullHeadRepo(base, headRepo)
	s.moveHead(head, headRef, sha)
	s.linkPullHead(base, head, number, sha)
	// The pusher is the fork's owner, or the author on a same-repository
	// pull request.
	pusher := author
	if head != base {
		pusher = head.Owner
	}
	s.recordPush(base, number, baseSHA, oldHead, sha, pusher)
	baseTip := base.Head(baseRef)

	s.mu.Lock()
	defer s.mu.Unlock()
	pr.HeadSHA, pr.UpdatedAt = sha, s.nowLocked()
	if baseTip != "" {
		pr.BaseSHA = baseTip
	}
}

// PullRequests returns copies of owner/repo's pull requests by number.
func (s *Server) PullRequests(owner, repo string) []PullRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []PullRequest
	for _, pr := range s.pulls[repoKey(owner, repo)] {
		c := *pr
		if pr.Mergeable != nil {
			c.Mergeable = ptrTo(*pr.Mergeable)
		}
		out = append(out, c)
	}
	return out
}

func ptrTo[T any](v T) *T { return &v }

func (s *Server) pullLocked(r *Repo, number int) *PullRequest {
	for _, pr := range s.pulls[repoKey(r.Owner, r.Name)] {
		if pr.Number == number {
			return pr
		}
	}
	return nil
}

// pullHeadRepo resolves a HeadRepo name: base itself, or a fork of it.
func (s *Server) pullHeadRepo(base *Repo, name string) *Repo {
	s.t.Helper()
	if name == "" || strings.EqualFold(name, base.FullName()) {
		return base
	}
	o, n, _ := strings.Cut(name, "/")
	s.mu.Lock()
	defer s.mu.Unlock()
	head := s.repos[repoKey(o, n)]
	if head == nil || s.forks[head.ID] != base.ID {
		s.t.Fatalf("githubtest: %s is not a fork of %s (make it with AddFork)", name, base.FullName())
	}
	return head
}

// moveHead points branch at sha ("" = leave it) and returns the tip.
func (s *Server) moveHead(head *Repo, branch, sha string) string {
	s.t.Helper()
	if sha == "" {
		if sha = head.Head(branch); sha == "" {
			s.t.Fatalf("githubtest: no branch %q in %s", branch, head.FullName())
		}
		return sha
	}
	if !head.hasCommit(sha) {
		s.t.Fatalf("githubtest: %s is not a commit of %s", sha, head.FullName())
	}
	if head.Head(branch) != sha {
		head.updateRef("refs/heads/"+branch, sha)
	}
	return sha
}

// linkPullHead points the base repository's refs/pull/<n>/head at sha,
// fetching it from the fork when the head is in one.
func (s *Server) linkPullHead(base, head *Repo, number int, sha string) {
	s.t.Helper()
	ref := "refs/pull/" + strconv.Itoa(number) + "/head"
	if head == base {
		base.updateRef(ref, sha)
		return
	}
	base.mu.Lock()
	defer base.mu.Unlock()
	if _, err := s.git(base.dir, nil, "fetch", "--quiet", head.dir, "+"+sha+":"+ref); err != nil {
		s.t.Fatalf("githubtest: fetching %s from %s: %v", sha, head.FullName(), err)
	}
}

// isAncestor reports whether commit a is reachable from commit b.
func (r *Repo) isAncestor(a, b string) bool {
	_, err := r.s.git(r.dir, nil, "merge-base", "--is-ancestor", a, b)
	return err == nil
}

// checkRunPullsLocked is a check run's pull_requests: GitHub lists the open
// pull requests of the same repository whose head is the run's sha; those
// from forks are left out.
func (s *Server) checkRunPullsLocked(cr *CheckRun) []any {
	out := []any{}
	repo := s.repos[repoKey(cr.Owner, cr.Repo)]
	for _, pr := range s.pulls[repoKey(cr.Owner, cr.Repo)] {
		if pr.State != "open" || pr.HeadSHA != cr.HeadSHA || !strings.EqualFold(pr.HeadRepo, repo.FullName()) {
			continue
		}
		mini := func(ref, sha string) map[string]any {
			return map[string]any{"ref": ref, "sha": sha, "repo": map[string]any{"id": repo.ID, "url": repo.APIURL(), "name": repo.Name}}
		}
		out = append(out, map[string]any{
			"url": repo.APIURL() + "/pulls/" + strconv.Itoa(pr.Number), "id": pr.ID, "number": pr.Number,
			"head": mini(pr.HeadRef, pr.HeadSHA), "base": mini(pr.BaseRef, pr.BaseSHA),
		})
	}
	return out
}

package githubtest

import "strings"

// RetargetPullRequest changes pull request number's base branch to base,
// as "Edit" on GitHub does, and returns the pull_request "edited" payload
// GitHub sends for it: pull_request as the API now answers it (base.ref
// and base.sha those of the new base) and changes.base.ref.from and
// changes.base.sha.from the old ones
// (https://docs.github.com/webhooks/webhook-events-and-payloads#pull_request,
// action "edited": "changes.base: object; ref: {from}; sha: {from}").
// @octokit/webhooks-examples has no "edited" example (see
// testdata/webhooks/NOTICE.md), so the payload starts from the vendored
// "pull_request.synchronize" one, without its before and after. The base
// must be an existing branch of the repository, other than the current
// one, as GitHub requires; the sender is the pull request's author.
func (s *Server) RetargetPullRequest(owner, repo string, number int, base string) []byte {
	s.t.Helper()
	r := s.Repo(owner, repo)
	if r == nil {
		s.t.Fatalf("githubtest: RetargetPullRequest: no repository %s/%s", owner, repo)
	}
	tip := r.Head(base)
	s.mu.Lock()
	pr := s.pullLocked(r, number)
	switch {
	case pr == nil:
		s.mu.Unlock()
		s.t.Fatalf("githubtest: RetargetPullRequest: no pull request #%d in %s", number, r.FullName())
	case tip == "":
		s.mu.Unlock()
		s.t.Fatalf("githubtest: RetargetPullRequest: %s has no branch %q", r.FullName(), base)
	case pr.BaseRef == base:
		s.mu.Unlock()
		s.t.Fatalf("githubtest: RetargetPullRequest: #%d already targets %s", number, base)
	}
	fromRef, fromSHA := pr.BaseRef, pr.BaseSHA
	pr.BaseRef, pr.BaseSHA, pr.UpdatedAt = base, tip, s.nowLocked()
	pull := s.pullJSONLocked(pr)
	sender := s.userJSON(s.users[strings.ToLower(pr.User)])
	s.mu.Unlock()
	return s.buildWebhook(r, "pull_request.synchronize", func(p map[string]any) {
		delete(p, "before")
		delete(p, "after")
		p["action"], p["number"], p["pull_request"], p["sender"] = "edited", number, pull, sender
		p["changes"] = map[string]any{"base": map[string]any{
			"ref": map[string]any{"from": fromRef},
			"sha": map[string]any{"from": fromSHA},
		}}
	})
}

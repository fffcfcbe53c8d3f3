package githubtest

import (
	"strconv"
	"strings"
)

// Webhook builders for stored state: each loads a vendored payload through
// [Repo.Webhook] (so repository, organization and installation describe
// this server and the main App's installation) and fills it from the
// server's record, so the payload agrees with what the API answers.

// buildWebhook is repo.Webhook(name, edit) with the organization object
// rewritten whole and the repository's descriptive fields too (the
// vendored ones keep the example's description, homepage, licence, ...).
func (s *Server) buildWebhook(repo *Repo, name string, edit func(p map[string]any)) []byte {
	s.mu.Lock()
	repoJSON := s.repoJSONLocked(repo)
	s.mu.Unlock()
	return repo.Webhook(name, func(p map[string]any) {
		if m, ok := p["repository"].(map[string]any); ok {
			for k, v := range repoJSON {
				m[k] = v
			}
			m["homepage"], m["language"], m["license"] = nil, nil, nil
		}
		if _, ok := p["organization"]; ok {
			api := s.URL + "/api/v3/orgs/" + repo.Owner
			p["organization"] = map[string]any{
				"login": repo.Owner, "id": repo.ownerID, "node_id": nodeID("012:Organization", repo.ownerID),
				"url": api, "repos_url": api + "/repos", "events_url": api + "/events", "hooks_url": api + "/hooks",
				"issues_url": api + "/issues", "members_url": api + "/members{/member}",
				"public_members_url": api + "/public_members{/member}", "avatar_url": s.URL + "/avatars/" + repo.Owner,
				"description": "",
			}
		}
		edit(p)
	})
}

// RequestedActionWebhook builds the check_run "requested_action" payload
// GitHub sends when login clicks the button identifier on check run id.
// GitHub sends it only to the App that created the run, and only for a
// button the run has: asking for another App's run or for an identifier
// not among the run's Actions fails the test.
func (s *Server) RequestedActionWebhook(checkRunID int64, identifier, login string) []byte {
	s.t.Helper()
	s.mu.Lock()
	cr := s.checkRuns[checkRunID]
	exists, mine, has := cr != nil, cr != nil && cr.AppID == s.app.ID, false
	for _, a := range cr.actionsOrNil() {
		has = has || a.Identifier == identifier
	}
	s.mu.Unlock()
	switch {
	case !exists:
		s.t.Fatalf("githubtest: RequestedActionWebhook: no check run %d", checkRunID)
	case !mine:
		s.t.Fatalf("githubtest: RequestedActionWebhook: check run %d belongs to another App; only its App gets requested_action", checkRunID)
	case !has:
		s.t.Fatalf("githubtest: RequestedActionWebhook: check run %d has no action %q", checkRunID, identifier)
	}
	repo, run, suite, sender := s.checkRunPayloadParts(checkRunID, login)
	return s.buildWebhook(repo, "check_run.requested_action", func(p map[string]any) {
		run["check_suite"] = suite
		p["check_run"] = run
		SetPath(p, "requested_action.identifier", identifier)
		p["sender"] = sender
	})
}

// CheckRunCompletedWebhook builds the check_run "completed" payload for
// stored check run id of any App — GitHub sends it to every App with
// checks:read on the repository, which is how stagegate learns that
// another CI finished. The sender is the run's App's bot. The run must be
// completed.
func (s *Server) CheckRunCompletedWebhook(checkRunID int64) []byte {
	s.t.Helper()
	s.mu.Lock()
	cr := s.checkRuns[checkRunID]
	var bot string
	completed := cr != nil && cr.Status == "completed"
	if cr != nil {
		bot = s.botLocked(s.apps[cr.AppID]).login
	}
	s.mu.Unlock()
	if !completed {
		s.t.Fatalf("githubtest: CheckRunCompletedWebhook: no completed check run %d", checkRunID)
	}
	repo, run, suite, sender := s.checkRunPayloadParts(checkRunID, bot)
	return s.buildWebhook(repo, "check_run.completed", func(p map[string]any) {
		run["check_suite"] = suite
		p["check_run"] = run
		p["sender"] = sender
	})
}

func (cr *CheckRun) actionsOrNil() []CheckRunAction {
	if cr == nil {
		return nil
	}
	return cr.Actions
}

// checkRunPayloadParts renders check run id, its suite and the sender.
func (s *Server) checkRunPayloadParts(id int64, login string) (*Repo, map[string]any, map[string]any, map[string]any) {
	s.t.Helper()
	s.mu.Lock()
	cr := s.checkRuns[id]
	var repo *Repo
	var sha string
	if cr != nil {
		repo, sha = s.repos[repoKey(cr.Owner, cr.Repo)], cr.HeadSHA
	}
	s.mu.Unlock()
	if cr == nil {
		s.t.Fatalf("githubtest: no check run %d", id)
		return nil, nil, nil, nil
	}
	branch := repo.branchAt(sha)
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.ensureUserLocked(login)
	if err != nil {
		s.t.Fatalf("githubtest: webhook sender: %v", err)
	}
	var runs []*CheckRun
	for _, r := range s.sortedCheckRunsLocked(repo) {
		if r.CheckSuiteID == cr.CheckSuiteID {
			runs = append(runs, r)
		}
	}
	suite := s.checkSuiteJSONLocked(repo, cr.CheckSuiteID, suiteKey{appID: cr.AppID, repoID: repo.ID, sha: sha}, runs, branch)
	delete(suite, "repository")
	return repo, s.checkRunJSONLocked(cr), suite, s.userJSON(u)
}

// IssueCommentWebhook builds the issue_comment "created" payload for
// stored comment id (from [Server.AddComment] or the API): issue is the
// pull request, with its issue.pull_request object; comment and sender
// are the comment and its author.
func (s *Server) IssueCommentWebhook(commentID int64) []byte {
	s.t.Helper()
	s.mu.Lock()
	c := s.comments[commentID]
	if c == nil {
		s.mu.Unlock()
		s.t.Fatalf("githubtest: IssueCommentWebhook: no comment %d", commentID)
		return nil
	}
	repo := s.repos[repoKey(c.Owner, c.Repo)]
	pr := s.pullLocked(repo, c.Number)
	author := s.users[strings.ToLower(pr.User)]
	num := strconv.Itoa(pr.Number)
	issueURL, html := repo.APIURL()+"/issues/"+num, repo.HTMLURL()+"/pull/"+num
	issue := map[string]any{
		"url": issueURL, "repository_url": repo.APIURL(), "labels_url": issueURL + "/labels{/name}",
		"comments_url": issueURL + "/comments", "events_url": issueURL + "/events", "html_url": html,
		"id": pr.ID, "node_id": nodeID("011:PullRequest", pr.ID), "number": pr.Number, "title": pr.Title,
		"user": s.userJSON(author), "labels": []any{}, "state": pr.State, "locked": false,
		"assignee": nil, "assignees": []any{}, "milestone": nil, "comments": len(s.commentsLocked(c.Owner, c.Repo, c.Number)),
		"created_at": iso(pr.CreatedAt), "updated_at": iso(pr.UpdatedAt), "closed_at": isoOrNil(pr.ClosedAt),
		"author_association": s.associationLocked(repo, author), "active_lock_reason": nil, "draft": pr.Draft,
		"body": strOrNil(pr.Body), "performed_via_github_app": nil, "state_reason": nil,
		"pull_request": map[string]any{
			"url": repo.APIURL() + "/pulls/" + num, "html_url": html, "diff_url": html + ".diff",
			"patch_url": html + ".patch", "merged_at": isoOrNil(pr.MergedAt),
		},
	}
	comment := s.commentJSONLocked(c)
	sender := comment["user"]
	s.mu.Unlock()
	return s.buildWebhook(repo, "issue_comment.created", func(p map[string]any) {
		p["issue"], p["comment"], p["sender"] = issue, comment, sender
	})
}

// StatusWebhook builds the status payload for stored commit status id:
// the status's fields, the commit, and up to 10 branches containing it;
// the sender is the status's creator.
func (s *Server) StatusWebhook(statusID int64) []byte {
	s.t.Helper()
	s.mu.Lock()
	var st *CommitStatus
	for _, x := range s.statuses {
		if x.ID == statusID {
			st = x
		}
	}
	if st == nil {
		s.mu.Unlock()
		s.t.Fatalf("githubtest: StatusWebhook: no status %d", statusID)
		return nil
	}
	repo := s.repos[repoKey(st.Owner, st.Repo)]
	body := s.statusJSONLocked(st)
	s.mu.Unlock()

	var commit any
	if cs := repo.logCommits("-1", st.SHA); len(cs) == 1 {
		commit = s.commitJSON(repo, cs[0])
	}
	branches := []any{}
	out, _ := s.git(repo.dir, nil, "for-each-ref", "--contains", st.SHA, "--format=%(refname:short) %(objectname)", "refs/heads")
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		name, sha, ok := strings.Cut(line, " ")
		if !ok || len(branches) == 10 {
			continue
		}
		branches = append(branches, map[string]any{
			"name": name, "protected": false,
			"commit": map[string]any{"sha": sha, "url": repo.APIURL() + "/commits/" + sha},
		})
	}
	return s.buildWebhook(repo, "status", func(p map[string]any) {
		for _, k := range []string{"id", "context", "description", "state", "target_url", "avatar_url", "created_at", "updated_at"} {
			p[k] = body[k]
		}
		p["sha"], p["name"], p["commit"], p["branches"], p["sender"] = st.SHA, repo.FullName(), commit, branches, body["creator"]
	})
}

package githubtest

import (
	"bufio"
	"bytes"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

const (
	docGetPull     = "https://docs.github.com/rest/pulls/pulls#get-a-pull-request"
	docListPulls   = "https://docs.github.com/rest/pulls/pulls#list-pull-requests"
	docCommitPulls = "https://docs.github.com/rest/commits/commits#list-pull-requests-associated-with-a-commit"
)

func (s *Server) pullRoutes() {
	s.handle("GET /api/v3/repos/{owner}/{repo}/pulls", authRepo("pull_requests", "read"), s.listPulls)
	s.handle("GET /api/v3/repos/{owner}/{repo}/pulls/{pull_number}", authRepo("pull_requests", "read"), s.getPull)
}

func (s *Server) getPull(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	n, err := strconv.Atoi(r.PathValue("pull_number"))
	s.mu.Lock()
	var pr PullRequest
	found := s.pullLocked(rc.repo, n)
	if found != nil {
		pr = *found
	}
	s.mu.Unlock()
	if err != nil || found == nil {
		writeError(w, http.StatusNotFound, "Not Found", docGetPull)
		return
	}
	// The counts come from git, outside the lock.
	commits, files, adds, dels := rc.repo.pullStats(pr.BaseSHA, pr.HeadSHA)
	s.mu.Lock()
	body := s.pullJSONLocked(&pr)
	var comments int
	for _, c := range s.comments {
		if repoKey(c.Owner, c.Repo) == repoKey(pr.Owner, pr.Repo) && c.Number == pr.Number {
			comments++
		}
	}
	s.mu.Unlock()
	var mergeable any
	state := "unknown" // GitHub's value while mergeable is still null
	if pr.Mergeable != nil {
		mergeable, state = *pr.Mergeable, "clean"
		if !*pr.Mergeable {
			state = "dirty"
		}
	}
	for k, v := range map[string]any{
		"merged": pr.Merged, "mergeable": mergeable, "rebaseable": nil, "mergeable_state": state, "merged_by": nil,
		"comments": comments, "review_comments": 0, "maintainer_can_modify": false,
		"commits": commits, "additions": adds, "deletions": dels, "changed_files": files,
	} {
		body[k] = v
	}
	writeJSON(w, http.StatusOK, body)
}

// pullStats counts a pull request's commits and its diff from the merge
// base, as GitHub's commits, changed_files, additions and deletions do.
func (r *Repo) pullStats(baseSHA, headSHA string) (commits, files, adds, dels int) {
	commits = r.count(baseSHA + ".." + headSHA)
	out, err := r.s.git(r.dir, nil, "diff", "--numstat", baseSHA+"..."+headSHA)
	if err != nil {
		return commits, 0, 0, 0
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.SplitN(sc.Text(), "\t", 3)
		if len(f) != 3 {
			continue
		}
		a, _ := strconv.Atoi(f[0]) // "-" for binary files
		d, _ := strconv.Atoi(f[1])
		files, adds, dels = files+1, adds+a, dels+d
	}
	return commits, files, adds, dels
}

// listPulls is GET /repos/{o}/{r}/pulls with GitHub's filters: state
// (open, closed, all; default open), head ("owner:branch" — GitHub
// silently ignores a head without the owner, and so does the fake), base,
// sort (created, updated, popularity, long-running; the last two order as
// created here) and direction.
func (s *Server) listPulls(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	q := r.URL.Query()
	var lines []string
	state, sortBy, dir := q.Get("state"), q.Get("sort"), q.Get("direction")
	check := func(key, val string, allowed ...string) {
		if q.Has(key) && !oneOf(val, allowed...) {
			lines = append(lines, notMember(key, val, allowed))
		}
	}
	check("state", state, "open", "closed", "all")
	check("sort", sortBy, "created", "updated", "popularity", "long-running")
	check("direction", dir, "asc", "desc")
	if len(lines) > 0 {
		writeInvalidRequest(w, docListPulls, lines)
		return
	}
	if state == "" {
		state = "open"
	}
	if dir == "" {
		dir = "desc"
		if sortBy != "" && sortBy != "created" {
			dir = "asc"
		}
	}
	headOwner, headRef, headOK := strings.Cut(q.Get("head"), ":")

	s.mu.Lock()
	defer s.mu.Unlock()
	var match []*PullRequest
	for _, pr := range s.pulls[repoKey(rc.repo.Owner, rc.repo.Name)] {
		hOwner, _, _ := strings.Cut(pr.HeadRepo, "/")
		switch {
		case state != "all" && pr.State != state,
			headOK && (!strings.EqualFold(hOwner, headOwner) || pr.HeadRef != headRef),
			q.Get("base") != "" && pr.BaseRef != q.Get("base"):
			continue
		}
		match = append(match, pr)
	}
	sort.SliceStable(match, func(i, j int) bool {
		a, b := match[i], match[j]
		if sortBy == "updated" && !a.UpdatedAt.Equal(b.UpdatedAt) {
			return a.UpdatedAt.Before(b.UpdatedAt) == (dir == "asc")
		}
		return (a.Number < b.Number) == (dir == "asc")
	})
	lo, hi := page(w, r, s.URL, len(match))
	out := []any{}
	for _, pr := range match[lo:hi] {
		out = append(out, s.pullJSONLocked(pr))
	}
	writeJSON(w, http.StatusOK, out)
}

// listPullsForCommit is GET /repos/{o}/{r}/commits/{sha}/pulls: for a
// commit on the default branch, the merged pull requests that brought it;
// otherwise the open pull requests whose commits include it.
func (s *Server) listPullsForCommit(w http.ResponseWriter, r *http.Request, rc *reqCtx, ref string) {
	sha, ok := rc.repo.resolveCommit(ref)
	if !ok {
		writeError(w, http.StatusUnprocessableEntity, "No commit found for SHA: "+ref, docCommitPulls)
		return
	}
	s.mu.Lock()
	var cands []PullRequest
	for _, pr := range s.pulls[repoKey(rc.repo.Owner, rc.repo.Name)] {
		cands = append(cands, *pr)
	}
	s.mu.Unlock()
	tip := rc.repo.Head(rc.repo.DefaultBranch)
	onDefault := tip != "" && rc.repo.isAncestor(sha, tip)
	var numbers []int
	for i := len(cands) - 1; i >= 0; i-- {
		pr := cands[i]
		if onDefault && !pr.Merged || !onDefault && pr.State != "open" {
			continue
		}
		if sha == pr.HeadSHA || rc.repo.isAncestor(sha, pr.HeadSHA) && !rc.repo.isAncestor(sha, pr.BaseSHA) {
			numbers = append(numbers, pr.Number)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	lo, hi := page(w, r, s.URL, len(numbers))
	out := []any{}
	for _, n := range numbers[lo:hi] {
		out = append(out, s.pullJSONLocked(s.pullLocked(rc.repo, n)))
	}
	writeJSON(w, http.StatusOK, out)
}

// pullJSONLocked renders a pull request as GitHub lists it (go-github's
// PullRequest); getPull adds the single-PR fields.
func (s *Server) pullJSONLocked(pr *PullRequest) map[string]any {
	base := s.repos[repoKey(pr.Owner, pr.Repo)]
	hOwner, hName, _ := strings.Cut(pr.HeadRepo, "/")
	head := s.repos[repoKey(hOwner, hName)]
	author := s.users[strings.ToLower(pr.User)]
	num := strconv.Itoa(pr.Number)
	api, html := base.APIURL()+"/pulls/"+num, base.HTMLURL()+"/pull/"+num
	issue := base.APIURL() + "/issues/" + num
	href := func(u string) map[string]any { return map[string]any{"href": u} }
	branch := func(r *Repo, ref, sha string) map[string]any {
		return map[string]any{
			"label": r.Owner + ":" + ref, "ref": ref, "sha": sha,
			"user": s.accountJSON(r.Owner, r.ownerID, s.ownerTypeLocked(r)), "repo": s.repoJSONLocked(r),
		}
	}
	return map[string]any{
		"url": api, "id": pr.ID, "node_id": nodeID("011:PullRequest", pr.ID), "number": pr.Number,
		"html_url": html, "diff_url": html + ".diff", "patch_url": html + ".patch", "issue_url": issue,
		"commits_url": api + "/commits", "review_comments_url": api + "/comments",
		"review_comment_url": base.APIURL() + "/pulls/comments{/number}", "comments_url": issue + "/comments",
		"statuses_url": base.APIURL() + "/statuses/" + pr.HeadSHA,
		"state":        pr.State, "locked": false, "title": pr.Title, "body": strOrNil(pr.Body), "draft": pr.Draft,
		"user": s.userJSON(author), "labels": []any{}, "milestone": nil, "active_lock_reason": nil,
		"created_at": iso(pr.CreatedAt), "updated_at": iso(pr.UpdatedAt),
		"closed_at": isoOrNil(pr.ClosedAt), "merged_at": isoOrNil(pr.MergedAt), "merge_commit_sha": nil,
		"assignee": nil, "assignees": []any{}, "requested_reviewers": []any{}, "requested_teams": []any{},
		"head": branch(head, pr.HeadRef, pr.HeadSHA), "base": branch(base, pr.BaseRef, pr.BaseSHA),
		"_links": map[string]any{
			"self": href(api), "html": href(html), "issue": href(issue), "comments": href(issue + "/comments"),
			"review_comments": href(api + "/comments"), "review_comment": href(base.APIURL() + "/pulls/comments{/number}"),
			"commits": href(api + "/commits"), "statuses": href(base.APIURL() + "/statuses/" + pr.HeadSHA),
		},
		"author_association": s.associationLocked(base, author),
		"auto_merge":         nil,
	}
}

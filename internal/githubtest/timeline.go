package githubtest

import (
	"net/http"
	"sort"
	"strconv"
	"time"
)

// The timeline of a pull request, as GET /repos/{owner}/{repo}/issues/
// {issue_number}/timeline serves it. The event shapes are those of
// https://docs.github.com/rest/using-the-rest-api/issue-event-types:
//
//   - committed: "A commit was added to the pull request's HEAD branch."
//     It is the git commit itself (sha, author and committer with their
//     dates, tree, message, parents, verification) and has no id, actor
//     or created_at: GitHub does not say when the commit was pushed, and
//     the dates it does give are whatever the pusher's git wrote.
//   - head_ref_force_pushed: an issue event with the common properties
//     (id, node_id, url, actor, event, commit_id, commit_url, created_at,
//     performed_via_github_app). Its commit_id is the head after the
//     force push and created_at is GitHub's clock.
//   - commented: the issue comment with event "commented" and actor.
//
// The fake lists events in the order they happened, committed events at
// the push that added them; GitHub documents no order for commits, so
// code under test must not rely on where a committed event sits.
const docTimeline = "https://docs.github.com/rest/issues/timeline#list-timeline-events-for-an-issue"

// timelineEvent is one recorded push event of a pull request's timeline.
type timelineEvent struct {
	event  string // "committed" or "head_ref_force_pushed"
	id     int64  // force pushes only
	at     time.Time
	actor  *user       // force pushes only
	sha    string      // the commit (committed) or the new head (force push)
	commit *commitInfo // committed only
}

func timelineKey(owner, repo string, number int) string {
	return repoKey(owner, repo) + "#" + strconv.Itoa(number)
}

// TimelineEvent is a push event of a pull request's timeline, for tests.
type TimelineEvent struct {
	Event string // "committed" or "head_ref_force_pushed"
	SHA   string // the commit added, or the head after the force push
	// At is when the event was recorded (GitHub shows it only for force
	// pushes, as created_at).
	At time.Time
}

// Timeline returns the push events recorded for pull request number,
// oldest first.
func (s *Server) Timeline(owner, repo string, number int) []TimelineEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []TimelineEvent
	for _, e := range s.timeline[timelineKey(owner, repo, number)] {
		out = append(out, TimelineEvent{Event: e.event, SHA: e.sha, At: e.at})
	}
	return out
}

// recordPush adds the timeline events of a push that moved pull request
// number of base from oldHead ("" when it opens) to newHead. base holds
// every commit involved (refs/pull/<n>/head was fetched into it). A push
// whose old head is not an ancestor of the new one is a force push; the
// commits it adds are those reachable from the new head and neither from
// the old head nor from the base.
func (s *Server) recordPush(base *Repo, number int, baseSHA, oldHead, newHead, pusher string) {
	s.t.Helper()
	if oldHead == newHead {
		return
	}
	force := oldHead != "" && !base.isAncestor(oldHead, newHead)
	args := []string{"--reverse", newHead, "^" + baseSHA}
	if oldHead != "" {
		args = append(args, "^"+oldHead)
	}
	commits := base.logCommits(args...)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.timeline == nil {
		s.timeline = map[string][]*timelineEvent{}
	}
	key := timelineKey(base.Owner, base.Name, number)
	now := s.nowLocked()
	if force {
		u, err := s.ensureUserLocked(pusher)
		if err != nil {
			s.t.Fatalf("githubtest: force push: %v", err)
		}
		s.timeline[key] = append(s.timeline[key], &timelineEvent{
			event: "head_ref_force_pushed", id: s.newIDLocked(), at: now, actor: u, sha: newHead,
		})
	}
	for i := range commits {
		s.timeline[key] = append(s.timeline[key], &timelineEvent{event: "committed", at: now, sha: commits[i].sha, commit: &commits[i]})
	}
}

func (s *Server) listTimeline(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	if !requirePerm(w, rc, commentRead...) {
		return
	}
	n, err := strconv.Atoi(r.PathValue("issue_number"))
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil || s.pullLocked(rc.repo, n) == nil {
		writeError(w, http.StatusNotFound, "Not Found", docTimeline)
		return
	}
	type item struct {
		at   time.Time
		seq  int
		json map[string]any
	}
	var items []item
	for _, e := range s.timeline[timelineKey(rc.repo.Owner, rc.repo.Name, n)] {
		items = append(items, item{at: e.at, seq: len(items), json: s.timelineEventJSONLocked(rc.repo, e)})
	}
	for _, c := range s.commentsLocked(rc.repo.Owner, rc.repo.Name, n) {
		j := s.commentJSONLocked(c)
		j["event"], j["actor"] = "commented", j["user"]
		items = append(items, item{at: c.CreatedAt, seq: len(items), json: j})
	}
	sort.SliceStable(items, func(i, j int) bool {
		if !items[i].at.Equal(items[j].at) {
			return items[i].at.Before(items[j].at)
		}
		return items[i].seq < items[j].seq
	})
	lo, hi := page(w, r, s.URL, len(items))
	out := []any{}
	for _, it := range items[lo:hi] {
		out = append(out, it.json)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) timelineEventJSONLocked(repo *Repo, e *timelineEvent) map[string]any {
	if e.event == "committed" {
		c := e.commit
		parents := []any{}
		for _, p := range c.parents {
			parents = append(parents, map[string]any{
				"sha": p, "url": repo.APIURL() + "/git/commits/" + p, "html_url": repo.HTMLURL() + "/commit/" + p,
			})
		}
		return map[string]any{
			"sha":       c.sha,
			"node_id":   rawNodeID("06:Commit" + strconv.FormatInt(repo.ID, 10) + ":" + c.sha),
			"url":       repo.APIURL() + "/git/commits/" + c.sha,
			"html_url":  repo.HTMLURL() + "/commit/" + c.sha,
			"author":    map[string]any{"name": c.authorName, "email": c.authorEmail, "date": iso(c.authorDate)},
			"committer": map[string]any{"name": c.committerName, "email": c.committerMail, "date": iso(c.committerDate)},
			"tree":      map[string]any{"sha": c.tree, "url": repo.APIURL() + "/git/trees/" + c.tree},
			"message":   c.message,
			"parents":   parents,
			"verification": map[string]any{"verified": false, "reason": "unsigned", "signature": nil, "payload": nil,
				"verified_at": nil},
			"event": "committed",
		}
	}
	id := strconv.FormatInt(e.id, 10)
	return map[string]any{
		"id": e.id, "node_id": nodeID("018:HeadRefForcePushedEvent", e.id),
		"url":   repo.APIURL() + "/issues/events/" + id,
		"actor": s.userJSON(e.actor), "event": e.event,
		"commit_id": e.sha, "commit_url": repo.APIURL() + "/commits/" + e.sha,
		"created_at": iso(e.at), "performed_via_github_app": nil,
	}
}

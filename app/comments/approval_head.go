package comments

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/stagegate/stagegate/app/access"
	"github.com/stagegate/stagegate/app/ghevent"
)

// An approval (/ok-to-test, /deploy) is for the commit the approver saw:
// the pull request's head when the comment was written, or the commit
// the comment names. The head may have moved between the comment and its
// processing (GitHub delivers webhooks in no fixed order, and a fork can
// force-push back to a commit the approver never saw), so the head read
// when the command runs proves nothing by itself.
//
// What GitHub gives to tell when the head moved, and its limits:
//
//   - The timeline's head_ref_force_pushed events carry commit_id (the
//     head after the push) and created_at, GitHub's own clock. Every
//     move of the head that is not a fast-forward is one of them.
//   - The timeline's committed events carry only the commit: its author
//     and committer dates are whatever the pusher's git wrote, and there
//     is no time of the push. They cannot date a fast-forward push.
//   - Every push to the head makes GitHub send a pull_request delivery
//     whose pull_request.updated_at (GitHub's clock) is a moment when its
//     head.sha was the head. Ingest records these (store.PullHead).
//
// Between force pushes the head only moves forward, to descendants, and
// never returns to a commit it left. So the head at the comment's time T
// is the newest of: the commit of the last force push before T, and the
// heads recorded after that push and before T. If that is today's head
// and no force push came at or after T, the head has not moved since the
// approver looked. Anything else is refused: a force push at or after T,
// or a head that no delivery before T reported (one pushed after T, or
// whose delivery stagegate never received). GitHub's times have whole
// seconds, so an event in the comment's own second counts as after it.
//
// Naming the commit ("/ok-to-test abc1234") needs none of this, but a
// short prefix must name one commit only: seven hex digits are 28 bits,
// few enough for a pusher to make a commit that shares them with the one
// reviewed. A prefix that also matches another commit of the timeline is
// refused, asking for the full SHA.

// maxTimelinePages bounds the timeline read for one command (100 events a
// page); a longer one asks for the commit to be named.
const maxTimelinePages = 30

// approvedHead returns the pull request's head if the command, written
// at cc.commentedAt and naming named ("" for none), is for it; otherwise
// an access.Forbidden that names both commits.
func (a *Commands) approvedHead(ctx context.Context, cc commandContext, pr *github.PullRequest, named, command string) (string, error) {
	head := pr.GetHead().GetSHA()
	if named != "" {
		if !strings.HasPrefix(head, named) {
			return "", access.Forbidden{Why: fmt.Sprintf("@%s you named %s, but the head of this pull request is %s: review %s and comment %s again",
				cc.login, ghevent.ShortSHA(named), ghevent.ShortSHA(head), ghevent.ShortSHA(head), command)}
		}
		if len(named) == len(head) {
			return head, nil
		}
		seen, err := a.headAt(ctx, cc, cc.commentedAt)
		if err != nil {
			return "", err
		}
		if others := sharePrefix(seen.commits, head, named); seen.tooLong || len(others) > 0 {
			return "", access.Forbidden{Why: fmt.Sprintf("@%s %s may name more than one commit of this pull request (%s): name the one you reviewed in full, as in %s %s",
				cc.login, named, strings.Join(append([]string{ghevent.ShortSHA(head)}, others...), ", "), command, head)}
		}
		return head, nil
	}
	seen, err := a.headAt(ctx, cc, cc.commentedAt)
	if err != nil {
		return "", err
	}
	switch {
	case seen.tooLong:
		return "", access.Forbidden{Why: fmt.Sprintf("@%s this pull request's timeline is too long to tell which commit you saw: name it in full, as in %s %s",
			cc.login, command, head)}
	case seen.sha == head && !seen.forcedAfter:
		return head, nil
	case seen.sha == head:
		return "", access.Forbidden{Why: fmt.Sprintf("@%s the head of this pull request was force-pushed after your comment (it is %s again): review %s and comment %s again",
			cc.login, ghevent.ShortSHA(head), ghevent.ShortSHA(head), command)}
	case seen.sha == "":
		return "", access.Forbidden{Why: fmt.Sprintf("@%s the head of this pull request is %s, and nothing shows it was the head when you wrote your comment: review %s and comment %s again, naming the commit (%s %s)",
			cc.login, ghevent.ShortSHA(head), ghevent.ShortSHA(head), command, command, ghevent.ShortSHA(head))}
	}
	return "", access.Forbidden{Why: fmt.Sprintf("@%s you wrote your comment when the head of this pull request was %s; it is now %s, pushed after your comment. Review %s and comment %s again",
		cc.login, ghevent.ShortSHA(seen.sha), ghevent.ShortSHA(head), ghevent.ShortSHA(head), command)}
}

// seenHead is what the timeline and the recorded heads say of the head
// at one moment.
type seenHead struct {
	sha         string // "" when unknown
	forcedAfter bool   // a force push came at or after the moment
	tooLong     bool   // the timeline was not read to its end
	// commits are those the timeline shows, added or force-pushed to.
	commits map[string]bool
}

// sharePrefix lists, shortened, the commits other than head that start
// with prefix.
func sharePrefix(commits map[string]bool, head, prefix string) []string {
	var out []string
	for c := range commits {
		if c != head && strings.HasPrefix(c, prefix) {
			out = append(out, ghevent.ShortSHA(c))
		}
	}
	sort.Strings(out)
	return out
}

// headAt works out the pull request's head at t as the package comment
// above describes.
func (a *Commands) headAt(ctx context.Context, cc commandContext, t time.Time) (seenHead, error) {
	var (
		out    = seenHead{commits: map[string]bool{}}
		lastAt time.Time
	)
	opts := &github.ListOptions{PerPage: 100}
	for page := 0; ; page++ {
		if page == maxTimelinePages {
			return seenHead{tooLong: true, commits: out.commits}, nil
		}
		events, resp, err := cc.client.Issues.ListIssueTimeline(ctx, cc.repo.Owner, cc.repo.Name, cc.pr, opts)
		if err != nil {
			return seenHead{}, fmt.Errorf("timeline of #%d: %w", cc.pr, err)
		}
		for _, e := range events {
			if e.GetEvent() == "committed" && e.GetSHA() != "" {
				out.commits[e.GetSHA()] = true
			}
			if e.GetEvent() != "head_ref_force_pushed" || e.CreatedAt == nil || e.GetCommitID() == "" {
				continue
			}
			out.commits[e.GetCommitID()] = true
			at := e.GetCreatedAt().Time
			switch {
			case !at.Before(t):
				out.forcedAfter = true
			case !at.Before(lastAt): // the later of two in one second is later in the list
				out.sha, lastAt = e.GetCommitID(), at
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	heads, err := a.db.PullHeads(ctx, cc.repo.FullName(), cc.pr)
	if err != nil {
		return seenHead{}, err
	}
	for _, h := range heads {
		switch {
		case !h.At.Before(t):
		case h.At.After(lastAt):
			out.sha, lastAt = h.SHA, h.At
		case h.At.Equal(lastAt) && h.SHA != out.sha:
			out.sha = "" // two heads in one second: which was first is unknown
		}
	}
	return out, nil
}

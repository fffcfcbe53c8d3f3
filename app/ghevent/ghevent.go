// Package ghevent reads what a GitHub webhook payload says as stagegate
// sees it: the repository it names and the pipeline event it makes.
package ghevent

import (
	"strings"

	"github.com/google/go-github/v60/github"

	"github.com/stagegate/stagegate/app/store"
	"github.com/stagegate/stagegate/pipeline"
)

// maxPushCommits is how many commits GitHub lists in a push payload
// (2,048: https://docs.github.com/webhooks/webhook-events-and-payloads#push;
// the 20 of older documentation is the limit of timeline events). A push
// that lists that many may have more, and needs the compare API for its
// changed files.
const maxPushCommits = 2048

// RepoRef identifies a repository and the installation serving it.
type RepoRef struct {
	Installation  int64
	Owner, Name   string
	DefaultBranch string
	CloneURL      string
}

// FullName is owner/name.
func (r RepoRef) FullName() string { return r.Owner + "/" + r.Name }

// RepoFrom is the repository of a payload, served by inst.
func RepoFrom(inst *github.Installation, repo *github.Repository) RepoRef {
	r := RepoRef{
		Owner:         repo.GetOwner().GetLogin(),
		Name:          repo.GetName(),
		DefaultBranch: repo.GetDefaultBranch(),
		CloneURL:      repo.GetCloneURL(),
	}
	if r.Owner == "" {
		// Push payloads name the owner in owner.name as well.
		r.Owner = repo.GetOwner().GetName()
	}
	if inst != nil {
		r.Installation = inst.GetID()
	}
	return r
}

// CompareRange is the base...head to ask the compare API for changed
// files, when the payload does not list them.
type CompareRange struct {
	Base, Head string
}

// PushEvent turns a push payload into the event the pipeline sees. skip
// is non-empty when the push starts nothing (a deletion). When the
// payload's file lists cannot be trusted, need says which range to
// compare; ChangedFiles is then nil (unknown) until it is filled in.
func PushEvent(e *github.PushEvent) (ev pipeline.Event, need *CompareRange, skip string) {
	ref := e.GetRef()
	ev = pipeline.Event{Kind: pipeline.EventPush, SHA: e.GetAfter(), Actor: e.GetSender().GetLogin()}
	switch {
	case strings.HasPrefix(ref, "refs/heads/"):
		ev.Branch = strings.TrimPrefix(ref, "refs/heads/")
	case strings.HasPrefix(ref, "refs/tags/"):
		ev.Tag = strings.TrimPrefix(ref, "refs/tags/")
	default:
		return ev, nil, "push to " + ref + " is neither a branch nor a tag"
	}
	if e.GetDeleted() {
		return ev, nil, "push deleted " + ref
	}
	if ev.Tag != "" {
		// For an annotated or signed tag "after" is the tag object, which
		// no API takes for a commit; head_commit is the commit it points
		// at (https://docs.github.com/webhooks/webhook-events-and-payloads#push).
		// A tag of a tree or a blob has none, and nothing to build.
		ev.SHA = e.GetHeadCommit().GetID()
		if ev.SHA == "" {
			return ev, nil, "tag " + ev.Tag + " points at no commit"
		}
		// Path filters do not apply to tags, so their files do not matter.
		return ev, nil, ""
	}
	switch {
	case e.GetCreated():
		// A new ref's commits are listed against nothing; what changed is
		// what differs from the default branch.
		base := e.GetRepo().GetDefaultBranch()
		if base == "" || base == ev.Branch {
			return ev, nil, ""
		}
		return ev, &CompareRange{Base: base, Head: ev.SHA}, ""
	case e.GetForced() || len(e.Commits) >= maxPushCommits:
		return ev, &CompareRange{Base: e.GetBefore(), Head: ev.SHA}, ""
	}
	ev.ChangedFiles = changedInCommits(e.Commits)
	return ev, nil, ""
}

func changedInCommits(commits []*github.HeadCommit) []string {
	seen := map[string]bool{}
	files := []string{}
	for _, c := range commits {
		for _, list := range [][]string{c.Added, c.Modified, c.Removed} {
			for _, f := range list {
				if !seen[f] {
					seen[f] = true
					files = append(files, f)
				}
			}
		}
	}
	return files
}

// PullRequestEvent turns a pull request payload into the event the
// pipeline sees. Its changed files always come from the compare API.
func PullRequestEvent(e *github.PullRequestEvent) (ev pipeline.Event, need *CompareRange, fork bool) {
	return PullRequestEventOf(e.GetPullRequest(), e.GetSender().GetLogin())
}

// PullRequestEventOf is the event of a pull request's head commit, as
// when a command on it starts a run.
func PullRequestEventOf(pr *github.PullRequest, actor string) (ev pipeline.Event, need *CompareRange, fork bool) {
	ev = pipeline.Event{
		Kind:       pipeline.EventPullRequest,
		Branch:     pr.GetHead().GetRef(),
		BaseBranch: pr.GetBase().GetRef(),
		SHA:        pr.GetHead().GetSHA(),
		PR:         pr.GetNumber(),
		Actor:      actor,
	}
	fork = pr.GetHead().GetRepo().GetFullName() != pr.GetBase().GetRepo().GetFullName()
	return ev, &CompareRange{Base: pr.GetBase().GetSHA(), Head: ev.SHA}, fork
}

// NeedsChangedFiles reports whether deciding the plan reads the changed
// files at all, so that the compare call is made only when it matters.
func NeedsChangedFiles(p *pipeline.Pipeline, kind pipeline.EventKind) bool {
	if p.On != nil {
		if kind == pipeline.EventPush && p.On.Push != nil && len(p.On.Push.Paths) > 0 {
			return true
		}
		if kind == pipeline.EventPullRequest && p.On.PullRequest != nil && len(p.On.PullRequest.Paths) > 0 {
			return true
		}
	}
	for _, s := range p.Stages {
		if strings.Contains(s.If, "changed") {
			return true
		}
	}
	return false
}

// FromRun rebuilds the event a stored run was started for.
func FromRun(run store.Run) pipeline.Event {
	return pipeline.Event{
		Kind: pipeline.EventKind(run.Event), Branch: run.Branch, Tag: run.Tag, BaseBranch: run.BaseBranch,
		SHA: run.SHA, PR: run.PR, Actor: run.Actor, ChangedFiles: run.ChangedFiles,
	}
}

// ShortSHA is a commit's SHA as messages show it, in seven characters.
func ShortSHA(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

// SplitRepo splits a repository's full name, "owner/name".
func SplitRepo(full string) (owner, name string) {
	owner, name, _ = strings.Cut(full, "/")
	return owner, name
}

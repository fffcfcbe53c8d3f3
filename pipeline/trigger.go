package pipeline

import (
	"fmt"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// Describe names the event for people: "branch main", "tag v1.2.0" or
// "pull request #12 (feature/x → main)". It reads after "on", as in
// "skipped: if `...` was false on branch main".
func (e Event) Describe() string {
	switch e.Kind {
	case EventPush:
		switch {
		case e.Tag != "":
			return "tag " + e.Tag
		case e.Branch != "":
			return "branch " + e.Branch
		default:
			return "push"
		}
	case EventPullRequest:
		s := "pull request"
		if e.PR > 0 {
			s += fmt.Sprintf(" #%d", e.PR)
		}
		return s + " (" + branchOrUnknown(e.Branch) + " → " + branchOrUnknown(e.BaseBranch) + ")"
	default:
		return fmt.Sprintf("%q event", e.Kind)
	}
}

// subject is how a trigger reason starts: the event as the subject of
// "matches" or "does not match".
func (e Event) subject() string {
	switch {
	case e.Kind == EventPush && e.Tag != "":
		return "push of tag " + e.Tag
	case e.Kind == EventPush && e.Branch != "":
		return "push to branch " + e.Branch
	case e.Kind == EventPush:
		return "push without a branch or tag"
	default:
		return e.Describe()
	}
}

func branchOrUnknown(s string) string {
	if s == "" {
		return "?"
	}
	return s
}

// triggerRun decides whether ev starts a run of a pipeline with the given
// triggers. The reason has no "no run:" prefix, so that callers can also
// use it in each stage's reason.
func triggerRun(on *Triggers, ev Event) (bool, string) {
	if ev.Kind != EventPush && ev.Kind != EventPullRequest {
		return false, fmt.Sprintf("%q events do not trigger pipelines", ev.Kind)
	}
	if on == nil {
		return true, ev.subject() + ": the pipeline has no on section, so every push and pull request starts a run"
	}
	if ev.Kind == EventPush {
		return triggerPush(on.Push, ev)
	}
	return triggerPullRequest(on.PullRequest, ev)
}

func triggerPush(t *PushTrigger, ev Event) (bool, string) {
	if t == nil {
		return false, "pushes do not trigger this pipeline (no on.push)"
	}
	branches := globFilter{"on.push.branches", t.Branches}
	tags := globFilter{"on.push.tags", t.Tags}
	isTag := ev.Tag != ""
	filter, ref, kind := branches, ev.Branch, "branch"
	if isTag {
		filter, ref, kind = tags, ev.Tag, "tag"
	}

	var why string
	switch {
	case !branches.set() && !tags.set():
		why = ev.subject() + " matches on.push (no branches or tags filter)"
	case !filter.set():
		// As in GitHub Actions: listing only one kind of ref opts the
		// other kind out entirely.
		other := branches
		if !isTag {
			other = tags
		}
		return false, fmt.Sprintf("%s: %s is set but %s is not, so %s pushes do not trigger this pipeline",
			ev.subject(), other.name, filter.name, kind)
	default:
		ok, err := filter.match(ref)
		if err != nil {
			return false, err.Error()
		}
		if !ok {
			return false, ev.subject() + " does not match " + filter.String()
		}
		why = ev.subject() + " matches " + filter.String()
	}

	paths := globFilter{"on.push.paths", t.Paths}
	if isTag {
		// A tag points at a commit that was usually pushed, and built,
		// before; there is no meaningful change set to filter on. GitHub
		// Actions ignores paths for tag pushes too.
		if paths.set() {
			why += "; " + paths.name + " does not apply to tag pushes"
		}
		return true, why
	}
	return triggerPaths(why, paths, ev.ChangedFiles)
}

func triggerPullRequest(t *PullRequestTrigger, ev Event) (bool, string) {
	if t == nil {
		return false, "pull requests do not trigger this pipeline (no on.pull_request)"
	}
	var why string
	branches := globFilter{"on.pull_request.branches", t.Branches}
	if !branches.set() {
		why = ev.subject() + " matches on.pull_request (no branches filter)"
	} else {
		ok, err := branches.match(ev.BaseBranch)
		if err != nil {
			return false, err.Error()
		}
		if !ok {
			return false, fmt.Sprintf("%s: base branch %s does not match %s", ev.subject(), branchOrUnknown(ev.BaseBranch), branches)
		}
		why = fmt.Sprintf("%s: base branch %s matches %s", ev.subject(), branchOrUnknown(ev.BaseBranch), branches)
	}
	return triggerPaths(why, globFilter{"on.pull_request.paths", t.Paths}, ev.ChangedFiles)
}

// triggerPaths applies a paths filter after the ref filters passed with
// reason why.
func triggerPaths(why string, paths globFilter, files []string) (bool, string) {
	if !paths.set() {
		return true, why
	}
	if files == nil {
		// Refusing to run when the change set could not be listed would
		// silently drop runs; running too often is the safer mistake.
		return true, why + "; changed files are unknown, so " + paths.String() + " was not applied"
	}
	if len(files) == 0 {
		return false, "no file changed, so nothing matches " + paths.String()
	}
	for _, f := range files {
		ok, err := paths.match(f)
		if err != nil {
			return false, err.Error()
		}
		if ok {
			return true, why + "; changed file " + f + " matches " + paths.String()
		}
	}
	return false, "no changed file matches " + paths.String()
}

// globFilter is one glob list of the on section, named as the user wrote
// it so that reasons can point at it.
type globFilter struct {
	name  string
	globs []string
}

// set reports whether the list filters at all. An empty list counts as
// unset: YAML decoders disagree on nil versus empty, and an on section
// should not change meaning with the decoder.
func (f globFilter) set() bool { return len(f.globs) > 0 }

// match reports whether s passes the filter, by MatchGlobs' rules.
func (f globFilter) match(s string) (bool, error) {
	for _, g := range f.globs {
		// MatchGlobs treats a bad glob as not matching; the parser rejects
		// them, but a Pipeline built in code may hold one, and a reason
		// saying "does not match" would then mislead.
		if !doublestar.ValidatePattern(strings.TrimPrefix(g, "!")) {
			return false, fmt.Errorf("%s has an invalid glob %q", f.name, g)
		}
	}
	return MatchGlobs(f.globs, s), nil
}

// String is the filter as reasons show it: on.push.branches [main, release/**].
func (f globFilter) String() string {
	return f.name + " [" + strings.Join(f.globs, ", ") + "]"
}

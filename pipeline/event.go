package pipeline

// EventKind is the kind of event that may start a run.
type EventKind string

// Event kinds.
const (
	EventPush        EventKind = "push"
	EventPullRequest EventKind = "pull_request"
)

// Event describes what happened, as the trigger rules and `if:`
// conditions see it. It is filled from a webhook by the app and from flags
// by the CLI.
type Event struct {
	Kind EventKind
	// Branch is the pushed branch, or a pull request's head branch.
	Branch string
	// Tag is the pushed tag; a tag push has no Branch.
	Tag string
	// BaseBranch is a pull request's base branch.
	BaseBranch string
	SHA        string
	// PR is the pull request's number, 0 for a push.
	PR    int
	Actor string
	// ChangedFiles lists the changed paths. Nil means unknown, and path
	// filters are then not applied; an empty non-nil list means nothing
	// changed.
	ChangedFiles []string
}

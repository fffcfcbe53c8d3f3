// Package handlers acts on each stored delivery by its event, one file
// per event: a push or a pull request may start a run, a check or status
// wakes the deploy gates of its commit, a check's button re-runs or
// deploys, an installation is recorded. Comments go to app/comments and
// deployment protection rules to app/deploys; runs are started through
// Runs, which the App implements.
package handlers

import (
	"context"

	"github.com/google/go-github/v60/github"

	"github.com/stagegate/stagegate/app/ghevent"
	"github.com/stagegate/stagegate/app/outcome"
	"github.com/stagegate/stagegate/app/store"
	"github.com/stagegate/stagegate/pipeline"
)

// RunRequest is an event that may start a run.
type RunRequest struct {
	Repo  ghevent.RepoRef
	Event pipeline.Event
	// Compare, when not nil, is where to find the changed files the
	// payload did not list.
	Compare  *ghevent.CompareRange
	Fork     bool
	Delivery string
	// Again is a re-run of an earlier run's event; RerunOf and RerunFrom,
	// when set, name the run and the stage it resumes from.
	Again              bool
	RerunOf, RerunFrom string
}

// Runs starts, finds and cancels runs.
type Runs interface {
	Start(ctx context.Context, req RunRequest) (string, error)
	// ChecksOwner is the run whose checks a commit shows
	// (store.ErrNotFound when there is none).
	ChecksOwner(ctx context.Context, repo, sha string) (store.Run, error)
	// TrustedRunOf reports whether a run of the commit other than a
	// fork's exists.
	TrustedRunOf(ctx context.Context, repo, sha string) (bool, error)
	// Cancel cancels a run, saying why.
	Cancel(ctx context.Context, run store.Run, why string)
}

// Deploys approves deploys and answers deployment protection rules.
type Deploys interface {
	ApproveDeploy(ctx context.Context, client *github.Client, run store.Run, st *pipeline.Stage, login, delivery string) (string, error)
	ProtectionRule(ctx context.Context, d store.Delivery, e *github.DeploymentProtectionRuleEvent) (string, error)
	ReviewPendingProtection(ctx context.Context, repo, sha string)
}

// Comments answers the commands of pull request comments.
type Comments interface {
	IssueComment(ctx context.Context, d store.Delivery, e *github.IssueCommentEvent) (string, error)
}

// Store is what the handlers read and write in the database.
type Store interface {
	GetRun(ctx context.Context, id string) (store.Run, error)
	RunsForPR(ctx context.Context, repo string, pr int) ([]store.Run, error)
	GetApproval(ctx context.Context, repo, sha, kind, scope string) (store.Approval, error)
	InstallationActive(ctx context.Context, id int64) (bool, error)
	UpsertInstallation(ctx context.Context, inst store.Installation) error
	AddInstallationRepos(ctx context.Context, id int64, repos []string) error
	RemoveInstallationRepos(ctx context.Context, id int64, repos []string) error
}

// Clients gives an installation's GitHub client.
type Clients interface {
	Installation(ctx context.Context, id int64) (*github.Client, error)
}

// Waker wakes the deploy gates waiting on a commit, on every replica.
type Waker interface {
	Wake(ctx context.Context, repo, sha string)
}

// Config is what of the App's configuration the handlers use.
type Config struct {
	// AppID is the App's own id: only its checks' buttons and re-runs
	// are its to answer.
	AppID int64
}

// Handlers acts on deliveries.
type Handlers struct {
	cfg      Config
	db       Store
	gh       Clients
	waiters  Waker
	runs     Runs
	deploys  Deploys
	comments Comments

	// Seen, when set, is told of every parsed event before it is
	// handled: the run pages keep each repository's visibility from it.
	Seen func(ctx context.Context, d store.Delivery, event any)
}

// New returns the handlers acting through the store, clients, gates'
// waiters, runs, deploys and comment commands given.
func New(cfg Config, db Store, gh Clients, waiters Waker, runs Runs, deploys Deploys, comments Comments) *Handlers {
	return &Handlers{cfg: cfg, db: db, gh: gh, waiters: waiters, runs: runs, deploys: deploys, comments: comments}
}

// Process parses the delivery and hands it to the handler of its event.
func (a *Handlers) Process(ctx context.Context, d store.Delivery) (string, error) {
	event, err := github.ParseWebHook(d.Event, d.Payload)
	if err != nil {
		return "", outcome.Ignore("unparseable %s payload: %v", d.Event, err)
	}
	if a.Seen != nil {
		a.Seen(ctx, d, event)
	}
	if inst := installationOf(event); inst != 0 {
		if active, err := a.db.InstallationActive(ctx, inst); err == nil && !active {
			return "", outcome.Ignore("installation %d is suspended or deleted", inst)
		}
	}
	switch e := event.(type) {
	case *github.PushEvent:
		return a.handlePush(ctx, d, e)
	case *github.PullRequestEvent:
		return a.handlePullRequest(ctx, d, e)
	case *github.CheckRunEvent:
		return a.handleCheckRun(ctx, d, e)
	case *github.CheckSuiteEvent:
		return a.handleCheckSuite(ctx, d, e)
	case *github.IssueCommentEvent:
		return a.comments.IssueComment(ctx, d, e)
	case *github.StatusEvent:
		return a.handleStatus(ctx, e)
	case *github.InstallationEvent:
		return a.handleInstallation(ctx, e)
	case *github.InstallationRepositoriesEvent:
		return a.handleInstallationRepositories(ctx, e)
	case *github.DeploymentProtectionRuleEvent:
		return a.deploys.ProtectionRule(ctx, d, e)
	case *github.RepositoryEvent:
		// Seen above kept what the pages need.
		return "repository's visibility recorded", nil
	}
	return "", outcome.Ignore("no handler for %s", d.Event)
}

// installationOf is the installation an event came through, when the
// event is not about the installation itself.
func installationOf(event any) int64 {
	switch e := event.(type) {
	case *github.PushEvent:
		return e.GetInstallation().GetID()
	case *github.PullRequestEvent:
		return e.GetInstallation().GetID()
	case *github.CheckRunEvent:
		return e.GetInstallation().GetID()
	case *github.CheckSuiteEvent:
		return e.GetInstallation().GetID()
	case *github.IssueCommentEvent:
		return e.GetInstallation().GetID()
	case *github.StatusEvent:
		return e.GetInstallation().GetID()
	case *github.DeploymentProtectionRuleEvent:
		return e.GetInstallation().GetID()
	}
	return 0
}

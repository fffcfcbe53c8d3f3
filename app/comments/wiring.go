// Package comments answers the commands of pull request comments
// (/deploy, /retry, /cancel, /ok-to-test, /help), parsed by app/commands:
// who may give them, which commit they are for, and the reply.
package comments

import (
	"context"

	"github.com/google/go-github/v60/github"
	"github.com/rs/zerolog"

	"github.com/stagegate/stagegate/app/ghevent"
	"github.com/stagegate/stagegate/app/store"
	"github.com/stagegate/stagegate/pipeline"
)

// Store is what the commands read and write in the database.
type Store interface {
	LatestRunForSHA(ctx context.Context, repo, sha string) (store.Run, error)
	RunsForPR(ctx context.Context, repo string, pr int) ([]store.Run, error)
	StagesForRun(ctx context.Context, runID string) ([]store.Stage, error)
	Approve(ctx context.Context, a store.Approval) error
	PullHeads(ctx context.Context, repo string, pr int) ([]store.PullHead, error)
}

// Clients gives an installation's GitHub client.
type Clients interface {
	Installation(ctx context.Context, id int64) (*github.Client, error)
}

// Runs starts, re-runs, finds and cancels runs.
type Runs interface {
	// ChecksOwner is the run whose checks a commit shows
	// (store.ErrNotFound when there is none).
	ChecksOwner(ctx context.Context, repo, sha string) (store.Run, error)
	// Rerun runs a finished run again from stage from, as login.
	Rerun(ctx context.Context, run store.Run, from, login, delivery string) (string, error)
	// Start starts a run of a pull request's event; compare, when not
	// nil, is where its changed files are read.
	Start(ctx context.Context, repo ghevent.RepoRef, ev pipeline.Event, compare *ghevent.CompareRange, fork bool, delivery string) (string, error)
	// Cancel cancels a run, saying why.
	Cancel(ctx context.Context, run store.Run, why string)
}

// Deployer approves a deploy stage.
type Deployer interface {
	ApproveDeploy(ctx context.Context, client *github.Client, run store.Run, st *pipeline.Stage, login, delivery string) (string, error)
}

// Commands answers comment commands.
type Commands struct {
	db      Store
	gh      Clients
	runs    Runs
	deploys Deployer
}

// New returns the commands acting through db, gh, runs and deploys.
func New(db Store, gh Clients, runs Runs, deploys Deployer) *Commands {
	return &Commands{db: db, gh: gh, runs: runs, deploys: deploys}
}

func logger(ctx context.Context) *zerolog.Logger { return zerolog.Ctx(ctx) }

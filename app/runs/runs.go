// Package runs starts the App's runs and decides which of them go on:
// a run recorded with its job from an event (startrun.go), one run per
// commit for a push and its pull request (onerun.go), the concurrency
// modes and cancels (modes.go), the results a re-run reuses (rerun.go),
// where a run's source is fetched from (cloneurl.go), its checks' API
// budget (budget.go) and an older version's data dir moved (legacydirs.go).
//
// It is given the store, the queue, the GitHub clients and what executes
// runs through the narrow interfaces below, never the App.
package runs

import (
	"context"
	"database/sql"
	"time"

	"github.com/google/go-github/v60/github"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/rs/zerolog"

	"github.com/stagegate/stagegate/app/outcome"
	"github.com/stagegate/stagegate/app/rundirs"
	"github.com/stagegate/stagegate/app/store"
	"github.com/stagegate/stagegate/pipeline/engine"
)

// Store is what runs keep and read in the database.
type Store interface {
	GetRun(ctx context.Context, id string) (store.Run, error)
	RunsForSHA(ctx context.Context, repo, sha string) ([]store.Run, error)
	ActiveRunsForKey(ctx context.Context, repo, key string) ([]store.Run, error)
	GetDelivery(ctx context.Context, guid string) (store.Delivery, error)
	MarkSuperseded(ctx context.Context, runID, byRunID string) error
	FinishRun(ctx context.Context, id, conclusion, reason string) error
	CloneURL(ctx context.Context, runID string) (string, error)
	StagesForRun(ctx context.Context, runID string) ([]store.Stage, error)
	// WithTx and InTx write a run, its stages and its job at once.
	WithTx(ctx context.Context, fn func(*sql.Tx) error) error
	InTx(tx *sql.Tx) *store.DB
}

// Queue takes the jobs of runs.
type Queue interface {
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	InsertTx(ctx context.Context, tx *sql.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// Clients gives an installation's GitHub client and its API budget.
type Clients interface {
	Installation(ctx context.Context, id int64) (*github.Client, error)
	ProgressInterval(ctx context.Context, installation int64, base time.Duration) time.Duration
}

// Deploys tells a repository without a pipeline whose organisation
// default cannot be read.
type Deploys interface {
	OrgDefaultUnreadable(ctx context.Context, installation int64, loadErr error) (bool, error)
}

// Executing stops a run that executes, here or on another replica, with
// cause, and reports whether it executes (its executor then concludes it).
type Executing interface {
	Stop(ctx context.Context, run store.Run, cause error) bool
}

// ArtifactStoreOf is the artifact store of a run's kind of code.
type ArtifactStoreOf func(run store.Run) (engine.ArtifactStore, error)

// Config is what of the App's configuration runs use.
type Config struct {
	// DataDir holds each run's directories (app/rundirs).
	DataDir string
	// ProgressEvery is the least time between a check's progress
	// updates (checks.DefaultThrottle when zero).
	ProgressEvery time.Duration
}

// Runs starts, cancels and re-runs the App's runs.
type Runs struct {
	cfg           Config
	db            Store
	gh            Clients
	queue         Queue
	deploys       Deploys
	executing     Executing
	artifactStore ArtifactStoreOf
}

// New returns the runs over the App's store, queue and clients.
func New(cfg Config, db Store, gh Clients, q Queue, deploys Deploys, executing Executing, artifacts ArtifactStoreOf) *Runs {
	return &Runs{cfg: cfg, db: db, gh: gh, queue: q, deploys: deploys, executing: executing, artifactStore: artifacts}
}

// dirs are the run's directories.
func (a *Runs) dirs(run store.Run) rundirs.Dirs { return rundirs.Of(a.cfg.DataDir, run.ID, run.Fork) }

func logger(ctx context.Context) *zerolog.Logger { return zerolog.Ctx(ctx) }

func ignored(format string, args ...any) error { return outcome.Ignore(format, args...) }

// Package queue runs stagegate's background jobs with River, on the
// store's database: a job inserted in the same transaction as the rows it
// acts on exists exactly when they do.
//
// The package knows no job types. The app declares its job args, sets
// their queue with InsertOpts, and registers workers with
// river.AddWorker on the *river.Workers it passes to New.
package queue

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"
	"github.com/rs/zerolog"

	"github.com/stagegate/stagegate/app/store"
)

// Queue names. A job args type picks its queue with
//
//	func (FooArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: queue.Runs} }
const (
	// Deliveries turns stored webhooks into runs: short jobs, many at once.
	Deliveries = "deliveries"
	// Runs executes pipelines: long jobs, as many at once as the machine
	// takes (Config.MaxRuns).
	Runs = "runs"
	// Default is River's queue for jobs that name none.
	Default = river.QueueDefault
)

// Config tunes the queue. The zero value works.
type Config struct {
	// MaxDeliveries is how many Deliveries jobs run at once; default 8.
	MaxDeliveries int
	// MaxRuns is how many pipelines run at once; default 2.
	MaxRuns int
	// MaxDefault is how many jobs of the Default queue run at once;
	// default 4.
	MaxDefault int
	// Queues adds queues, by name, with how many of their jobs run at once.
	Queues map[string]int

	// ID names this client in the jobs it works (River's attempted_by):
	// the replica's name, so that another replica can give back the jobs
	// of one that died. River makes one up when empty.
	ID string

	// Logger receives River's logs; the zero Logger discards them.
	Logger zerolog.Logger

	// JobTimeout cancels a job's context after this long; default 5
	// minutes. A worker whose jobs take longer (a pipeline run) overrides
	// Timeout, and RescueStuckJobsAfter must exceed the longest.
	JobTimeout time.Duration
	// RescueStuckJobsAfter is when a job still marked running is taken to
	// be orphaned (its process died) and retried; default 1 hour, or
	// JobTimeout plus an hour when that is more.
	RescueStuckJobsAfter time.Duration
	// FetchCooldown is the least time between two fetches of one queue;
	// default 20ms. River's 100ms default would hold a busy queue to ten
	// fetches a second.
	FetchCooldown time.Duration
	// FetchPollInterval is how often each queue looks for new jobs;
	// default 50ms.
	FetchPollInterval time.Duration
	// CancelGrace is how long Stop waits for jobs to return once their
	// contexts are cancelled; default 10 seconds.
	CancelGrace time.Duration

	// TestOnly starts River's maintenance services at once instead of
	// staggered, for tests.
	TestOnly bool
}

// Queue is River on the store's database.
type Queue struct {
	client      *river.Client[*sql.Tx]
	queues      []string
	cancelGrace time.Duration
}

// New makes the queue. With nil workers it can only insert jobs; Start
// needs workers.
func New(db *store.DB, workers *river.Workers, cfg Config) (*Queue, error) {
	queues := map[string]int{
		Deliveries: cmp.Or(cfg.MaxDeliveries, 8),
		Runs:       cmp.Or(cfg.MaxRuns, 2),
		Default:    cmp.Or(cfg.MaxDefault, 4),
	}
	maps.Copy(queues, cfg.Queues)
	jobTimeout := cmp.Or(cfg.JobTimeout, 5*time.Minute)
	rc := &river.Config{
		Logger:               slog.New(zerolog.NewSlogHandler(cfg.Logger.With().Str("component", "river").Logger())),
		JobTimeout:           jobTimeout,
		RescueStuckJobsAfter: cmp.Or(cfg.RescueStuckJobsAfter, max(time.Hour, jobTimeout+time.Hour)),
		FetchCooldown:        cmp.Or(cfg.FetchCooldown, 20*time.Millisecond),
		// SQLite has no LISTEN/NOTIFY, and a job inserted in a
		// transaction does not wake the local fetcher: the poll interval
		// is the latency from a webhook to its processing. A local
		// SQLite poll costs microseconds. On Postgres an insert notifies
		// every replica's listener, and the poll is the fallback River
		// keeps for notifications it rate-limits.
		FetchPollInterval: cmp.Or(cfg.FetchPollInterval, 50*time.Millisecond),
		TestOnly:          cfg.TestOnly,
		ID:                cfg.ID,
	}
	if workers != nil {
		rc.Workers = workers
		rc.Queues = make(map[string]river.QueueConfig, len(queues))
		for name, n := range queues {
			if n < 1 {
				return nil, fmt.Errorf("queue: queue %s: %d workers, want at least 1", name, n)
			}
			rc.Queues[name] = river.QueueConfig{MaxWorkers: n}
		}
	}
	client, err := river.NewClient(driver(db), rc)
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	return &Queue{
		client:      client,
		queues:      slices.Sorted(maps.Keys(queues)),
		cancelGrace: cmp.Or(cfg.CancelGrace, 10*time.Second),
	}, nil
}

// driver is River's driver for db. Both are on database/sql, so that a
// job is inserted in the *sql.Tx of the store's own writes (WithTx). On
// Postgres, River listens for insert notifications through its pgx
// driver on a connection of the store's pgx pool.
func driver(db *store.DB) riverdriver.Driver[*sql.Tx] {
	if pool := db.Pgx(); pool != nil {
		return riverdatabasesql.NewWithPgxListener(db.SQL(), pool)
	}
	return riversqlite.New(db.SQL())
}

// Start starts working jobs in the background. ctx is used for its
// values only: its end does not stop the queue, Stop does, so that a
// signal context reaching its end cannot skip the graceful stop.
func (q *Queue) Start(ctx context.Context) error {
	if err := q.client.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("queue: start: %w", err)
	}
	return nil
}

// Stop stops fetching jobs and waits for the running ones to finish. If
// ctx ends first, it cancels their contexts and waits up to CancelGrace
// for them to return; the error then wraps ctx's. Jobs cut short are
// retried by the next start, so workers must be safe to run again.
func (q *Queue) Stop(ctx context.Context) error {
	err := q.client.Stop(ctx)
	if err == nil || ctx.Err() == nil {
		if err != nil {
			return fmt.Errorf("queue: stop: %w", err)
		}
		return nil
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), q.cancelGrace)
	defer cancel()
	if cerr := q.client.StopAndCancel(cctx); cerr != nil {
		return fmt.Errorf("queue: stop: jobs still running %s after cancelling them: %w", q.cancelGrace, errors.Join(err, cerr))
	}
	return fmt.Errorf("queue: stop: cancelled the jobs still running: %w", err)
}

// Insert queues a job in a transaction of its own.
func (q *Queue) Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	res, err := q.client.Insert(ctx, args, opts)
	if err != nil {
		return nil, fmt.Errorf("queue: insert %s: %w", args.Kind(), err)
	}
	return res, nil
}

// InsertTx queues a job in tx (see store.DB.WithTx): it runs only if tx
// commits, and not before.
func (q *Queue) InsertTx(ctx context.Context, tx *sql.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	res, err := q.client.InsertTx(ctx, tx, args, opts)
	if err != nil {
		return nil, fmt.Errorf("queue: insert %s: %w", args.Kind(), err)
	}
	return res, nil
}

// Depth returns, for every configured queue, how many jobs are waiting
// (available) or running: the queue-depth gauge. Scheduled and retrying
// jobs are not counted until they are due.
func (q *Queue) Depth(ctx context.Context) (map[string]int, error) {
	counts, err := q.client.Driver().GetExecutor().JobCountByQueueAndState(ctx,
		&riverdriver.JobCountByQueueAndStateParams{QueueNames: q.queues})
	if err != nil {
		return nil, fmt.Errorf("queue: depth: %w", err)
	}
	out := make(map[string]int, len(q.queues))
	for _, name := range q.queues {
		out[name] = 0
	}
	for _, c := range counts {
		out[c.Queue] = int(c.CountAvailable + c.CountRunning)
	}
	return out, nil
}

// Queues lists the configured queue names, sorted.
func (q *Queue) Queues() []string { return slices.Clone(q.queues) }

// Client is the River client, for what this package does not wrap
// (cancelling a job, subscribing to events).
func (q *Queue) Client() *river.Client[*sql.Tx] { return q.client }

// InsertManyTx inserts several jobs on tx in one statement batch.
func (q *Queue) InsertManyTx(ctx context.Context, tx *sql.Tx, args []river.JobArgs) error {
	if len(args) == 0 {
		return nil
	}
	params := make([]river.InsertManyParams, len(args))
	for i, a := range args {
		params[i] = river.InsertManyParams{Args: a}
	}
	if _, err := q.client.InsertManyTx(ctx, tx, params); err != nil {
		return fmt.Errorf("queue: insert %d jobs: %w", len(args), err)
	}
	return nil
}

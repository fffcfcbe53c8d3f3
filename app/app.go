// Package app is stagegate's GitHub App: it receives webhooks, turns them
// into durable runs, executes the runs and reports them as check runs.
//
// The request path only verifies, stores and queues (app/webhook); River
// workers do the rest: deliveries become runs (process.go hands each to
// app/handlers, which start them through app/runs), and runs execute
// (runworker.go). The root only wires the packages that own each part.
package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/riverqueue/river"
	"github.com/rs/zerolog"

	"github.com/stagegate/stagegate/app/cloud"
	"github.com/stagegate/stagegate/app/comments"
	"github.com/stagegate/stagegate/app/deploys"
	"github.com/stagegate/stagegate/app/gatewait"
	"github.com/stagegate/stagegate/app/ghclient"
	"github.com/stagegate/stagegate/app/handlers"
	"github.com/stagegate/stagegate/app/queue"
	"github.com/stagegate/stagegate/app/replica"
	"github.com/stagegate/stagegate/app/rundirs"
	"github.com/stagegate/stagegate/app/runlog"
	"github.com/stagegate/stagegate/app/running"
	"github.com/stagegate/stagegate/app/runs"
	"github.com/stagegate/stagegate/app/store"
	"github.com/stagegate/stagegate/app/webhook"
	"github.com/stagegate/stagegate/codebuild"
	"github.com/stagegate/stagegate/pipeline/runner"
	"github.com/stagegate/stagegate/pipeline/runner/local"
	"github.com/stagegate/stagegate/s3artifacts"
)

// Options are the parts of an App that are not configuration: what tests
// and embedders replace.
type Options struct {
	Logger zerolog.Logger
	// MaxRuns bounds the pipelines executing at once (default 2); runs
	// waiting at a deploy gate do not count.
	MaxRuns int
	// Runner executes actions; the local process runner by default.
	Runner runner.Runner
	// SetupToken is the token the setup pages require in setup mode; a
	// random one, printed in the log, when empty.
	SetupToken string
	// CatchUpEvery is the time between catch-ups of missed deliveries
	// (default 5 minutes).
	CatchUpEvery time.Duration
	// ShutdownGrace is how long a stop waits for running pipelines before
	// cancelling them (default 30s).
	ShutdownGrace time.Duration
	// LogCap is how many bytes of one attempt's log are stored (default
	// runlog.DefaultLogCap).
	LogCap int64
	// RunLogCap is how many bytes of one run's logs are stored, all its
	// attempts together (default runlog.DefaultRunLogCap).
	RunLogCap int64
	// FreeSpace measures the space available in a directory; statfs by
	// default.
	FreeSpace func(dir string) (uint64, error)
	// GitHubLimits paces each installation's API requests to GitHub's
	// rate limits (default GitHub's); ProgressEvery is the least time
	// between progress updates of a check while the budget is ample
	// (default checks.DefaultThrottle). Tests shrink both.
	GitHubLimits  ghclient.Limits
	ProgressEvery time.Duration
	// LeaseTTL and LeaseBeat: how long a run's lease lives without a
	// heartbeat, and the time between heartbeats (replica.DefaultTTL,
	// replica.DefaultBeat).
	LeaseTTL, LeaseBeat time.Duration
	// AWS returns the base AWS SDK configuration (region, endpoint);
	// config.LoadDefaultConfig when nil. Its credentials are never used
	// for actions: they get a role's, through the OIDC issuer.
	AWS func(context.Context) (aws.Config, error)
	// CodeBuild adjusts the CodeBuild runner, such as its endpoints for
	// tests; it is called once, when Config.CodeBuildStaging is set.
	CodeBuild func(*codebuild.Runner)
}

// App is a configured stagegate server.
type App struct {
	cfg     Config
	opts    Options
	log     zerolog.Logger
	db      *store.DB
	queue   *queue.Queue
	gh      *ghclient.Clients
	metrics *metrics
	reg     *prometheus.Registry
	handler http.Handler
	ingest  *webhook.BatchIngester
	replica *replica.Replica
	slots   running.Slots
	bg      background
	// waiters wakes this process's deploy gates.
	waiters   gatewait.Waiters
	cloud     *cloud.Cloud
	deploys   *deploys.Deploys
	handlers  *handlers.Handlers
	runs      *runs.Runs
	codebuild *codebuild.Runner
	pages     webPages
	// s3Artifacts keeps runs' artifacts in S3; nil keeps them in the
	// data dir (wire_artifacts.go).
	s3Artifacts *s3artifacts.Store
	// stopping is set once Stop has begun.
	stopping atomic.Bool
}

// New opens the database, migrates it and wires the workers. It makes no
// request to GitHub.
func New(ctx context.Context, cfg Config, opts Options) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opts.Runner == nil {
		opts.Runner = &local.Runner{}
	}
	if opts.MaxRuns <= 0 {
		opts.MaxRuns = 2
	}
	if opts.ShutdownGrace <= 0 {
		opts.ShutdownGrace = 30 * time.Second
	}
	for _, d := range rundirs.DataDirs(cfg.DataDir) {
		// Workspaces hold checked-out code and artifacts may hold
		// secrets' products: nobody else on the machine reads them.
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("data dir: %w", err)
		}
	}
	db, err := store.Open(ctx, cfg.DatabaseURL())
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	a := &App{cfg: cfg, opts: opts, log: opts.Logger, db: db, reg: prometheus.NewRegistry(), slots: make(running.Slots, opts.MaxRuns)}
	a.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	a.metrics = newMetrics(a.reg)
	a.replica = a.newReplica()
	a.gh, err = ghclient.New(ghclient.Config{
		BaseURL: cfg.GitHubURL, AppID: cfg.AppID, PrivateKey: cfg.PrivateKey,
		Registry: a.reg, Logger: opts.Logger, Limits: opts.GitHubLimits,
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("github clients: %w", err)
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &deliveryWorker{app: a})
	river.AddWorker(workers, &runWorker{app: a})
	// River may hand out more runs than execute at once: the extra ones
	// wait at deploy gates or for a build slot.
	a.queue, err = queue.New(db, workers, queue.Config{ID: a.replica.Owner(), Logger: opts.Logger, MaxRuns: opts.MaxRuns + maxWaitingRuns, CancelGrace: cancelGrace})
	if err != nil {
		db.Close()
		return nil, err
	}
	a.reg.MustRegister(queue.NewDepthCollector(a.queue))
	a.deploys = deploys.New(deploys.Config{AppID: cfg.AppID, GitHubURL: cfg.GitHubURL}, db, a.gh, gateWaiters{a}, replicaEnvironments{a.replica}, a.rerunFrom)
	a.runs = runs.New(runs.Config{DataDir: cfg.DataDir, ProgressEvery: opts.ProgressEvery}, db, a.gh, a.queue, a.deploys, executingRuns{a}, a.artifactStore)
	a.handlers = handlers.New(handlers.Config{AppID: cfg.AppID}, db, a.gh, gateWaiters{a}, handlerRuns{a}, a.deploys,
		comments.New(db, a.gh, commandRuns{a}, a.deploys))
	a.handlers.Seen = a.recordVisibility
	a.deploys.GateShown = a.recordGate
	a.ingest = webhook.NewBatchIngester(db, a.queue, &a.log)
	hook := webhook.NewHandler(cfg.WebhookSecret, a.ingest, a.metrics.deliveries)
	if a.cloud, err = cloud.New(ctx, cfg.PublicURL, cfg.DataDir, opts.AWS); err != nil {
		db.Close()
		return nil, err
	}
	if a.codebuild, err = newCodeBuild(cfg, opts); err != nil {
		db.Close()
		return nil, err
	}
	if a.s3Artifacts, err = openArtifactStore(ctx, cfg, opts.AWS); err != nil {
		db.Close()
		return nil, err
	}
	if err := a.wireSignIn(); err != nil { // wire_webauth.go
		db.Close()
		return nil, err
	}
	if err := a.newWebPages(); err != nil {
		db.Close()
		return nil, err
	}
	a.handler = withLogger(opts.Logger, a.cloud.Routes(a.webRoutes(routes(hook, db, a.reg))))
	return a, nil
}

// Handler is the app's HTTP interface.
func (a *App) Handler() http.Handler { return a.handler }

// Start concludes what a previous process left in progress, then starts
// working queued jobs.
func (a *App) Start(ctx context.Context) error {
	ctx = a.log.WithContext(ctx)
	if err := a.reconcile(ctx); err != nil {
		return fmt.Errorf("reconcile: %w", err)
	}
	a.replica.Start(ctx)
	if err := a.queue.Start(ctx); err != nil {
		a.replica.Close()
		return err
	}
	a.startBackground(ctx)
	return nil
}

// Stop lets running pipelines finish until ctx ends, then cancels them;
// their checks are concluded and the runs queued again for the next
// start. Then it closes the database.
func (a *App) Stop(ctx context.Context) error {
	a.stopping.Store(true)
	a.stopBackground()
	a.ingest.Close()
	// Runs waiting at a deploy gate are handed back at once: concluded
	// here and queued again to resume at their stage on another replica.
	a.replica.StopGating(errShuttingDown)
	stopped := make(chan struct{})
	go func() {
		// At the end of the grace period, runs still going are cancelled
		// with a cause that makes them conclude and queue again.
		select {
		case <-ctx.Done():
			a.replica.StopAll(errShuttingDown)
		case <-stopped:
		}
	}()
	err := a.queue.Stop(ctx)
	close(stopped)
	a.replica.Close()
	if err != nil && ctx.Err() != nil && errors.Is(err, context.DeadlineExceeded) {
		// The grace period ended with runs still going: they were
		// cancelled, concluded and queued again, which is what a stop
		// past its grace period does.
		a.log.Warn().Err(err).Msg("runs still going at the end of the grace period were queued again")
		err = nil
	}
	return errors.Join(err, a.db.Close())
}

// cancelGrace is how long a stop waits for cancelled runs to end: longer
// than an action's SIGTERM grace (10s) plus the wait for its output (2s)
// plus concluding its checks, so the database is not closed under them.
const cancelGrace = 30 * time.Second

// maxWaitingRuns is how many runs may wait at deploy gates beside those
// executing.
const maxWaitingRuns = 64

// logPolicy is how much of each run's logs is stored.
func (a *App) logPolicy() *runlog.Policy {
	return runlog.NewPolicy(a.opts.LogCap, a.opts.RunLogCap, a.cfg.MinFreeSpace, a.cfg.DataDir, a.opts.FreeSpace)
}

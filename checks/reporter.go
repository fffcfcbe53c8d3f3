package checks

import (
	"context"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/stagegate/stagegate/pipeline/engine"
)

// DefaultThrottle is the least time between two progress updates of one
// check. GitHub's secondary rate limits count content-creating requests
// per minute across the installation, and a run's logs can change every
// millisecond; every 10 s is still live enough for a person watching.
const DefaultThrottle = 10 * time.Second

// Clock is the time source, replaced in tests.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Options tune a Reporter. The zero value works: no details links, no
// annotations on files, the default throttle.
type Options struct {
	// DetailsURL is the page a check links to, for a stage or for the
	// summary (stage ""); nil or "" means no link.
	DetailsURL func(stage string) string
	// GateDetailsURL is the page a deploy stage's check links to while
	// it waits for approval: GitHub requires a details_url with the
	// action_required conclusion that shows the Deploy button. Nil or ""
	// falls back to DetailsURL, then to the check's own page on GitHub,
	// which costs one more call when the check does not exist yet.
	GateDetailsURL func(stage string) string
	// Throttle is the least time between progress updates of one check;
	// 0 means DefaultThrottle and a negative value turns them off.
	Throttle time.Duration
	// Pace, when set, stretches Throttle to what GitHub's rate limits
	// afford now (it is given Throttle and returns at least that).
	Pace func(throttle time.Duration) time.Duration
	// ProgressContext, when set, marks the context of a progress update,
	// so that the client can send conclusions first and give progress
	// up under pressure. A progress update that fails is sent again
	// later; a conclusion is never marked.
	ProgressContext func(context.Context) context.Context
	// Unsent reports whether an error of a progress update means that
	// the update never reached GitHub, so that its annotations are sent
	// again (GitHub appends annotations: one that may have arrived is
	// not sent twice).
	Unsent func(error) bool
	// Files reports whether a slash-separated path relative to the
	// repository root is one of its files. Log lines naming a path are
	// annotated only when it is; nil turns those annotations off, and
	// workflow commands (::error file=...) are then trusted as they are.
	Files func(path string) bool
	// FilesNamed lists the repository's files with a base name, to place
	// Go test failures, which name only that; nil turns them off.
	// FileIndex provides both.
	FilesNamed func(name string) []string
	// Workspace is the absolute path of the checkout the actions ran
	// in, to make absolute paths in logs relative.
	Workspace string
	// OnCheckRun is told each check run's ID as it is created (stage ""
	// for the summary), so that a restarted process can still complete
	// the checks of a run it lost. It runs on the Reporter's goroutine.
	OnCheckRun func(stage string, id int64)
	// Logger overrides the logger of the context given to Start.
	Logger *zerolog.Logger
	// Clock defaults to the system clock.
	Clock Clock
	// Notes are Markdown paragraphs the summary check shows under its
	// verdict, such as that a pull request's change to the deploy policy
	// takes effect once merged.
	Notes []string
}

// Reporter is an engine.Observer that shows a run as check runs. Observe
// only records; a goroutine started by Start does the writing, and Close
// waits for it to write the final state of every check.
type Reporter struct {
	api     API
	target  Target
	opts    Options
	clock   Clock
	files   fileIndex
	wake    chan struct{}
	done    chan struct{}
	cancel  context.CancelFunc
	running bool

	mu     sync.Mutex
	m      model
	closed bool
	// errs are the completing writes that failed, and why the worker
	// stopped early, for Close to report.
	errs []error
}

// NewReporter returns a Reporter for one run on t. Call Start before the
// run and Close after it.
func NewReporter(api API, t Target, opts Options) *Reporter {
	r := &Reporter{
		api:    api,
		target: t,
		opts:   opts,
		clock:  opts.Clock,
		wake:   make(chan struct{}, 1),
		done:   make(chan struct{}),
		m:      model{runID: t.RunID, notes: opts.Notes},
	}
	if r.clock == nil {
		r.clock = realClock{}
	}
	if r.opts.Throttle == 0 {
		r.opts.Throttle = DefaultThrottle
	}
	ws := ""
	if opts.Workspace != "" {
		ws = path.Clean(filepath.ToSlash(opts.Workspace))
	}
	r.files = fileIndex{has: opts.Files, named: opts.FilesNamed, workspace: ws}
	return r
}

// Start starts the goroutine that writes the checks. ctx bounds every
// write and carries the logger: it should outlive the run, since a run
// that is cancelled still has checks to conclude. Cancelling it abandons
// the writes not yet made. Start does nothing when called again.
func (r *Reporter) Start(ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.running {
		return
	}
	r.running = true
	ctx, r.cancel = context.WithCancel(ctx)
	log := zerolog.Ctx(ctx)
	if r.opts.Logger != nil {
		log = r.opts.Logger
	}
	l := log.With().Str(keyRun, r.target.RunID).Logger()
	go r.loop(ctx, &l)
}

// Observe records an event. It never waits for GitHub: writes happen on
// the Reporter's goroutine, and log lines only update what the next
// write will show, so memory stays bounded however much a run prints.
func (r *Reporter) Observe(e engine.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	if r.apply(e, r.clock.Now()) {
		r.signal()
	}
}

func (r *Reporter) signal() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// errNotStarted is returned by Close when Start was never called, so
// nothing was written.
var errNotStarted = errors.New("checks: reporter was never started")

// Close writes the final state of every check and waits for the writes,
// or for ctx to end, whichever is first; then it abandons what is left
// and returns ctx's error. A run that has not finished is concluded as
// cancelled, so that no check is left in progress. The error also tells
// of completing writes that failed: their checks may still show in
// progress, for a later process to conclude by their IDs.
func (r *Reporter) Close(ctx context.Context) error {
	r.mu.Lock()
	if !r.closed {
		r.closed = true
		if (r.m.started || len(r.m.stages) > 0) && !r.m.finished {
			res := engine.Result{RunID: r.m.runID, Status: engine.StatusCancelled, Reason: "stagegate stopped reporting before the run finished"}
			r.apply(engine.RunFinished{Result: res}, r.clock.Now())
		}
	}
	running, cancel := r.running, r.cancel
	r.mu.Unlock()
	if !running {
		return errNotStarted
	}
	r.signal()
	select {
	case <-r.done:
	case <-ctx.Done():
		// The writes may have ended just as ctx did; they count.
		select {
		case <-r.done:
		default:
			cancel()
			return fmt.Errorf("checks: run %s: closing before the checks were written: %w", r.target.RunID, context.Cause(ctx))
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.errs) > 0 {
		return fmt.Errorf("checks: run %s: not every check was completed: %w", r.target.RunID, errors.Join(r.errs...))
	}
	return nil
}

package ghclient

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Limits is how an installation's client paces itself to stay inside
// GitHub's rate limits (https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api)
// instead of running into them. Zero fields take the defaults; tests
// shrink Minute and Hour to compress time.
type Limits struct {
	// Minute and Hour are the windows of GitHub's secondary limits
	// (default a minute and an hour).
	Minute, Hour time.Duration
	// WriteBurst writes per Minute go out back to back (default 60);
	// beyond that writes are WriteSpacing apart (default 1s, GitHub's
	// advice for many POST, PATCH, PUT or DELETE requests:
	// https://docs.github.com/rest/using-the-rest-api/best-practices-for-using-the-rest-api#pause-between-mutative-requests).
	// That keeps one endpoint under its 900 points a minute (a write
	// costs 5) with reads to spare.
	WriteBurst   int
	WriteSpacing time.Duration
	// CreatesPerMinute and CreatesPerHour bound content-creating
	// requests (POSTs to a repository; default 75 and 480, under
	// GitHub's 80 and 500 so that clocks and latency do not matter).
	CreatesPerMinute int
	CreatesPerHour   int
	// Reserve is the share of the primary limit (requests an hour, read
	// from the response headers) that progress updates leave to
	// everything else (default 0.1).
	Reserve float64
	// ProgressWait is the longest a progress update waits for the write
	// slot before it is given up (default 5s): its check is written
	// again later, and a run's conclusion must not queue behind it.
	ProgressWait time.Duration
}

func (l Limits) withDefaults() Limits {
	if l.Minute <= 0 {
		l.Minute = time.Minute
	}
	if l.Hour <= 0 {
		l.Hour = time.Hour
	}
	if l.WriteBurst <= 0 {
		l.WriteBurst = 60
	}
	if l.WriteSpacing <= 0 {
		l.WriteSpacing = time.Second
	}
	if l.CreatesPerMinute <= 0 {
		l.CreatesPerMinute = 75
	}
	if l.CreatesPerHour <= 0 {
		l.CreatesPerHour = 480
	}
	if l.Reserve <= 0 || l.Reserve >= 1 {
		l.Reserve = 0.1
	}
	if l.ProgressWait <= 0 {
		l.ProgressWait = 5 * time.Second
	}
	return l
}

type progressKey struct{}

// AsProgress marks the writes made with ctx as progress updates: they
// yield the write slot to every other write, are held back while the
// hourly budget is down to its reserve, and are given up (ErrDeferred)
// rather than wait longer than Limits.ProgressWait.
func AsProgress(ctx context.Context) context.Context {
	return context.WithValue(ctx, progressKey{}, true)
}

func isProgress(req *http.Request) bool { return req.Context().Value(progressKey{}) != nil }

// ErrDeferred is returned for a progress update that was not sent, to
// leave GitHub's rate limits to writes that matter more.
var ErrDeferred = errors.New("ghclient: progress update deferred to stay within GitHub's rate limits")

// budget is one installation's view of its rate limits: the primary
// budget GitHub reports in every response's x-ratelimit-* headers, a
// pause while GitHub asked to wait, and the writes recently made. Its
// middleware lets one write through at a time, in priority order
// (everything before progress updates), and only when the limits allow.
// A write waiting for a pause or a window holds no slot: it waits in
// the queue, where a conclusion that comes later still goes first.
type budget struct {
	lim     Limits
	maxWait time.Duration
	clk     clock

	mu        sync.Mutex
	busy      bool
	pauseTill time.Time
	writes    []time.Time // within the last Minute
	creates   []time.Time // within the last Hour
	queue     []*waiter
	timer     *time.Timer
	timerAt   time.Time

	known            bool
	limit, remaining int
	reset            time.Time
}

type waiter struct {
	ready    chan struct{}
	progress bool
	create   bool
	deadline time.Time // progress only
	granted  bool
	deferred bool
}

func newBudget(lim Limits, maxWait time.Duration, clk clock) *budget {
	return &budget{lim: lim.withDefaults(), maxWait: maxWait, clk: clk}
}

// middleware serializes writes through the budget and reads the
// budget's headers from every response.
func (b *budget) middleware(next http.RoundTripper) http.RoundTripper {
	return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
		if !isWrite(req.Method) {
			if err := b.waitForReset(req.Context()); err != nil {
				closeBody(req)
				return nil, err
			}
			b.spend()
			resp, err := next.RoundTrip(req)
			b.observe(resp)
			return resp, err
		}
		if err := b.acquire(req); err != nil {
			closeBody(req)
			return nil, err
		}
		resp, err := next.RoundTrip(req)
		b.release(resp)
		return resp, err
	})
}

// waitForReset holds a read while the hourly budget is spent, when its
// reset is near enough to wait for: sending it would only be refused.
// The last request of the hour is kept: an answer saying 0 remain makes
// go-github refuse every request until the reset, without asking.
func (b *budget) waitForReset(ctx context.Context) error {
	b.mu.Lock()
	now := b.clk.Now()
	wait := time.Duration(0)
	if b.spentLocked(now) {
		wait = b.reset.Sub(now) + time.Second
	}
	b.mu.Unlock()
	if wait == 0 || wait > b.maxWait || !fitsDeadline(ctx, now, wait) {
		return nil
	}
	return b.clk.Sleep(ctx, wait)
}

func (b *budget) spend() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.known {
		b.remaining--
	}
}

// observe reads the primary budget from a response, and a pause from a
// rate-limit answer. Responses arrive out of order, so within one
// window the lowest remaining count wins.
func (b *budget) observe(resp *http.Response) {
	if resp == nil {
		return
	}
	now := b.clk.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	h := resp.Header
	limit, err1 := strconv.Atoi(h.Get("X-RateLimit-Limit"))
	remaining, err2 := strconv.Atoi(h.Get("X-RateLimit-Remaining"))
	reset, err3 := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64)
	if err1 == nil && err2 == nil && err3 == nil && (h.Get("X-RateLimit-Resource") == "" || h.Get("X-RateLimit-Resource") == "core") {
		r := time.Unix(reset, 0)
		if !b.known || !r.Equal(b.reset) {
			b.known, b.limit, b.remaining, b.reset = true, limit, remaining, r
		} else {
			b.remaining = min(b.remaining, remaining)
		}
	}
	if wait, limited := rateLimitWait(resp, now); limited {
		// Every write of the installation waits, queued, rather than
		// run into the same limit.
		if t := now.Add(wait); t.After(b.pauseTill) {
			b.pauseTill = t
		}
	}
}

// acquire waits for the write slot, in priority order, until the limits
// allow the write.
func (b *budget) acquire(req *http.Request) error {
	ctx := req.Context()
	w := &waiter{ready: make(chan struct{}), progress: isProgress(req), create: isCreate(req)}
	b.mu.Lock()
	if w.progress {
		w.deadline = b.clk.Now().Add(b.lim.ProgressWait)
	}
	b.queue = append(b.queue, w)
	b.dispatchLocked()
	b.mu.Unlock()
	select {
	case <-w.ready:
	case <-ctx.Done():
		b.mu.Lock()
		defer b.mu.Unlock()
		if w.granted {
			// Granted just as ctx ended: pass the slot on.
			b.busy = false
			b.dispatchLocked()
		} else {
			b.removeLocked(w)
		}
		return ctx.Err()
	}
	if w.deferred {
		return ErrDeferred
	}
	return nil
}

func (b *budget) release(resp *http.Response) {
	b.observe(resp)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.busy = false
	b.dispatchLocked()
}

func (b *budget) removeLocked(w *waiter) {
	for i, x := range b.queue {
		if x == w {
			b.queue = append(b.queue[:i], b.queue[i+1:]...)
			return
		}
	}
}

// readyAtLocked is when w may be sent, as far as the limits say.
func (b *budget) readyAtLocked(w *waiter, now time.Time) time.Time {
	at := b.pauseTill
	b.writes = dropTimes(b.writes, now.Add(-b.lim.Minute))
	if n := len(b.writes); n >= b.lim.WriteBurst {
		at = later(at, b.writes[n-1].Add(b.lim.WriteSpacing))
	}
	if w.create {
		// A little more than the window: GitHub counts arrivals by its
		// own clock.
		margin := b.lim.Minute / 20
		b.creates = dropTimes(b.creates, now.Add(-b.lim.Hour-margin))
		if n := len(b.creates); n >= b.lim.CreatesPerHour {
			at = later(at, b.creates[n-b.lim.CreatesPerHour].Add(b.lim.Hour+margin))
		}
		inMinute := 0
		for _, t := range b.creates {
			if t.After(now.Add(-b.lim.Minute - margin)) {
				inMinute++
			}
		}
		if n := len(b.creates); inMinute >= b.lim.CreatesPerMinute {
			at = later(at, b.creates[n-b.lim.CreatesPerMinute].Add(b.lim.Minute+margin))
		}
	}
	if b.spentLocked(now) || (w.progress && b.known && now.Before(b.reset) && float64(b.remaining) <= b.lim.Reserve*float64(b.limit)) {
		at = later(at, b.reset.Add(time.Second))
	}
	return at
}

// spentLocked reports whether the hour's budget is spent but for the
// request kept back (see waitForReset).
func (b *budget) spentLocked(now time.Time) bool {
	return b.known && b.remaining <= 1 && now.Before(b.reset)
}

// dispatchLocked hands the free slot to the first write that may go,
// every other write before progress updates, gives up progress updates
// that waited too long, and sets a timer for when the next may go.
func (b *budget) dispatchLocked() {
	now := b.clk.Now()
	next := time.Time{}
	keep := b.queue[:0]
	for _, w := range b.queue {
		if w.progress && !now.Before(w.deadline) {
			w.deferred = true
			close(w.ready)
			continue
		}
		keep = append(keep, w)
	}
	b.queue = keep
	if !b.busy {
		for _, progress := range []bool{false, true} {
			for _, w := range b.queue {
				if w.progress != progress {
					continue
				}
				at := b.readyAtLocked(w, now)
				if at.After(now) {
					if next.IsZero() || at.Before(next) {
						next = at
					}
					continue
				}
				b.grantLocked(w, now)
				return
			}
		}
	}
	for _, w := range b.queue {
		if w.progress && (next.IsZero() || w.deadline.Before(next)) {
			next = w.deadline
		}
	}
	if next.IsZero() {
		return
	}
	if b.timer != nil && !b.timerAt.After(next) && b.timerAt.After(now) {
		return
	}
	if b.timer != nil {
		b.timer.Stop()
	}
	// The callback is short and ends; a stopped timer never runs it.
	b.timerAt = next
	b.timer = time.AfterFunc(next.Sub(now), func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.timer = nil
		b.dispatchLocked()
	})
}

func (b *budget) grantLocked(w *waiter, now time.Time) {
	b.removeLocked(w)
	b.busy = true
	w.granted = true
	b.writes = append(b.writes, now)
	if w.create {
		b.creates = append(b.creates, now)
	}
	if b.known {
		b.remaining--
	}
	close(w.ready)
}

// ProgressInterval stretches the least time between two progress
// updates of a check as the installation's budget shrinks: base while
// more than half of the hour's requests remain, then in inverse
// proportion to what is left above the reserve, and until the reset
// once only the reserve is left. Writes waiting for the slot stretch it
// too.
func (b *budget) progressInterval(base time.Duration) time.Duration {
	now := b.clk.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	d := base
	if b.known && now.Before(b.reset) && b.limit > 0 {
		reserve := b.lim.Reserve * float64(b.limit)
		spare := float64(b.remaining) - reserve
		switch {
		case spare <= 0:
			d = max(d, b.reset.Sub(now))
		case spare < float64(b.limit)/2:
			d = max(d, time.Duration(float64(base)*float64(b.limit)/2/spare))
		}
	}
	if n := len(b.queue); n > 0 {
		d = max(d, time.Duration(n+1)*b.lim.WriteSpacing)
	}
	return d
}

// isCreate reports whether req creates content in a repository, which
// GitHub's secondary limits count apart.
func isCreate(req *http.Request) bool {
	return req.Method == http.MethodPost && strings.Contains(req.URL.Path, "/repos/")
}

func dropTimes(log []time.Time, before time.Time) []time.Time {
	i := 0
	for i < len(log) && !log[i].After(before) {
		i++
	}
	return log[i:]
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

package s3artifacts

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// DefaultIdle is how long a transfer may move no byte before it is
// abandoned. A connection that stalls would otherwise hold the run, and
// its build slot, until someone cancels it; a slow one that still moves
// goes on.
const DefaultIdle = 2 * time.Minute

// errStalled ends a transfer in which nothing moved for the idle time.
var errStalled = errors.New("no data moved")

// watchdog cancels a transfer's context when it is not fed for idle.
type watchdog struct {
	idle  time.Duration
	timer *time.Timer
}

// watch returns a context that ends idle after the last feed, and the
// function that stops the watchdog; the caller owns both and calls stop
// when the transfer is over.
func watch(ctx context.Context, idle time.Duration) (context.Context, *watchdog, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	w := &watchdog{idle: idle}
	w.timer = time.AfterFunc(idle, func() { cancel(fmt.Errorf("%w for %v", errStalled, idle)) })
	return ctx, w, func() {
		w.timer.Stop()
		cancel(nil)
	}
}

func (w *watchdog) feed() { w.timer.Reset(w.idle) }

// stalled is the watchdog's reason when it ended ctx, else err.
func stalled(ctx context.Context, err error) error {
	if cause := context.Cause(ctx); errors.Is(cause, errStalled) {
		return cause
	}
	return err
}

// fedReader feeds a watchdog with every read that moves bytes. It seeks
// when its reader does, since the SDK rewinds an upload's body to sign
// it and to retry.
type fedReader struct {
	r io.Reader
	w *watchdog
}

func (f *fedReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if n > 0 {
		f.w.feed()
	}
	return n, err
}

func (f *fedReader) Seek(offset int64, whence int) (int64, error) {
	s, ok := f.r.(io.Seeker)
	if !ok {
		return 0, errors.New("the body cannot seek")
	}
	return s.Seek(offset, whence)
}

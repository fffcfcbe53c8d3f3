package ghclient

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// barrier holds each request of one kind (reads or writes) until n of
// that kind are waiting at it, then lets those n through together; a
// request waits at most timeout. It records the most requests of its kind
// in flight at once.
type barrier struct {
	n       int
	timeout time.Duration

	waiting  int
	gate     chan struct{} // closed when the waiting requests go through
	inFlight int
	peak     int
	timeouts int
}

// barrierServer answers 200 to each request once the barrier of its kind
// lets it through: overlap is waited for, not hoped for within a sleep.
type barrierServer struct {
	*httptest.Server
	mu            sync.Mutex
	reads, writes *barrier
}

func newBarrierServer(t *testing.T, reads, writes barrier) *barrierServer {
	t.Helper()
	reads.gate, writes.gate = make(chan struct{}), make(chan struct{})
	s := &barrierServer{reads: &reads, writes: &writes}
	s.Server = httptest.NewServer(s)
	t.Cleanup(s.Close)
	return s
}

func (s *barrierServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b := s.reads
	if isWrite(r.Method) {
		b = s.writes
	}
	s.mu.Lock()
	b.inFlight++
	b.peak = max(b.peak, b.inFlight)
	gate := b.gate
	b.waiting++
	if b.waiting == b.n {
		// The batch leaves the barrier at once, whenever its handlers
		// get to run: the next arrival starts a new one.
		close(b.gate)
		b.gate, b.waiting = make(chan struct{}), 0
	}
	s.mu.Unlock()

	timer := time.NewTimer(b.timeout)
	defer timer.Stop()
	select {
	case <-gate:
	case <-r.Context().Done():
	case <-timer.C:
	}
	s.mu.Lock()
	select {
	case <-gate:
	default: // still waiting: leave the barrier alone
		b.waiting--
		b.timeouts++
	}
	b.inFlight--
	s.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// stats are, for reads and for writes, the most in flight at once and
// how many requests were let through by the timeout.
func (s *barrierServer) stats() (readPeak, readTimeouts, writePeak, writeTimeouts int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reads.peak, s.reads.timeouts, s.writes.peak, s.writes.timeouts
}

func TestWritesAreSerialized(t *testing.T) {
	// Every write is held until a second one is in flight, which never
	// happens if they are serialized (each then waits out the short
	// timeout) and happens at once if they are not. The four reads are
	// held until all four are in flight.
	srv := newBarrierServer(t,
		barrier{n: 4, timeout: 5 * time.Second},
		barrier{n: 2, timeout: 150 * time.Millisecond})
	c := httpClient(t, newWriteSerializer())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	var wg sync.WaitGroup
	for i := range 12 {
		method := []string{"POST", "PATCH", "GET"}[i%3]
		wg.Go(func() {
			if _, _, err := do(t, c, ctx, method, srv.URL, ""); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	readPeak, readTimeouts, writePeak, writeTimeouts := srv.stats()
	if writePeak != 1 {
		t.Errorf("at most %d writes were in flight at once, want 1", writePeak)
	}
	if writeTimeouts != 8 {
		t.Errorf("%d of 8 writes waited alone for the barrier, want all", writeTimeouts)
	}
	// Reads are not held back: all four were in flight together.
	if readPeak != 4 || readTimeouts != 0 {
		t.Errorf("at most %d reads in flight at once (%d timed out), want all 4 concurrent", readPeak, readTimeouts)
	}
}

func TestWriteSerializersAreIndependent(t *testing.T) {
	// Each write is held until two are in flight: one per installation.
	srv := newBarrierServer(t,
		barrier{n: 1, timeout: time.Second},
		barrier{n: 2, timeout: 5 * time.Second})
	// Two installations, two serializers: their writes may overlap.
	a, b := httpClient(t, newWriteSerializer()), httpClient(t, newWriteSerializer())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, c := range []*http.Client{a, b, a, b} {
		wg.Go(func() {
			if _, _, err := do(t, c, ctx, "POST", srv.URL, ""); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	_, _, writePeak, writeTimeouts := srv.stats()
	if writePeak != 2 || writeTimeouts != 0 {
		t.Errorf("max concurrent writes = %d (%d timed out), want 2 (one per installation)", writePeak, writeTimeouts)
	}
}

func TestWriteSlotWaitEndsWithContext(t *testing.T) {
	var arrivals atomic.Int32
	firstArrived := make(chan struct{})
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if arrivals.Add(1) == 1 {
			close(firstArrived)
		}
		select {
		case <-release:
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	t.Cleanup(srv.Close)
	c := httpClient(t, newWriteSerializer())

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	first := make(chan error, 1)
	go func() { // owned here; ends when release is closed, or with ctx
		_, _, err := do(t, c, ctx, "POST", srv.URL, "")
		first <- err
	}()
	defer func() { // also on t.Fatal: release the handler, end the goroutine
		close(release)
		if err := <-first; err != nil {
			t.Errorf("first POST: %v", err)
		}
	}()
	select { // the first POST holds the slot: it is at the server
	case <-firstArrived:
	case <-time.After(10 * time.Second):
		t.Fatal("the first POST never reached the server")
	}

	short, cancelShort := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancelShort()
	start := time.Now()
	_, _, err := do(t, c, short, "POST", srv.URL, "")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("second POST: err = %v, want DeadlineExceeded while waiting for the slot", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("second POST returned after %v, not when its context ended", el)
	}
	// It timed out waiting for the slot, not on the wire: it never
	// reached the server.
	if n := arrivals.Load(); n != 1 {
		t.Errorf("%d POSTs reached the server, want 1: the second was not held for the slot", n)
	}
}

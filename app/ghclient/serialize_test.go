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

// overlapServer holds each request for a while and records the highest
// number of writes and reads in flight at once.
type overlapServer struct {
	writes, reads       atomic.Int32
	maxWrites, maxReads atomic.Int32
}

func (s *overlapServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	cur, peak := &s.reads, &s.maxReads
	if isWrite(r.Method) {
		cur, peak = &s.writes, &s.maxWrites
	}
	n := cur.Add(1)
	for {
		p := peak.Load()
		if n <= p || peak.CompareAndSwap(p, n) {
			break
		}
	}
	time.Sleep(30 * time.Millisecond)
	cur.Add(-1)
	w.WriteHeader(http.StatusOK)
}

func TestWritesAreSerialized(t *testing.T) {
	ov := &overlapServer{}
	srv := httptest.NewServer(ov)
	t.Cleanup(srv.Close)
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
	if got := ov.maxWrites.Load(); got != 1 {
		t.Errorf("at most %d writes were in flight at once, want 1", got)
	}
	// Reads are not held back: four GETs sleeping 30ms each overlap.
	if got := ov.maxReads.Load(); got < 2 {
		t.Errorf("at most %d reads in flight at once, want them concurrent", got)
	}
}

func TestWriteSerializersAreIndependent(t *testing.T) {
	ov := &overlapServer{}
	srv := httptest.NewServer(ov)
	t.Cleanup(srv.Close)
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
	if got := ov.maxWrites.Load(); got != 2 {
		t.Errorf("max concurrent writes = %d, want 2 (one per installation)", got)
	}
}

func TestWriteSlotWaitEndsWithContext(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-time.After(10 * time.Second):
		}
	}))
	t.Cleanup(srv.Close)
	defer close(release)
	c := httpClient(t, newWriteSerializer())

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	first := make(chan error, 1)
	go func() { // owned here; ends when release is closed or after 10s
		_, _, err := do(t, c, ctx, "POST", srv.URL, "")
		first <- err
	}()
	time.Sleep(50 * time.Millisecond) // let the first POST take the slot

	short, cancelShort := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancelShort()
	_, _, err := do(t, c, short, "POST", srv.URL, "")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("second POST: err = %v, want DeadlineExceeded while waiting for the slot", err)
	}
	release <- struct{}{}
	if err := <-first; err != nil {
		t.Errorf("first POST: %v", err)
	}
}

package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stagegate/stagegate/app/store"
	"github.com/stagegate/stagegate/internal/pgtest"
)

func TestCancelRequests(t *testing.T) {
	pgtest.Run(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := openURL(t, url)
		t0 := ms(0)
		leased, unleased := newRun(t, db, "acme/web").ID, newRun(t, db, "acme/web").ID
		if ok, err := db.ClaimRun(ctx, leased, "a", t0, time.Minute); err != nil || !ok {
			t.Fatalf("claim = %v, %v", ok, err)
		}
		if _, err := db.CancelRequested(ctx, leased); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("CancelRequested before any request = %v", err)
		}
		sub, err := db.Subscribe(ctx, store.CancelChannel)
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Close()
		for _, id := range []string{leased, unleased} {
			if ok, err := db.RequestCancel(ctx, id, "superseded", t0); err != nil || !ok {
				t.Fatalf("RequestCancel(%s) = %v, %v", id, ok, err)
			}
			receive(t, sub, id) // the replica running it is woken
		}
		if ok, err := db.RequestCancel(ctx, leased, "/cancel", t0.Add(time.Second)); err != nil || ok {
			t.Fatalf("a second RequestCancel = %v, %v; want the first to stand", ok, err)
		}
		if got, err := db.TakeCancels(ctx, "b", t0); err != nil || len(got) != 0 {
			t.Fatalf("TakeCancels of a replica holding no lease = %+v, %v", got, err)
		}
		got, err := db.TakeCancels(ctx, "a", t0.Add(2*time.Second))
		if err != nil || len(got) != 1 || got[0].RunID != leased || got[0].Reason != "superseded" ||
			!got[0].RequestedAt.Equal(t0) || !got[0].ConsumedAt.Equal(t0.Add(2*time.Second)) {
			t.Fatalf("TakeCancels(a) = %+v, %v", got, err)
		}
		if got, err := db.TakeCancels(ctx, "a", t0.Add(3*time.Second)); err != nil || len(got) != 0 {
			t.Fatalf("TakeCancels(a) again = %+v, %v; want each request once", got, err)
		}
		if c, err := db.CancelRequested(ctx, leased); err != nil || c.ConsumedAt.IsZero() {
			t.Fatalf("CancelRequested after it was taken = %+v, %v", c, err)
		}
		// The request for the run nobody executed waits for its claim.
		if ok, err := db.ClaimRun(ctx, unleased, "b", t0, time.Minute); err != nil || !ok {
			t.Fatalf("claim = %v, %v", ok, err)
		}
		if got, err := db.TakeCancels(ctx, "b", t0); err != nil || len(got) != 1 || got[0].RunID != unleased {
			t.Fatalf("TakeCancels(b) after claiming = %+v, %v", got, err)
		}
		if _, err := db.RequestCancel(ctx, "no-such-run", "x", t0); err == nil {
			t.Fatal("a cancel request for a run that does not exist was stored")
		}
	})
}

// TestCancelsTakenOnce has one replica's goroutines, on separate pools,
// take its cancel requests at once while they are being made: every
// request is taken exactly once.
func TestCancelsTakenOnce(t *testing.T) {
	pgtest.Run(t, func(t *testing.T, url string) {
		ctx := context.Background()
		dbs := replicas(t, url, 3)
		t0 := ms(0)
		const runs = 30
		ids := make([]string, runs)
		for i := range ids {
			ids[i] = newRun(t, dbs[0], "acme/web").ID
			if ok, err := dbs[0].ClaimRun(ctx, ids[i], "a", t0, time.Hour); err != nil || !ok {
				t.Fatalf("claim = %v, %v", ok, err)
			}
		}
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			taken = map[string]int{}
			errs  []error
			done  = make(chan struct{})
		)
		wg.Go(func() {
			defer close(done)
			for i, id := range ids {
				if _, err := dbs[i%3].RequestCancel(ctx, id, fmt.Sprint("reason ", i), t0); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		})
		for g := range 4 {
			wg.Go(func() {
				for finished := false; ; {
					select {
					case <-done:
						finished = true
					default:
					}
					got, err := dbs[g%3].TakeCancels(ctx, "a", t0)
					mu.Lock()
					if err != nil {
						errs = append(errs, err)
					}
					for _, c := range got {
						taken[c.RunID]++
					}
					mu.Unlock()
					// One more pass after the last request was made.
					if finished || err != nil {
						return
					}
				}
			})
		}
		wg.Wait()
		if len(errs) > 0 {
			t.Fatalf("%d errors, first: %v", len(errs), errs[0])
		}
		for _, id := range ids {
			if taken[id] != 1 {
				t.Fatalf("request for %s taken %d times, want once (%d of %d taken)", id, taken[id], len(taken), runs)
			}
		}
	})
}

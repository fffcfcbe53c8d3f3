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

// replicas opens n handles on the database at url, each with its own
// pool, as n replicas (or, on SQLite, processes) would.
func replicas(t *testing.T, url string, n int) []*store.DB {
	t.Helper()
	dbs := make([]*store.DB, n)
	for i := range dbs {
		dbs[i] = openURL(t, url)
	}
	return dbs
}

func TestRunLeases(t *testing.T) {
	pgtest.Run(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := openURL(t, url)
		run := newRun(t, db, "acme/web").ID
		t0 := ms(0)
		const ttl = 30 * time.Second
		claim := func(owner string, at time.Time, want bool) {
			t.Helper()
			if ok, err := db.ClaimRun(ctx, run, owner, at, ttl); err != nil || ok != want {
				t.Fatalf("ClaimRun(%s, %v) = %v, %v; want %v", owner, at.Sub(t0), ok, err, want)
			}
		}
		heartbeat := func(owner string, at time.Time, want bool) {
			t.Helper()
			if ok, err := db.HeartbeatRun(ctx, run, owner, at, ttl); err != nil || ok != want {
				t.Fatalf("HeartbeatRun(%s, %v) = %v, %v; want %v", owner, at.Sub(t0), ok, err, want)
			}
		}
		claim("a", t0, true)
		claim("b", t0.Add(time.Second), false)
		claim("a", t0.Add(time.Second), true) // renewed: until t0+31s
		heartbeat("b", t0.Add(2*time.Second), false)
		heartbeat("a", t0.Add(20*time.Second), true) // until t0+50s
		if l, err := db.RunLease(ctx, run); err != nil || l.Owner != "a" || !l.ExpiresAt.Equal(t0.Add(50*time.Second)) {
			t.Fatalf("RunLease = %+v, %v", l, err)
		}
		if got, err := db.ExpiredLeases(ctx, t0.Add(49*time.Second)); err != nil || len(got) != 0 {
			t.Fatalf("ExpiredLeases before the lapse = %+v, %v", got, err)
		}
		got, err := db.ExpiredLeases(ctx, t0.Add(50*time.Second))
		if err != nil || len(got) != 1 || got[0].RunID != run || got[0].Owner != "a" {
			t.Fatalf("ExpiredLeases at the lapse = %+v, %v", got, err)
		}
		// Lapsed: a's heartbeat comes too late, and b takes over.
		heartbeat("a", t0.Add(50*time.Second), false)
		claim("b", t0.Add(51*time.Second), true)
		heartbeat("a", t0.Add(52*time.Second), false)
		if ok, err := db.ReleaseRun(ctx, run, "a"); err != nil || ok {
			t.Fatalf("ReleaseRun by the old owner = %v, %v", ok, err)
		}
		if l, err := db.LeasesOf(ctx, "b"); err != nil || len(l) != 1 || l[0].RunID != run {
			t.Fatalf("LeasesOf(b) = %+v, %v", l, err)
		}
		if ok, err := db.ReleaseRun(ctx, run, "b"); err != nil || !ok {
			t.Fatalf("ReleaseRun by the owner = %v, %v", ok, err)
		}
		if _, err := db.RunLease(ctx, run); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("RunLease after release = %v", err)
		}
		claim("c", t0.Add(53*time.Second), true)

		if _, err := db.ClaimRun(ctx, "no-such-run", "a", t0, ttl); err == nil {
			t.Fatal("a lease on a run that does not exist was granted")
		}
		if _, err := db.ClaimRun(ctx, run, "", t0, ttl); err == nil {
			t.Fatal("a lease without an owner was granted")
		}
	})
}

// TestRunLeaseContention has replicas claim the same runs at once, from
// several goroutines on separate pools: exactly one wins each run, both
// when the run is new and when its lease has lapsed.
func TestRunLeaseContention(t *testing.T) {
	pgtest.Run(t, func(t *testing.T, url string) {
		ctx := context.Background()
		dbs := replicas(t, url, 3)
		const runs, claimants = 10, 6
		ids := make([]string, runs)
		for i := range ids {
			ids[i] = newRun(t, dbs[0], "acme/web").ID
		}
		t0 := ms(0)
		for round, at := range []time.Time{t0, t0.Add(time.Minute)} { // the second is a takeover
			var (
				wg     sync.WaitGroup
				mu     sync.Mutex
				owners = map[string][]string{}
				errs   []error
			)
			for g := range claimants {
				wg.Go(func() {
					db := dbs[g%len(dbs)]
					owner := fmt.Sprintf("replica-%d-%d", round, g)
					for _, id := range ids {
						ok, err := db.ClaimRun(ctx, id, owner, at, 30*time.Second)
						mu.Lock()
						if err != nil {
							errs = append(errs, err)
						} else if ok {
							owners[id] = append(owners[id], owner)
						}
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			if len(errs) > 0 {
				t.Fatalf("round %d: %d errors, first: %v", round, len(errs), errs[0])
			}
			for _, id := range ids {
				if len(owners[id]) != 1 {
					t.Fatalf("round %d: run %s claimed by %v, want exactly one", round, id, owners[id])
				}
				if l, err := dbs[1].RunLease(ctx, id); err != nil || l.Owner != owners[id][0] {
					t.Fatalf("round %d: lease of %s = %+v, %v; the winner was %s", round, id, l, err, owners[id][0])
				}
			}
		}
	})
}

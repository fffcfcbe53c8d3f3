package store_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stagegate/stagegate/app/store"
	"github.com/stagegate/stagegate/internal/pgtest"
)

func TestDeployLine(t *testing.T) {
	pgtest.Run(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := openURL(t, url)
		t0 := ms(0)
		const repo, env = "acme/web", "production"
		var runs []string
		for i := range 3 {
			id := newRun(t, db, repo).ID
			runs = append(runs, id)
			// r0 and r2 for an hour, r1 for a minute.
			ttl := time.Hour
			if i == 1 {
				ttl = time.Minute
			}
			if ok, err := db.ClaimRun(ctx, id, "replica", t0, ttl); err != nil || !ok {
				t.Fatalf("claim = %v, %v", ok, err)
			}
			if err := db.EnqueueDeploy(ctx, repo, env, id, t0); err != nil {
				t.Fatal(err)
			}
		}
		r0, r1, r2 := runs[0], runs[1], runs[2]
		try := func(run string, at time.Time, want bool) {
			t.Helper()
			if ok, err := db.TryAcquireDeploy(ctx, repo, env, run, at); err != nil || ok != want {
				t.Fatalf("TryAcquireDeploy(run %d) = %v, %v; want %v", slices.Index(runs, run), ok, err, want)
			}
		}
		line := func(at time.Time, want ...string) {
			t.Helper()
			got, err := db.DeployLine(ctx, repo, env, at)
			if err != nil || !slices.Equal(got, want) {
				t.Fatalf("DeployLine = %v, %v; want %v", got, err, want)
			}
			holder, err := db.DeployHolder(ctx, repo, env, at)
			if err != nil || (len(want) > 0 && holder != want[0]) || (len(want) == 0 && holder != "") {
				t.Fatalf("DeployHolder = %q, %v; want the head of %v", holder, err, want)
			}
		}
		line(t0, r0, r1, r2)
		try(r1, t0, false)
		try(r2, t0, false)
		try(r0, t0, true)
		try(r0, t0, true)
		// Enqueueing again keeps the place.
		if err := db.EnqueueDeploy(ctx, repo, env, r0, t0.Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		line(t0, r0, r1, r2)
		// Another environment and another repository have lines of their own.
		if err := db.EnqueueDeploy(ctx, repo, "staging", r2, t0); err != nil {
			t.Fatal(err)
		}
		if ok, err := db.TryAcquireDeploy(ctx, repo, "staging", r2, t0); err != nil || !ok {
			t.Fatalf("TryAcquireDeploy(staging) = %v, %v", ok, err)
		}
		line(t0, r0, r1, r2)

		sub, err := db.Subscribe(ctx, store.DeployChannel)
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Close()
		if ok, err := db.ReleaseDeploy(ctx, repo, env, r0); err != nil || !ok {
			t.Fatalf("ReleaseDeploy = %v, %v", ok, err)
		}
		receive(t, sub, repo+" "+env) // the next in line is woken
		if ok, err := db.ReleaseDeploy(ctx, repo, env, r0); err != nil || ok {
			t.Fatalf("ReleaseDeploy again = %v, %v", ok, err)
		}
		try(r2, t0, false)
		try(r1, t0, true)
		// r1's replica stops renewing its lease: it loses the lock, and r2 gets it.
		lapse := t0.Add(time.Minute)
		line(lapse, r2)
		try(r2, lapse, true)
		if _, err := db.TryAcquireDeploy(ctx, repo, env, r1, lapse); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("TryAcquireDeploy of a lapsed holder = %v; want ErrNotFound (enqueue again)", err)
		}
		// Taken over by another replica, r1 lines up again, at the end.
		if ok, err := db.ClaimRun(ctx, r1, "other", lapse, time.Hour); err != nil || !ok {
			t.Fatalf("takeover = %v, %v", ok, err)
		}
		if err := db.EnqueueDeploy(ctx, repo, env, r1, lapse); err != nil {
			t.Fatal(err)
		}
		line(lapse, r2, r1)
		if _, err := db.TryAcquireDeploy(ctx, repo, env, r0, lapse); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("TryAcquireDeploy of a released run = %v; want ErrNotFound", err)
		}
	})
}

// TestDeployLockAcrossReplicas has runs on several replicas (separate
// pools) line up for one environment at once and each deploy as soon as
// it holds the lock, woken by ReleaseDeploy's notification: no two
// deploys overlap, and they happen in the order the runs lined up.
func TestDeployLockAcrossReplicas(t *testing.T) {
	pgtest.Run(t, func(t *testing.T, url string) {
		ctx := context.Background()
		dbs := replicas(t, url, 3)
		t0 := time.Now()
		const repo, env, runs = "acme/web", "production", 8
		ids := make([]string, runs)
		for i := range ids {
			ids[i] = newRun(t, dbs[0], repo).ID
			if ok, err := dbs[0].ClaimRun(ctx, ids[i], "replica", t0, time.Hour); err != nil || !ok {
				t.Fatalf("claim = %v, %v", ok, err)
			}
		}
		var (
			wg       sync.WaitGroup
			inside   atomic.Int32
			mu       sync.Mutex
			order    []string
			errs     []error
			lined    sync.WaitGroup
			deadline = time.Now().Add(time.Minute)
			fail     = func(err error) { mu.Lock(); errs = append(errs, err); mu.Unlock() }
			linedUp  = make(chan struct{})
			overlaps atomic.Int32
		)
		lined.Add(runs)
		for i, id := range ids {
			wg.Go(func() {
				db := dbs[i%len(dbs)]
				sub, err := db.Subscribe(ctx, store.DeployChannel)
				if err != nil {
					fail(err)
					lined.Done()
					return
				}
				defer sub.Close()
				err = db.EnqueueDeploy(ctx, repo, env, id, t0)
				lined.Done()
				if err != nil {
					fail(err)
					return
				}
				<-linedUp
				for {
					ok, err := db.TryAcquireDeploy(ctx, repo, env, id, time.Now())
					if err != nil {
						fail(err)
						return
					}
					if ok {
						break
					}
					if time.Now().After(deadline) {
						fail(errors.New("no turn before the deadline"))
						return
					}
					// Woken by a release; the timer is for SQLite's
					// handles, whose in-process notifications do not
					// cross to the other handles standing in for
					// replicas here.
					select {
					case <-sub.C:
					case <-time.After(50 * time.Millisecond):
					}
				}
				if inside.Add(1) != 1 {
					overlaps.Add(1)
				}
				mu.Lock()
				order = append(order, id)
				mu.Unlock()
				inside.Add(-1)
				if _, err := db.ReleaseDeploy(ctx, repo, env, id); err != nil {
					fail(err)
				}
			})
		}
		lined.Wait()
		want, err := dbs[0].DeployLine(ctx, repo, env, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		close(linedUp)
		wg.Wait()
		if len(errs) > 0 {
			t.Fatalf("%d errors, first: %v", len(errs), errs[0])
		}
		if overlaps.Load() > 0 {
			t.Fatalf("%d deploys overlapped another", overlaps.Load())
		}
		if len(want) != runs || !slices.Equal(order, want) {
			t.Fatalf("deployed in the order %v, lined up as %v", order, want)
		}
		if line, err := dbs[1].DeployLine(ctx, repo, env, time.Now()); err != nil || len(line) != 0 {
			t.Fatalf("line after every deploy = %v, %v", line, err)
		}
	})
}

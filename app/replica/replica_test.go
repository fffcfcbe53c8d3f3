package replica_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/stagegate/stagegate/app/replica"
	"github.com/stagegate/stagegate/app/store"
	"github.com/stagegate/stagegate/internal/pgtest"
)

// Short leases, so that takeovers happen within a test's patience.
const (
	ttl  = 400 * time.Millisecond
	beat = 100 * time.Millisecond
)

// handles opens the database twice on Postgres, as two replicas do. On
// SQLite, whose notifications stay within one handle and which has one
// process, the two replicas share a handle.
func handles(t *testing.T, url string) (a, b *store.DB) {
	t.Helper()
	open := func() *store.DB {
		db, err := store.Open(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		if err := db.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		return db
	}
	a = open()
	if strings.HasPrefix(url, "sqlite") {
		return a, a
	}
	return a, open()
}

func newRun(t *testing.T, db *store.DB, status store.Status) store.Run {
	t.Helper()
	ctx := context.Background()
	r, err := db.CreateRun(ctx, store.Run{Repo: "acme/web", SHA: "sha", Event: "push", Branch: "main"})
	if err != nil {
		t.Fatal(err)
	}
	if status == store.StatusInProgress {
		if ok, err := db.StartRun(ctx, r.ID); err != nil || !ok {
			t.Fatalf("start run = %v, %v", ok, err)
		}
	}
	return r
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// causes records the causes a run was stopped with.
type causes struct {
	mu  sync.Mutex
	got []error
}

func (c *causes) stop(err error) { c.mu.Lock(); c.got = append(c.got, err); c.mu.Unlock() }
func (c *causes) all() []error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]error(nil), c.got...)
}

func start(t *testing.T, r *replica.Replica) {
	t.Helper()
	r.Start(context.Background())
	t.Cleanup(r.Close)
}

// TestTakeOverDeadReplica: replica A holds an executing run and stops
// renewing its lease without a word (killed). B takes the run over once,
// within TTL and a heartbeat, and no third claim succeeds meanwhile;
// when A comes back it finds its lease lost and stops the run.
func TestTakeOverDeadReplica(t *testing.T) {
	pgtest.Run(t, func(t *testing.T, url string) {
		ctx := context.Background()
		dbA, dbB := handles(t, url)
		run := newRun(t, dbA, store.StatusInProgress)
		var stopped causes
		a := replica.New(replica.Options{DB: dbA, Log: zerolog.Nop(), TTL: ttl, Beat: beat,
			Recover: func(context.Context, store.Run) error { t.Error("A recovered its own run"); return nil }})
		if err := a.Hold(ctx, run.ID, stopped.stop); err != nil {
			t.Fatal(err)
		}
		// A never starts heartbeats: it is dead.
		var recovered atomic.Int32
		b := replica.New(replica.Options{DB: dbB, Log: zerolog.Nop(), TTL: ttl, Beat: beat,
			Recover: func(ctx context.Context, r store.Run) error {
				if r.ID != run.ID {
					t.Errorf("recovered %s, want %s", r.ID, run.ID)
				}
				recovered.Add(1)
				// As the App's recovery does: the run ends.
				return dbB.FinishRun(ctx, r.ID, "cancelled", "taken over")
			}})
		if err := b.Hold(ctx, run.ID, func(error) {}); !errors.Is(err, replica.ErrHeldElsewhere) {
			t.Fatalf("B holding A's live lease: %v, want ErrHeldElsewhere", err)
		}
		start(t, b)
		waitFor(t, "B takes the run over", func() bool { return recovered.Load() == 1 })
		// A wakes up: its heartbeat finds the lease gone and stops the run.
		start(t, a)
		waitFor(t, "A stops the run", func() bool { return len(stopped.all()) == 1 })
		if got := stopped.all()[0]; !errors.Is(got, replica.ErrLeaseLost) {
			t.Errorf("A stopped its run with %v, want ErrLeaseLost", got)
		}
		time.Sleep(ttl + 2*beat)
		if n := recovered.Load(); n != 1 {
			t.Errorf("run recovered %d times, want once", n)
		}
	})
}

// TestRunsOfALiveReplicaStayItsOwn: a replica starting beside a live one
// recovers none of its runs, at start or later.
func TestRunsOfALiveReplicaStayItsOwn(t *testing.T) {
	pgtest.Run(t, func(t *testing.T, url string) {
		ctx := context.Background()
		dbA, dbB := handles(t, url)
		run := newRun(t, dbA, store.StatusInProgress)
		// A lease that outlives a loaded machine's pauses many times over.
		const ttl = 3 * time.Second
		a := replica.New(replica.Options{DB: dbA, Log: zerolog.Nop(), TTL: ttl, Beat: beat})
		if err := a.Hold(ctx, run.ID, func(error) {}); err != nil {
			t.Fatal(err)
		}
		start(t, a)
		b := replica.New(replica.Options{DB: dbB, Log: zerolog.Nop(), TTL: ttl, Beat: beat,
			Recover: func(context.Context, store.Run) error { t.Error("B recovered A's live run"); return nil }})
		if n, err := b.RecoverOrphans(ctx); err != nil || n != 0 {
			t.Fatalf("RecoverOrphans = %d, %v; want 0", n, err)
		}
		start(t, b)
		time.Sleep(ttl + 5*beat)
		if l, err := dbB.RunLease(ctx, run.ID); err != nil || l.Owner != a.Owner() {
			t.Errorf("lease = %+v, %v; want A's", l, err)
		}
	})
}

// TestCancelReachesTheOwner: a cancel asked on B stops the run executing
// on A, with the reason, through the notification; one asked before A
// holds the run reaches it when A claims it.
func TestCancelReachesTheOwner(t *testing.T) {
	pgtest.Run(t, func(t *testing.T, url string) {
		ctx := context.Background()
		dbA, dbB := handles(t, url)
		cancelled := func(reason string) error { return errors.New("cancelled: " + reason) }
		a := replica.New(replica.Options{DB: dbA, Log: zerolog.Nop(), TTL: time.Minute, Beat: time.Minute, Cancelled: cancelled})
		b := replica.New(replica.Options{DB: dbB, Log: zerolog.Nop(), TTL: time.Minute, Beat: time.Minute, Cancelled: cancelled})
		// Heartbeats every minute: only the notification can be fast.
		start(t, a)
		start(t, b)
		run := newRun(t, dbA, store.StatusQueued)
		var stopped causes
		if err := a.Hold(ctx, run.ID, stopped.stop); err != nil {
			t.Fatal(err)
		}
		here, err := b.RequestCancel(ctx, run.ID, errors.New("cancelled by @octocat"))
		if err != nil || here {
			t.Fatalf("RequestCancel on B = %v, %v; want false (it runs on A)", here, err)
		}
		waitFor(t, "A stops the run", func() bool { return len(stopped.all()) > 0 })
		if got := stopped.all(); len(got) != 1 || got[0].Error() != "cancelled: cancelled by @octocat" {
			t.Errorf("causes = %v", got)
		}

		early := newRun(t, dbA, store.StatusQueued)
		if _, err := b.RequestCancel(ctx, early.ID, errors.New("superseded")); err != nil {
			t.Fatal(err)
		}
		var stoppedEarly causes
		if err := a.Hold(ctx, early.ID, stoppedEarly.stop); err != nil {
			t.Fatal(err)
		}
		if got := stoppedEarly.all(); len(got) != 1 || got[0].Error() != "cancelled: superseded" {
			t.Errorf("a run cancelled before it was held: causes %v", got)
		}
	})
}

// TestEnvironmentLineAcrossReplicas: deploys from A and B to one
// environment never overlap, and go in the order they lined up.
func TestEnvironmentLineAcrossReplicas(t *testing.T) {
	pgtest.Run(t, func(t *testing.T, url string) {
		ctx := context.Background()
		dbA, dbB := handles(t, url)
		rs := []*replica.Replica{
			replica.New(replica.Options{DB: dbA, Log: zerolog.Nop()}),
			replica.New(replica.Options{DB: dbB, Log: zerolog.Nop()}),
		}
		for _, r := range rs {
			start(t, r)
		}
		const n = 8
		var (
			inside, overlaps atomic.Int32
			mu               sync.Mutex
			order, lined     []string
			wg               sync.WaitGroup
		)
		first := make(chan struct{})
		// The first run holds the environment while the others line up
		// one after the other, so the order they lined up in is known.
		for i := range n {
			r := rs[i%2]
			run := newRun(t, dbA, store.StatusInProgress)
			if err := r.Hold(ctx, run.ID, func(error) {}); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			lined = append(lined, run.ID)
			mu.Unlock()
			queued := make(chan struct{})
			wg.Go(func() {
				if i > 0 {
					go func() { time.Sleep(50 * time.Millisecond); close(queued) }()
				}
				release, err := r.AcquireEnvironment(ctx, "acme/web", "production", run.ID)
				if i == 0 {
					close(queued)
				}
				if err != nil {
					t.Error(err)
					return
				}
				if inside.Add(1) != 1 {
					overlaps.Add(1)
				}
				if holder := rs[(i+1)%2].EnvironmentHolder(ctx, "acme/web", "production"); holder != run.ID {
					t.Errorf("the other replica sees %q holding, want %s", holder, run.ID)
				}
				mu.Lock()
				order = append(order, run.ID)
				mu.Unlock()
				if i == 0 {
					<-first
				}
				time.Sleep(5 * time.Millisecond)
				inside.Add(-1)
				release()
			})
			<-queued
		}
		close(first)
		wg.Wait()
		if overlaps.Load() != 0 {
			t.Errorf("%d deploys overlapped", overlaps.Load())
		}
		if strings.Join(order, ",") != strings.Join(lined, ",") {
			t.Errorf("deploy order\n %v\nwant the order they lined up in\n %v", order, lined)
		}
	})
}

// TestWakeGatesAcrossReplicas: a commit's change seen on B wakes the
// gates watching it on A.
func TestWakeGatesAcrossReplicas(t *testing.T) {
	pgtest.Run(t, func(t *testing.T, url string) {
		dbA, dbB := handles(t, url)
		woke := make(chan string, 4)
		a := replica.New(replica.Options{DB: dbA, Log: zerolog.Nop(), Wake: func(repo, sha string) { woke <- repo + "@" + sha }})
		b := replica.New(replica.Options{DB: dbB, Log: zerolog.Nop()})
		start(t, a)
		start(t, b)
		// The subscription may not be listening yet: wake until heard.
		deadline := time.Now().Add(20 * time.Second)
		for {
			b.WakeGates(context.Background(), "acme/web", "abc123")
			select {
			case got := <-woke:
				if got != "acme/web@abc123" {
					t.Fatalf("woke %q", got)
				}
				return
			case <-time.After(100 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				t.Fatal("A's gates were never woken")
			}
		}
	})
}

// TestOneReplicaLeads: one replica at a time holds a role; when its
// holder stops renewing, another takes it after the ttl, and a resigned
// role is free at once.
func TestOneReplicaLeads(t *testing.T) {
	pgtest.Run(t, func(t *testing.T, url string) {
		ctx := context.Background()
		dbA, dbB := handles(t, url)
		a := replica.New(replica.Options{DB: dbA, Log: zerolog.Nop()})
		b := replica.New(replica.Options{DB: dbB, Log: zerolog.Nop()})
		const role, roleTTL = "housekeeping", 300 * time.Millisecond
		if !a.Lead(ctx, role, roleTTL) {
			t.Fatal("A could not take a free role")
		}
		if b.Lead(ctx, role, roleTTL) {
			t.Fatal("B took a role A holds")
		}
		if !a.Lead(ctx, role, roleTTL) {
			t.Fatal("A could not renew its role")
		}
		waitFor(t, "B takes the lapsed role", func() bool { return b.Lead(ctx, role, roleTTL) })
		if a.Lead(ctx, role, roleTTL) {
			t.Fatal("A took back a role B holds")
		}
		b.Resign(ctx, role)
		if !a.Lead(ctx, role, roleTTL) {
			t.Fatal("A could not take a resigned role")
		}
	})
}

// TestLateHeartbeatKeepsAnUntakenRun: a heartbeat that comes after the
// lease lapsed (a busy database), with no other replica having taken the
// run, claims it again instead of stopping a run nobody else works.
func TestLateHeartbeatKeepsAnUntakenRun(t *testing.T) {
	pgtest.Run(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db, _ := handles(t, url)
		run := newRun(t, db, store.StatusInProgress)
		var stopped causes
		a := replica.New(replica.Options{DB: db, Log: zerolog.Nop(), TTL: ttl, Beat: beat})
		if err := a.Hold(ctx, run.ID, stopped.stop); err != nil {
			t.Fatal(err)
		}
		time.Sleep(ttl + beat) // lapsed
		start(t, a)
		waitFor(t, "the lease claimed again", func() bool {
			l, err := db.RunLease(ctx, run.ID)
			return err == nil && l.Owner == a.Owner() && l.ExpiresAt.After(time.Now())
		})
		if got := stopped.all(); len(got) != 0 {
			t.Errorf("run stopped with %v; nobody else had it", got)
		}
	})
}

// TestASecondJobDoesNotTakeTheRun: a second job for a run executing here
// (a run's job queued again at start) is refused, and the lease stays.
func TestASecondJobDoesNotTakeTheRun(t *testing.T) {
	pgtest.Run(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db, _ := handles(t, url)
		run := newRun(t, db, store.StatusQueued)
		a := replica.New(replica.Options{DB: db, Log: zerolog.Nop()})
		if err := a.Hold(ctx, run.ID, func(error) {}); err != nil {
			t.Fatal(err)
		}
		if err := a.Hold(ctx, run.ID, func(error) {}); !errors.Is(err, replica.ErrHeldElsewhere) {
			t.Fatalf("second Hold = %v, want ErrHeldElsewhere", err)
		}
		if l, err := db.RunLease(ctx, run.ID); err != nil || l.Owner != a.Owner() {
			t.Errorf("lease after the second Hold: %+v, %v", l, err)
		}
	})
}

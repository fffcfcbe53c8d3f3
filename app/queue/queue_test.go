package queue_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/stagegate/stagegate/app/queue"
	"github.com/stagegate/stagegate/app/store"
	"github.com/stagegate/stagegate/internal/pgtest"
)

type testArgs struct {
	Name string `json:"name"`
}

func (testArgs) Kind() string { return "test" }

func (testArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: queue.Deliveries} }

// testWorker reports each job it starts, then does what work says.
type testWorker struct {
	river.WorkerDefaults[testArgs]
	started chan string
	work    func(ctx context.Context) error
}

func (w *testWorker) Work(ctx context.Context, job *river.Job[testArgs]) error {
	w.started <- job.Args.Name
	if w.work != nil {
		return w.work(ctx)
	}
	return nil
}

func openDB(t testing.TB) *store.DB {
	t.Helper()
	return openURL(t, pgtest.SQLiteURL(t))
}

// openURL opens and migrates the database at url (see pgtest.Run).
func openURL(t testing.TB, url string) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}

// startQueue starts a queue working jobs with w, stopped at the end of
// the test (before the database closes: cleanups run last first).
func startQueue(t *testing.T, db *store.DB, w *testWorker) *queue.Queue {
	t.Helper()
	workers := river.NewWorkers()
	river.AddWorker(workers, w)
	q, err := queue.New(db, workers, queue.Config{TestOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = q.Stop(ctx)
	})
	return q
}

func waitFor(t *testing.T, ch <-chan string, want string) {
	t.Helper()
	select {
	case got := <-ch:
		if got != want {
			t.Fatalf("job %q ran, want %q", got, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("job %q did not run", want)
	}
}

func TestJobRunsOnlyIfTxCommits(t *testing.T) {
	pgtest.Run(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := openURL(t, url)
		w := &testWorker{started: make(chan string, 10)}
		q := startQueue(t, db, w)

		insert := func(guid string, fail error) error {
			return db.WithTx(ctx, func(tx *sql.Tx) error {
				if _, err := db.InsertDelivery(ctx, tx, store.Delivery{GUID: guid, Event: "push"}); err != nil {
					return err
				}
				if _, err := q.InsertTx(ctx, tx, testArgs{Name: guid}, nil); err != nil {
					return err
				}
				return fail
			})
		}
		rollback := errors.New("rollback")
		if err := insert("rolled-back", rollback); !errors.Is(err, rollback) {
			t.Fatal(err)
		}
		if err := insert("committed", nil); err != nil {
			t.Fatal(err)
		}
		waitFor(t, w.started, "committed")

		// Nothing of the rolled back transaction remains to run later.
		var n int
		if err := db.SQL().QueryRowContext(ctx,
			`SELECT COUNT(*) FROM river_job WHERE kind = 'test' AND CAST(args AS TEXT) LIKE '%rolled-back%'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("%d jobs of the rolled back transaction stored", n)
		}
		known, err := db.KnownDeliveryGUIDs(ctx, []string{"rolled-back", "committed"})
		if err != nil || known["rolled-back"] || !known["committed"] {
			t.Fatalf("deliveries: %v, %v", known, err)
		}

		// And Insert outside a transaction runs too.
		if _, err := q.Insert(ctx, testArgs{Name: "plain"}, nil); err != nil {
			t.Fatal(err)
		}
		waitFor(t, w.started, "plain")
		select {
		case name := <-w.started:
			t.Fatalf("unexpected job %q ran", name)
		case <-time.After(200 * time.Millisecond):
		}
	})
}

func TestStopWaitsForRunningJob(t *testing.T) {
	pgtest.Run(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := openURL(t, url)
		release := make(chan struct{})
		finished := make(chan error, 1)
		w := &testWorker{started: make(chan string, 1), work: func(ctx context.Context) error {
			select {
			case <-release:
				finished <- nil
			case <-ctx.Done():
				finished <- ctx.Err()
			}
			return nil
		}}
		q := startQueue(t, db, w)
		if _, err := q.Insert(ctx, testArgs{Name: "slow"}, nil); err != nil {
			t.Fatal(err)
		}
		waitFor(t, w.started, "slow")

		stopped := make(chan error, 1)
		go func() {
			sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			stopped <- q.Stop(sctx)
		}()
		select {
		case err := <-stopped:
			t.Fatalf("Stop returned %v while the job was running", err)
		case <-time.After(300 * time.Millisecond):
		}
		close(release)
		if err := <-stopped; err != nil {
			t.Fatalf("Stop = %v", err)
		}
		if err := <-finished; err != nil {
			t.Fatalf("the job's context ended: %v", err)
		}
	})
}

func TestStopCancelsJobsWhenCtxEnds(t *testing.T) {
	pgtest.Run(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := openURL(t, url)
		cancelled := make(chan struct{})
		w := &testWorker{started: make(chan string, 1), work: func(ctx context.Context) error {
			<-ctx.Done()
			close(cancelled)
			return ctx.Err()
		}}
		q := startQueue(t, db, w)
		if _, err := q.Insert(ctx, testArgs{Name: "stubborn"}, nil); err != nil {
			t.Fatal(err)
		}
		waitFor(t, w.started, "stubborn")

		sctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		err := q.Stop(sctx)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Stop = %v, want the deadline", err)
		}
		select {
		case <-cancelled:
		default:
			t.Fatal("Stop returned before the job saw its context cancelled")
		}
	})
}

func TestDepth(t *testing.T) {
	pgtest.Run(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := openURL(t, url)
		// No workers: nothing runs, so what is inserted stays available.
		q, err := queue.New(db, nil, queue.Config{Queues: map[string]int{"checks": 1}})
		if err != nil {
			t.Fatal(err)
		}
		for _, queueName := range []string{queue.Deliveries, queue.Deliveries, queue.Deliveries, queue.Runs} {
			if _, err := q.Insert(ctx, testArgs{}, &river.InsertOpts{Queue: queueName}); err != nil {
				t.Fatal(err)
			}
		}
		depth, err := q.Depth(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int{queue.Deliveries: 3, queue.Runs: 1, queue.Default: 0, "checks": 0}
		if len(depth) != len(want) {
			t.Fatalf("Depth = %v, want %v", depth, want)
		}
		for name, n := range want {
			if depth[name] != n {
				t.Fatalf("Depth = %v, want %v", depth, want)
			}
		}
		if err := q.Start(ctx); err == nil {
			t.Fatal("Start without workers succeeded")
		}
	})
}

func TestNewRejectsBadConfig(t *testing.T) {
	pgtest.Run(t, func(t *testing.T, url string) {
		db := openURL(t, url)
		workers := river.NewWorkers()
		river.AddWorker(workers, &testWorker{})
		if _, err := queue.New(db, workers, queue.Config{Queues: map[string]int{"checks": 0}}); err == nil {
			t.Fatal("a queue with no workers accepted")
		}
	})
}

func TestInsertManyTx(t *testing.T) {
	pgtest.Run(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := openURL(t, url)
		w := &testWorker{started: make(chan string, 10)}
		q := startQueue(t, db, w)
		names := []string{"one", "two", "three"}
		err := db.WithTx(ctx, func(tx *sql.Tx) error {
			args := make([]river.JobArgs, len(names))
			for i, n := range names {
				args[i] = testArgs{Name: n}
			}
			return q.InsertManyTx(ctx, tx, args)
		})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for range names {
			select {
			case n := <-w.started:
				seen[n] = true
			case <-time.After(10 * time.Second):
				t.Fatalf("only %v ran", seen)
			}
		}
		for _, n := range names {
			if !seen[n] {
				t.Fatalf("%s did not run: %v", n, seen)
			}
		}
	})
}

// TestPostgresInsertWakesWorkers has the queue poll once a minute: a job
// inserted by another replica runs well before that, woken by River's
// LISTEN/NOTIFY through the pgx listener.
func TestPostgresInsertWakesWorkers(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	db := openURL(t, url)
	other, err := queue.New(openURL(t, url), nil, queue.Config{})
	if err != nil {
		t.Fatal(err)
	}
	w := &testWorker{started: make(chan string, 100)}
	workers := river.NewWorkers()
	river.AddWorker(workers, w)
	q, err := queue.New(db, workers, queue.Config{TestOnly: true, FetchPollInterval: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = q.Stop(sctx)
	})
	// River starts listening shortly after Start; an insert before that
	// is not announced, so insert until one is.
	deadline := time.After(20 * time.Second)
	tick := time.NewTicker(300 * time.Millisecond)
	defer tick.Stop()
	for {
		if _, err := other.Insert(ctx, testArgs{Name: "woken"}, nil); err != nil {
			t.Fatal(err)
		}
		select {
		case <-w.started:
			return
		case <-tick.C:
		case <-deadline:
			t.Fatal("no job ran within 20s although each insert notifies; the poll is once a minute")
		}
	}
}

package store_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stagegate/stagegate/app/store"
	"github.com/stagegate/stagegate/internal/pgtest"
)

func receive(t *testing.T, sub *store.Subscription, want string) {
	t.Helper()
	select {
	case got, ok := <-sub.C:
		if !ok || got != want {
			t.Fatalf("received %q (open %v), want %q", got, ok, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("%q not received", want)
	}
}

// nothingPending checks that nothing was received, after a notification
// sent since on the same path arrived: Postgres delivers one session's
// notifications in order.
func nothingPending(t *testing.T, db *store.DB, sub *store.Subscription, channel string) {
	t.Helper()
	if err := db.Notify(context.Background(), channel, "marker"); err != nil {
		t.Fatal(err)
	}
	receive(t, sub, "marker")
}

func TestNotify(t *testing.T) {
	pgtest.Run(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := openURL(t, url)
		sub, err := db.Subscribe(ctx, "deploys")
		if err != nil {
			t.Fatal(err)
		}
		other, err := db.Subscribe(ctx, "other")
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Notify(ctx, "deploys", "acme/web production"); err != nil {
			t.Fatal(err)
		}
		receive(t, sub, "acme/web production")
		nothingPending(t, db, other, "other")

		// Committed with its transaction.
		if err := db.WithTx(ctx, func(tx *sql.Tx) error { return db.InTx(tx).Notify(ctx, "deploys", "in tx") }); err != nil {
			t.Fatal(err)
		}
		receive(t, sub, "in tx")
		if db.Dialect() == "postgres" {
			// Rolled back, it is never sent.
			boom := errors.New("boom")
			if err := db.WithTx(ctx, func(tx *sql.Tx) error {
				if err := db.InTx(tx).Notify(ctx, "deploys", "rolled back"); err != nil {
					return err
				}
				return boom
			}); !errors.Is(err, boom) {
				t.Fatal(err)
			}
			nothingPending(t, db, sub, "deploys")

			// Another replica's notification arrives too.
			replica := openURL(t, url)
			if err := replica.Notify(ctx, "deploys", "from another replica"); err != nil {
				t.Fatal(err)
			}
			receive(t, sub, "from another replica")
		}

		for _, bad := range []struct{ channel, payload string }{
			{"", "x"}, {strings.Repeat("c", 64), "x"}, {"deploys", strings.Repeat("p", 8000)},
		} {
			if err := db.Notify(ctx, bad.channel, bad.payload); err == nil {
				t.Errorf("Notify(%d-byte channel, %d-byte payload) accepted", len(bad.channel), len(bad.payload))
			}
		}

		// Close ends the subscription: C closes and nothing more is sent to it.
		sub.Close()
		if _, ok := <-sub.C; ok {
			t.Fatal("C still open after Close")
		}
		if err := sub.Err(); err != nil {
			t.Fatalf("Err after Close = %v", err)
		}
		if err := db.Notify(ctx, "deploys", "after close"); err != nil {
			t.Fatal(err)
		}
		// And so does the end of its context.
		cctx, cancel := context.WithCancel(ctx)
		s2, err := db.Subscribe(cctx, "deploys")
		if err != nil {
			t.Fatal(err)
		}
		cancel()
		select {
		case _, ok := <-s2.C:
			for ok {
				_, ok = <-s2.C
			}
		case <-time.After(10 * time.Second):
			t.Fatal("C still open after the context ended")
		}
		other.Close()
	})
}

// TestSubscriptionEndsWhenTheConnectionDies has the server end the
// listening connection: C closes and Err says why, so that the owner
// subscribes again and looks at the state.
func TestSubscriptionEndsWhenTheConnectionDies(t *testing.T) {
	url := pgtest.URL(t)
	ctx := context.Background()
	db := openURL(t, url)
	sub, err := db.Subscribe(ctx, "deploys")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if _, err := db.SQL().ExecContext(ctx,
		`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND datname = current_database()`); err != nil {
		t.Fatal(err)
	}
	select {
	case _, ok := <-sub.C:
		for ok {
			_, ok = <-sub.C
		}
	case <-time.After(10 * time.Second):
		t.Fatal("C still open after the connection died")
	}
	if sub.Err() == nil {
		t.Fatal("Err is nil after the connection died")
	}
}

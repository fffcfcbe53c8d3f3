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

func TestDeliveryDedupeSurvivesRestart(t *testing.T) {
	pgtest.Run(t, func(t *testing.T, url string) {
		ctx := context.Background()
		d := store.Delivery{
			GUID: "72d3162e-cc78-11e3-81ab-4c9367dc0958", Event: "push", InstallationID: 7,
			Repo: "octo/hello", Payload: []byte(`{"ref":"refs/heads/main"}`),
			ReceivedAt: time.UnixMilli(1_700_000_000_123).UTC(),
		}

		db := openURL(t, url)
		if ok, err := db.InsertDelivery(ctx, nil, d); err != nil || !ok {
			t.Fatalf("first insert = %v, %v", ok, err)
		}
		if ok, err := db.InsertDelivery(ctx, nil, d); err != nil || ok {
			t.Fatalf("second insert = %v, %v; want a duplicate", ok, err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}

		db = openURL(t, url)
		if ok, err := db.InsertDelivery(ctx, nil, d); err != nil || ok {
			t.Fatalf("insert after restart = %v, %v; want a duplicate", ok, err)
		}
		got, err := db.GetDelivery(ctx, d.GUID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Event != d.Event || got.Repo != d.Repo || got.InstallationID != 7 ||
			string(got.Payload) != string(d.Payload) || !got.ReceivedAt.Equal(d.ReceivedAt) || !got.ProcessedAt.IsZero() {
			t.Fatalf("GetDelivery = %+v", got)
		}

		if err := db.MarkDeliveryProcessed(ctx, d.GUID, "run 1"); err != nil {
			t.Fatal(err)
		}
		got, _ = db.GetDelivery(ctx, d.GUID)
		if got.Result != "run 1" || got.ProcessedAt.IsZero() {
			t.Fatalf("after MarkDeliveryProcessed: %+v", got)
		}
		if err := db.MarkDeliveryProcessed(ctx, "nope", "x"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("MarkDeliveryProcessed(unknown) = %v", err)
		}
		if _, err := db.GetDelivery(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("GetDelivery(unknown) = %v", err)
		}
	})
}

func TestKnownDeliveryGUIDs(t *testing.T) {
	pgtest.Run(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := openURL(t, url)
		var ask []string
		for i := range 1200 { // more than one batch
			g := fmt.Sprintf("g%04d", i)
			ask = append(ask, g)
			if i%3 == 0 {
				if _, err := db.InsertDelivery(ctx, nil, store.Delivery{GUID: g, Event: "push"}); err != nil {
					t.Fatal(err)
				}
			}
		}
		known, err := db.KnownDeliveryGUIDs(ctx, ask)
		if err != nil {
			t.Fatal(err)
		}
		if len(known) != 400 {
			t.Fatalf("%d known, want 400", len(known))
		}
		for i, g := range ask {
			if known[g] != (i%3 == 0) {
				t.Fatalf("known[%s] = %v", g, known[g])
			}
		}
		if known, err := db.KnownDeliveryGUIDs(ctx, nil); err != nil || len(known) != 0 {
			t.Fatalf("KnownDeliveryGUIDs(nil) = %v, %v", known, err)
		}
	})
}

func TestPruneDeliveries(t *testing.T) {
	pgtest.Run(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := openURL(t, url)
		old := time.Now().Add(-10 * 24 * time.Hour)
		for _, d := range []store.Delivery{
			{GUID: "old-done", Event: "push", ReceivedAt: old},
			{GUID: "old-pending", Event: "push", ReceivedAt: old},
			{GUID: "new-done", Event: "push"},
		} {
			if _, err := db.InsertDelivery(ctx, nil, d); err != nil {
				t.Fatal(err)
			}
		}
		for _, g := range []string{"old-done", "new-done"} {
			if err := db.MarkDeliveryProcessed(ctx, g, "ok"); err != nil {
				t.Fatal(err)
			}
		}
		n, err := db.PruneDeliveries(ctx, time.Now().Add(-7*24*time.Hour))
		if err != nil || n != 1 {
			t.Fatalf("PruneDeliveries = %d, %v; want 1", n, err)
		}
		known, _ := db.KnownDeliveryGUIDs(ctx, []string{"old-done", "old-pending", "new-done"})
		if known["old-done"] || !known["old-pending"] || !known["new-done"] {
			t.Fatalf("after prune: %v", known)
		}
	})
}

// TestConcurrentDeliveries inserts from 8 goroutines at once, each
// delivery sent twice as GitHub's redeliveries would: no SQLITE_BUSY and
// exactly one insert per GUID. The second handle on the same file stands
// for another process (the CLI), which busy_timeout and BEGIN IMMEDIATE
// must make wait rather than fail.
func TestConcurrentDeliveries(t *testing.T) {
	pgtest.Run(t, func(t *testing.T, url string) {
		ctx := context.Background()
		dbs := []*store.DB{openURL(t, url), openURL(t, url)}
		const goroutines, perG = 8, 100
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			inserted = map[string]int{}
			errs     []error
		)
		for g := range goroutines {
			wg.Go(func() {
				db := dbs[g%len(dbs)]
				for i := range perG {
					// Goroutine pairs share GUIDs, so duplicates race.
					guid := fmt.Sprintf("d-%d-%d", g/2, i)
					ok, err := db.InsertDelivery(ctx, nil, store.Delivery{GUID: guid, Event: "push", Payload: []byte(`{}`)})
					mu.Lock()
					if err != nil {
						errs = append(errs, err)
					} else if ok {
						inserted[guid]++
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(errs) > 0 {
			t.Fatalf("%d errors, first: %v", len(errs), errs[0])
		}
		if want := goroutines / 2 * perG; len(inserted) != want {
			t.Fatalf("%d GUIDs inserted, want %d", len(inserted), want)
		}
		for g, n := range inserted {
			if n != 1 {
				t.Fatalf("%s inserted %d times", g, n)
			}
		}
	})
}

func TestInstallations(t *testing.T) {
	pgtest.Run(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := openURL(t, url)
		if _, err := db.InstallationActive(ctx, 1); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown installation: %v", err)
		}
		// Repositories can be added before the installation event arrives.
		if err := db.AddInstallationRepos(ctx, 1, []string{"acme/web", "acme/api"}); err != nil {
			t.Fatal(err)
		}
		if err := db.UpsertInstallation(ctx, store.Installation{ID: 1, AccountLogin: "acme", AccountType: "Organization"}); err != nil {
			t.Fatal(err)
		}
		if err := db.UpsertInstallation(ctx, store.Installation{ID: 2, AccountLogin: "bob", AccountType: "User", Suspended: true}); err != nil {
			t.Fatal(err)
		}
		for id, want := range map[int64]bool{1: true, 2: false} {
			if got, err := db.InstallationActive(ctx, id); err != nil || got != want {
				t.Errorf("InstallationActive(%d) = %v, %v", id, got, err)
			}
		}
		if err := db.UpsertInstallation(ctx, store.Installation{ID: 1, AccountLogin: "acme", AccountType: "Organization", Deleted: true}); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.InstallationActive(ctx, 1); got {
			t.Error("deleted installation is active")
		}
		// A listing read before the deletion was stored does not undo it.
		stale := store.Installation{ID: 1, AccountLogin: "acme", AccountType: "Organization", UpdatedAt: time.Now().Add(-time.Minute)}
		if err := db.UpsertInstallation(ctx, stale); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.InstallationActive(ctx, 1); got {
			t.Error("an older listing undid the deletion")
		}

		if err := db.AddInstallationRepos(ctx, 1, []string{"acme/web", "acme/cli"}); err != nil {
			t.Fatal(err)
		}
		if err := db.RemoveInstallationRepos(ctx, 1, []string{"acme/api", "acme/never"}); err != nil {
			t.Fatal(err)
		}
		repos, err := db.InstallationRepos(ctx, 1)
		if err != nil || fmt.Sprint(repos) != "[acme/cli acme/web]" {
			t.Fatalf("InstallationRepos = %v, %v", repos, err)
		}
		all, err := db.Installations(ctx)
		if err != nil || len(all) != 2 || all[0].AccountLogin != "acme" || !all[0].Deleted || !all[1].Suspended || all[1].UpdatedAt.IsZero() {
			t.Fatalf("Installations = %+v, %v", all, err)
		}
	})
}

package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stagegate/stagegate/app/store"
	"github.com/stagegate/stagegate/internal/pgtest"
)

func TestRememberBody(t *testing.T) {
	pgtest.Run(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := openURL(t, url)
		t0 := time.UnixMilli(1_700_000_000_000).UTC()
		for _, step := range []struct {
			name      string
			hash      string
			guid      string
			at        time.Time
			wantFirst string
		}{
			{"a new body", "h1", "g1", t0, ""},
			{"the same delivery again", "h1", "g1", t0.Add(time.Minute), ""},
			{"the same body under another GUID", "h1", "g2", t0.Add(time.Hour), "g1"},
			{"just inside the window", "h1", "g3", t0.Add(time.Minute + store.ReplayWindow - time.Millisecond), "g1"},
			{"another body", "h2", "g4", t0.Add(time.Hour), ""},
			// g1 was seen again at t0+1m, so the window runs from there.
			{"after the window", "h1", "g5", t0.Add(time.Minute + store.ReplayWindow), ""},
			{"the newest sighting counts", "h1", "g6", t0.Add(2 * store.ReplayWindow), "g5"},
		} {
			first, err := db.RememberBody(ctx, nil, step.hash, step.guid, step.at)
			if err != nil || first != step.wantFirst {
				t.Fatalf("%s: RememberBody = %q, %v; want %q", step.name, first, err, step.wantFirst)
			}
		}
		n, err := db.PruneDeliveryBodies(ctx, t0.Add(2*time.Hour))
		if err != nil || n != 1 { // h2; h1 was last seen later
			t.Fatalf("prune = %d, %v", n, err)
		}
		if first, err := db.RememberBody(ctx, nil, "h2", "g7", t0.Add(3*time.Hour)); err != nil || first != "" {
			t.Fatalf("a pruned body = %q, %v; want it new", first, err)
		}
	})
}

func TestPullHeads(t *testing.T) {
	pgtest.Run(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := openURL(t, url)
		t0 := time.UnixMilli(1_700_000_000_000).UTC()
		for _, h := range []store.PullHead{
			{Repo: "acme/web", PR: 1, SHA: "b", At: t0.Add(time.Second)},
			{Repo: "acme/web", PR: 1, SHA: "a", At: t0},
			{Repo: "acme/web", PR: 1, SHA: "a", At: t0}, // a redelivery
			{Repo: "acme/web", PR: 2, SHA: "c", At: t0},
			{Repo: "acme/api", PR: 1, SHA: "d", At: t0},
		} {
			if err := db.RecordPullHead(ctx, nil, h); err != nil {
				t.Fatal(err)
			}
		}
		got, err := db.PullHeads(ctx, "acme/web", 1)
		if err != nil || len(got) != 2 || got[0].SHA != "a" || !got[0].At.Equal(t0) || got[1].SHA != "b" {
			t.Fatalf("PullHeads = %+v, %v", got, err)
		}
		if n, err := db.PrunePullHeads(ctx, t0.Add(time.Second)); err != nil || n != 3 {
			t.Fatalf("prune = %d, %v; want the 3 heads reported at t0", n, err)
		}
		if got, err := db.PullHeads(ctx, "acme/web", 1); err != nil || len(got) != 1 || got[0].SHA != "b" {
			t.Fatalf("PullHeads after pruning = %+v, %v", got, err)
		}
	})
}

// TestRememberBodyRace has replicas receive one body under several GUIDs
// at once: exactly one of them is new, the others are replays of it.
func TestRememberBodyRace(t *testing.T) {
	pgtest.Run(t, func(t *testing.T, url string) {
		ctx := context.Background()
		dbs := replicas(t, url, 3)
		t0 := time.UnixMilli(1_700_000_000_000).UTC()
		for round := range 20 {
			hash := fmt.Sprint("body-", round)
			var (
				wg     sync.WaitGroup
				mu     sync.Mutex
				fresh  []string
				firsts = map[string]bool{}
			)
			for g := range 6 {
				wg.Go(func() {
					guid := fmt.Sprintf("g-%d-%d", round, g)
					first, err := dbs[g%3].RememberBody(ctx, nil, hash, guid, t0)
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						t.Error(err)
					} else if first == "" {
						fresh = append(fresh, guid)
					} else {
						firsts[first] = true
					}
				})
			}
			wg.Wait()
			if len(fresh) != 1 || len(firsts) != 1 || !firsts[fresh[0]] {
				t.Fatalf("round %d: new under %v, replays of %v; want one new and the rest replays of it", round, fresh, firsts)
			}
		}
	})
}

package queue_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/riverqueue/river"

	"github.com/stagegate/stagegate/app/queue"
	"github.com/stagegate/stagegate/app/store"
)

// benchPayload is the size of a typical push payload.
var benchPayload = []byte(`{"ref":"refs/heads/main","pad":"` + strings.Repeat("x", 8<<10) + `"}`)

// BenchmarkIngest is the webhook path: the delivery and the job that
// processes it, in one committed transaction.
//
//   - insert-only: no workers, nothing else touches the database.
//   - working: the queue is started, so River's fetches, notification
//     polls and maintenance share the connection, and the jobs inserted
//     are worked (by a worker that does nothing) as they come in.
//   - parallel: working, with concurrent requests as the HTTP server
//     makes them.
func BenchmarkIngest(b *testing.B) {
	b.Run("insert-only", func(b *testing.B) {
		db := openDB(b)
		q, err := queue.New(db, nil, queue.Config{})
		if err != nil {
			b.Fatal(err)
		}
		benchIngest(b, db, q, false)
	})
	b.Run("working", func(b *testing.B) {
		db := openDB(b)
		benchIngest(b, db, startBenchQueue(b, db), false)
	})
	b.Run("parallel", func(b *testing.B) {
		db := openDB(b)
		benchIngest(b, db, startBenchQueue(b, db), true)
	})
}

type nopWorker struct {
	river.WorkerDefaults[testArgs]
}

func (nopWorker) Work(context.Context, *river.Job[testArgs]) error { return nil }

func startBenchQueue(b *testing.B, db *store.DB) *queue.Queue {
	workers := river.NewWorkers()
	river.AddWorker(workers, nopWorker{})
	q, err := queue.New(db, workers, queue.Config{})
	if err != nil {
		b.Fatal(err)
	}
	if err := q.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = q.Stop(context.Background()) })
	return q
}

func benchIngest(b *testing.B, db *store.DB, q *queue.Queue, parallel bool) {
	ctx := context.Background()
	var n atomic.Int64
	ingest := func() {
		guid := fmt.Sprintf("guid-%d", n.Add(1))
		err := db.WithTx(ctx, func(tx *sql.Tx) error {
			inserted, err := db.InsertDelivery(ctx, tx, store.Delivery{
				GUID: guid, Event: "push", InstallationID: 1, Repo: "acme/web", Payload: benchPayload,
			})
			if err != nil || !inserted {
				return fmt.Errorf("insert delivery: %v, %w", inserted, err)
			}
			_, err = q.InsertTx(ctx, tx, testArgs{Name: guid}, nil)
			return err
		})
		if err != nil {
			b.Error(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	if parallel {
		b.SetParallelism(4)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				ingest()
			}
		})
	} else {
		for b.Loop() {
			ingest()
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "deliveries/s")
}

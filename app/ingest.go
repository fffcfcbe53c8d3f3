package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/stagegate/stagegate/app/queue"
	"github.com/stagegate/stagegate/app/store"
)

// maxIngestBatch bounds how many deliveries share one transaction.
const maxIngestBatch = 64

// ingestTimeout bounds one batch's transaction.
const ingestTimeout = 10 * time.Second

var errIngestStopped = errors.New("the app is stopping")

// batchIngester writes each delivery and its processing job in one
// transaction, so a delivery is never stored without being processed.
// Deliveries that arrive while a transaction is being written share the
// next one: SQLite commits one transaction at a time, so under a burst
// this turns a queue of commits into a few larger ones, and with a single
// delivery it adds no wait.
type batchIngester struct {
	db *store.DB
	q  *queue.Queue

	reqs chan ingestRequest
	stop chan struct{}
	done sync.WaitGroup
}

type ingestRequest struct {
	d     Delivery
	reply chan ingestResult
}

type ingestResult struct {
	duplicate bool
	err       error
}

func newBatchIngester(db *store.DB, q *queue.Queue) *batchIngester {
	b := &batchIngester{db: db, q: q, reqs: make(chan ingestRequest), stop: make(chan struct{})}
	b.done.Add(1)
	go b.loop()
	return b
}

// Ingest implements Ingester.
func (b *batchIngester) Ingest(ctx context.Context, d Delivery) (bool, error) {
	r := ingestRequest{d: d, reply: make(chan ingestResult, 1)}
	select {
	case b.reqs <- r:
	case <-b.stop:
		return false, errIngestStopped
	case <-ctx.Done():
		return false, ctx.Err()
	}
	select {
	case res := <-r.reply:
		return res.duplicate, res.err
	case <-ctx.Done():
		// The batch may still commit; GitHub's redelivery is then a
		// duplicate, which is safe.
		return false, ctx.Err()
	}
}

// Close stops the writer once the batch in hand is written.
func (b *batchIngester) Close() {
	close(b.stop)
	b.done.Wait()
}

func (b *batchIngester) loop() {
	defer b.done.Done()
	for {
		var first ingestRequest
		select {
		case first = <-b.reqs:
		case <-b.stop:
			return
		}
		batch := []ingestRequest{first}
	drain:
		for len(batch) < maxIngestBatch {
			select {
			case r := <-b.reqs:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		b.write(batch)
	}
}

func (b *batchIngester) write(batch []ingestRequest) {
	ctx, cancel := context.WithTimeout(context.Background(), ingestTimeout)
	defer cancel()
	dup := make([]bool, len(batch))
	err := b.db.WithTx(ctx, func(tx *sql.Tx) error {
		var jobs []river.JobArgs
		for i, r := range batch {
			d := r.d
			inserted, err := b.db.InsertDelivery(ctx, tx, store.Delivery{
				GUID: d.GUID, Event: d.Event, Action: d.Action, InstallationID: d.InstallationID,
				Repo: d.Repo, Payload: d.Payload, ReceivedAt: d.ReceivedAt,
			})
			if err != nil {
				return err
			}
			dup[i] = !inserted
			if inserted {
				jobs = append(jobs, processDeliveryArgs{GUID: d.GUID})
			}
		}
		if err := b.q.InsertManyTx(ctx, tx, jobs); err != nil {
			return fmt.Errorf("queue deliveries: %w", err)
		}
		return nil
	})
	for i, r := range batch {
		r.reply <- ingestResult{duplicate: dup[i] && err == nil, err: err}
	}
}

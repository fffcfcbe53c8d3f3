package webhook

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/rs/zerolog"

	"github.com/stagegate/stagegate/app/logkey"
	"github.com/stagegate/stagegate/app/queue"
	"github.com/stagegate/stagegate/app/store"
)

// maxIngestBatch bounds how many deliveries share one transaction.
const maxIngestBatch = 64

// ingestTimeout bounds one batch's transaction.
const ingestTimeout = 10 * time.Second

// pruneBodiesEvery is how often the bodies older than the replay window,
// and the pull request heads older than keepPullHeads, are forgotten.
const pruneBodiesEvery = 10 * time.Minute

// keepPullHeads is how long a reported head is kept. A command on a pull
// request whose head was last pushed longer ago must name its commit.
const keepPullHeads = 90 * 24 * time.Hour

var errIngestStopped = errors.New("the app is stopping")

// BatchIngester writes each delivery and its processing job in one
// transaction, so a delivery is never stored without being processed.
// A delivery is a duplicate when its GUID was stored before (GitHub's
// redeliveries keep it), or when its body was taken under another GUID
// in the last 24 hours: the signature covers the body but not the GUID
// header, so a captured delivery replayed with a new GUID must not act
// twice. The heads that pull_request deliveries report are recorded with
// them (pullHeadOf).
// Deliveries that arrive while a transaction is being written share the
// next one: SQLite commits one transaction at a time, so under a burst
// this turns a queue of commits into a few larger ones, and with a single
// delivery it adds no wait.
type BatchIngester struct {
	db  *store.DB
	q   *queue.Queue
	log *zerolog.Logger

	reqs chan ingestRequest
	stop chan struct{}
	done sync.WaitGroup
	// lastPrune is owned by loop.
	lastPrune time.Time
}

type ingestRequest struct {
	d     Delivery
	reply chan ingestResult
}

type ingestResult struct {
	duplicate bool
	err       error
}

func NewBatchIngester(db *store.DB, q *queue.Queue, log *zerolog.Logger) *BatchIngester {
	b := &BatchIngester{db: db, q: q, log: log, reqs: make(chan ingestRequest), stop: make(chan struct{})}
	b.done.Add(1)
	go b.loop()
	return b
}

// Ingest implements Ingester.
func (b *BatchIngester) Ingest(ctx context.Context, d Delivery) (bool, error) {
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
func (b *BatchIngester) Close() {
	close(b.stop)
	b.done.Wait()
}

func (b *BatchIngester) loop() {
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
		if time.Since(b.lastPrune) >= pruneBodiesEvery {
			b.pruneBodies()
		}
	}
}

// pruneBodies forgets the bodies older than the replay window and the
// old pull request heads; a failure only keeps them longer, so it is
// logged.
func (b *BatchIngester) pruneBodies() {
	ctx, cancel := context.WithTimeout(context.Background(), ingestTimeout)
	defer cancel()
	b.lastPrune = time.Now()
	if _, err := b.db.PruneDeliveryBodies(ctx, b.lastPrune.Add(-store.ReplayWindow)); err != nil {
		b.log.Warn().Err(err).Msg("prune delivery bodies")
	}
	if _, err := b.db.PrunePullHeads(ctx, b.lastPrune.Add(-keepPullHeads)); err != nil {
		b.log.Warn().Err(err).Msg("prune pull request heads")
	}
}

func (b *BatchIngester) write(batch []ingestRequest) {
	ctx, cancel := context.WithTimeout(context.Background(), ingestTimeout)
	defer cancel()
	dup := make([]bool, len(batch))
	err := b.db.WithTx(ctx, func(tx *sql.Tx) error {
		var jobs []river.JobArgs
		for i, r := range batch {
			d := r.d
			sum := sha256.Sum256(d.Payload)
			first, err := b.db.RememberBody(ctx, tx, hex.EncodeToString(sum[:]), d.GUID, d.ReceivedAt)
			if err != nil {
				return err
			}
			if first != "" {
				b.log.Warn().Str(logkey.Delivery, d.GUID).Str("first_delivery", first).
					Msg("delivery body already taken under another GUID: a duplicate")
				dup[i] = true
				continue
			}
			inserted, err := b.db.InsertDelivery(ctx, tx, store.Delivery{
				GUID: d.GUID, Event: d.Event, Action: d.Action, InstallationID: d.InstallationID,
				Repo: d.Repo, Payload: d.Payload, ReceivedAt: d.ReceivedAt,
			})
			if err != nil {
				return err
			}
			dup[i] = !inserted
			if !inserted {
				continue
			}
			jobs = append(jobs, queue.ProcessDeliveryArgs{GUID: d.GUID})
			if h, ok := pullHeadOf(d); ok {
				if err := b.db.RecordPullHead(ctx, tx, h); err != nil {
					return err
				}
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

// pullHeadOf is the head a pull_request delivery reports, with the pull
// request's updated_at: GitHub's own time of a moment when that commit
// was the head, since a push to the head updates the pull request. A
// payload without them records nothing.
func pullHeadOf(d Delivery) (store.PullHead, bool) {
	if d.Event != "pull_request" || d.Repo == "" {
		return store.PullHead{}, false
	}
	var p struct {
		Number      int `json:"number"`
		PullRequest struct {
			UpdatedAt time.Time `json:"updated_at"`
			Head      struct {
				SHA string `json:"sha"`
			} `json:"head"`
		} `json:"pull_request"`
	}
	if err := json.Unmarshal(d.Payload, &p); err != nil || p.Number <= 0 || !isFullSHA(p.PullRequest.Head.SHA) || p.PullRequest.UpdatedAt.IsZero() {
		return store.PullHead{}, false
	}
	return store.PullHead{Repo: d.Repo, PR: p.Number, SHA: p.PullRequest.Head.SHA, At: p.PullRequest.UpdatedAt}, true
}

func isFullSHA(s string) bool {
	if len(s) != 40 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

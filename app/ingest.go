package app

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/stagegate/stagegate/app/queue"
	"github.com/stagegate/stagegate/app/store"
)

// storeIngester writes a delivery and its processing job in one
// transaction, so a delivery is never stored without being processed or
// processed without being stored.
type storeIngester struct {
	db *store.DB
	q  *queue.Queue
}

func (s *storeIngester) Ingest(ctx context.Context, d Delivery) (bool, error) {
	duplicate := false
	err := s.db.WithTx(ctx, func(tx *sql.Tx) error {
		inserted, err := s.db.InsertDelivery(ctx, tx, store.Delivery{
			GUID: d.GUID, Event: d.Event, Action: d.Action, InstallationID: d.InstallationID,
			Repo: d.Repo, Payload: d.Payload, ReceivedAt: d.ReceivedAt,
		})
		if err != nil {
			return err
		}
		if !inserted {
			duplicate = true
			return nil
		}
		if _, err := s.q.InsertTx(ctx, tx, processDeliveryArgs{GUID: d.GUID}, nil); err != nil {
			return fmt.Errorf("queue delivery %s: %w", d.GUID, err)
		}
		return nil
	})
	return duplicate, err
}

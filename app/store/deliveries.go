package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Delivery is one webhook delivery as GitHub sent it.
type Delivery struct {
	// GUID is X-GitHub-Delivery; a redelivery keeps it.
	GUID           string
	Event          string
	Action         string
	InstallationID int64
	// Repo is owner/name, empty for events without a repository.
	Repo    string
	Payload []byte
	// ReceivedAt defaults to now.
	ReceivedAt time.Time
	// ProcessedAt is zero until MarkDeliveryProcessed.
	ProcessedAt time.Time
	Result      string
}

const qInsertDelivery = `INSERT INTO deliveries
    (guid, event, action, installation_id, repo, payload, received_at)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (guid) DO NOTHING`

// InsertDelivery stores d unless a delivery with its GUID is already
// stored, and reports whether it did. The check is the primary key, so it
// holds across restarts and between racing requests. With a non-nil tx
// the insert is part of it (with the job that processes the delivery);
// with nil it commits on its own.
func (db *DB) InsertDelivery(ctx context.Context, tx *sql.Tx, d Delivery) (inserted bool, err error) {
	if d.GUID == "" {
		return false, errors.New("store: insert delivery: empty GUID")
	}
	if d.ReceivedAt.IsZero() {
		d.ReceivedAt = db.now()
	}
	q := db
	if tx != nil {
		q = db.InTx(tx)
	}
	// The payload is JSON, so TEXT: Postgres's TEXT takes a string where
	// a []byte would be sent as bytea.
	res, err := q.exec(ctx, qInsertDelivery, d.GUID, d.Event, d.Action, d.InstallationID, d.Repo,
		string(d.Payload), millis(d.ReceivedAt))
	if err != nil {
		return false, fmt.Errorf("store: insert delivery %s: %w", d.GUID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: insert delivery %s: %w", d.GUID, err)
	}
	return n == 1, nil
}

// GetDelivery returns the delivery with that GUID, or ErrNotFound.
func (db *DB) GetDelivery(ctx context.Context, guid string) (Delivery, error) {
	var (
		d                   Delivery
		payload             string
		received, processed sql.NullInt64
	)
	err := db.get(ctx, `SELECT guid, event, action, installation_id, repo, payload, received_at, processed_at, result
FROM deliveries WHERE guid = ?`, []any{guid}, func(s scanner) error {
		return s.Scan(&d.GUID, &d.Event, &d.Action, &d.InstallationID, &d.Repo, &payload, &received, &processed, &d.Result)
	})
	if err != nil {
		return Delivery{}, fmt.Errorf("store: delivery %s: %w", guid, err)
	}
	d.Payload = []byte(payload)
	d.ReceivedAt, d.ProcessedAt = fromMillis(received), fromMillis(processed)
	return d, nil
}

// MarkDeliveryProcessed records how processing the delivery ended, such
// as "run 01J…" or "ignored: no .stagegate.yml".
func (db *DB) MarkDeliveryProcessed(ctx context.Context, guid, result string) error {
	err := mustAffect(db.exec(ctx, `UPDATE deliveries SET processed_at = ?, result = ? WHERE guid = ?`,
		db.now().UnixMilli(), result, guid))
	if err != nil {
		return fmt.Errorf("store: mark delivery %s processed: %w", guid, err)
	}
	return nil
}

// guidBatch bounds the placeholders in one query: SQLite allows 32766,
// Postgres 65535, and a query this size is already cheap.
const guidBatch = 500

// KnownDeliveryGUIDs returns which of guids are stored, so that a catch-up
// after downtime redelivers only the ones missed.
func (db *DB) KnownDeliveryGUIDs(ctx context.Context, guids []string) (map[string]bool, error) {
	known := make(map[string]bool)
	for start := 0; start < len(guids); start += guidBatch {
		batch := guids[start:min(start+guidBatch, len(guids))]
		args := make([]any, len(batch))
		for i, g := range batch {
			args[i] = g
		}
		q := "SELECT guid FROM deliveries WHERE guid IN (?" + strings.Repeat(", ?", len(batch)-1) + ")"
		// Not prepared: every batch size would be a statement kept forever.
		rows, err := db.x.QueryContext(ctx, db.root.dialect.rebind(q), args...)
		if err != nil {
			return nil, fmt.Errorf("store: known deliveries: %w", err)
		}
		for rows.Next() {
			var g string
			if err := rows.Scan(&g); err != nil {
				_ = rows.Close()
				return nil, fmt.Errorf("store: known deliveries: %w", err)
			}
			known[g] = true
		}
		err = rows.Err()
		if cerr := rows.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, fmt.Errorf("store: known deliveries: %w", err)
		}
	}
	return known, nil
}

// PruneDeliveries deletes processed deliveries received before before and
// returns how many. Their GUIDs are forgotten too, so before should be
// older than GitHub's redelivery window (a few days).
func (db *DB) PruneDeliveries(ctx context.Context, before time.Time) (int64, error) {
	res, err := db.exec(ctx, `DELETE FROM deliveries WHERE processed_at IS NOT NULL AND received_at < ?`,
		before.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("store: prune deliveries: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: prune deliveries: %w", err)
	}
	return n, nil
}

// ReplayWindow is how long a delivery body is remembered: the same body
// under another GUID within it is a duplicate.
const ReplayWindow = 24 * time.Hour

const (
	qBodySeen = `SELECT guid FROM delivery_bodies WHERE sha256 = ?`
	// One statement decides, so that replicas receiving the same body at
	// once under two GUIDs cannot both see it as new: the conflicting row
	// is locked (Postgres) or the writes are serial (SQLite), and the
	// second finds the first's row and updates nothing.
	qRememberBody = `INSERT INTO delivery_bodies (sha256, guid, received_at) VALUES (?, ?, ?)
ON CONFLICT (sha256) DO UPDATE SET guid = excluded.guid, received_at = excluded.received_at
WHERE delivery_bodies.guid = excluded.guid OR delivery_bodies.received_at <= ?`
)

// RememberBody records that the body with SHA-256 hash (hex) arrived as
// delivery guid at received, unless another delivery brought the same
// body within the ReplayWindow before: then it records nothing and
// returns that delivery's GUID. The same GUID again is not a replay
// (GitHub's redeliveries keep it; the GUID check catches those).
func (db *DB) RememberBody(ctx context.Context, tx *sql.Tx, hash, guid string, received time.Time) (firstGUID string, err error) {
	q := db
	if tx != nil {
		q = db.InTx(tx)
	}
	res, err := q.exec(ctx, qRememberBody, hash, guid, received.UnixMilli(), received.Add(-ReplayWindow).UnixMilli())
	if err != nil {
		return "", fmt.Errorf("store: remember delivery body %s: %w", hash, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return "", fmt.Errorf("store: remember delivery body %s: %w", hash, err)
	}
	if n > 0 {
		return "", nil
	}
	var other string
	if err := q.get(ctx, qBodySeen, []any{hash}, func(s scanner) error { return s.Scan(&other) }); err != nil {
		return "", fmt.Errorf("store: delivery body %s: %w", hash, err)
	}
	return other, nil
}

// PruneDeliveryBodies forgets the bodies received before before and
// returns how many.
func (db *DB) PruneDeliveryBodies(ctx context.Context, before time.Time) (int64, error) {
	res, err := db.exec(ctx, `DELETE FROM delivery_bodies WHERE received_at < ?`, before.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("store: prune delivery bodies: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: prune delivery bodies: %w", err)
	}
	return n, nil
}

package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Notifications wake what waits on a change another replica made (a
// deploy lock released, a cancel requested) without a polling loop per
// waiter. On Postgres they are LISTEN/NOTIFY, seen by every replica; on
// SQLite, which has one process, they are delivered in-process.
//
// A notification is a wake-up, not a message: a receiver that is behind
// may miss payloads (at least one is pending), and one that reconnects
// has missed what was sent meanwhile. Look at the state after waking, and
// once after Subscribe returns.

// maxPayload is below Postgres's limit of 8000 bytes per payload.
const maxPayload = 7999

// subscriptionBuffer is how many payloads wait for a slow receiver.
const subscriptionBuffer = 16

// Notify sends payload on channel. On a view made by InTx, Postgres sends
// it when the transaction commits, and not if it rolls back. SQLite sends
// it at once; a receiver that then reads waits for the transaction
// anyway, since SQLite's single connection is the transaction's.
func (db *DB) Notify(ctx context.Context, channel, payload string) error {
	if err := checkChannel(channel); err != nil {
		return err
	}
	if len(payload) > maxPayload {
		return fmt.Errorf("store: notify %s: payload of %d bytes, at most %d", channel, len(payload), maxPayload)
	}
	if db.root.pgx == nil {
		db.root.hub.Send(channel, payload)
		return nil
	}
	if _, err := db.x.ExecContext(ctx, db.root.dialect.rebind(`SELECT pg_notify(?, ?)`), channel, payload); err != nil {
		return fmt.Errorf("store: notify %s: %w", channel, err)
	}
	return nil
}

func checkChannel(channel string) error {
	// Postgres truncates identifiers to 63 bytes: longer names would
	// share a channel.
	if channel == "" || len(channel) > 63 {
		return fmt.Errorf("store: notification channel %q: want 1 to 63 bytes", channel)
	}
	return nil
}

// Subscription receives the payloads sent on one channel on C, from the
// moment Subscribe returns until ctx ends or Close. C is closed then;
// Err says whether the subscription failed (a lost connection) rather
// than being ended.
type Subscription struct {
	C      <-chan string
	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

// Close ends the subscription and waits for it to be ended.
func (s *Subscription) Close() {
	s.cancel()
	<-s.done
}

// Err returns what ended the subscription other than ctx or Close, once
// C is closed.
func (s *Subscription) Err() error {
	<-s.done
	return s.err
}

// Subscribe listens on channel. On Postgres a connection of the pool is
// taken out of it for LISTEN and closed at the end; DB.Close does not
// end it, so end subscriptions first.
func (db *DB) Subscribe(ctx context.Context, channel string) (*Subscription, error) {
	if err := checkChannel(channel); err != nil {
		return nil, err
	}
	c := make(chan string, subscriptionBuffer)
	ctx, cancel := context.WithCancel(ctx)
	s := &Subscription{C: c, cancel: cancel, done: make(chan struct{})}
	if db.root.pgx == nil {
		unsubscribe := db.root.hub.Add(channel, c)
		go func() {
			defer close(s.done)
			<-ctx.Done()
			unsubscribe()
			close(c)
		}()
		return s, nil
	}
	conn, err := db.root.pgx.Acquire(ctx)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("store: listen %s: %w", channel, err)
	}
	// Hijacked: a connection left listening must not go back to the
	// pool, where a query would receive the notifications.
	pc := conn.Hijack()
	if _, err := pc.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		cancel()
		_ = pc.Close(context.Background())
		return nil, fmt.Errorf("store: listen %s: %w", channel, err)
	}
	go func() {
		defer close(s.done)
		defer close(c)
		defer func() { _ = pc.Close(context.Background()) }()
		for {
			n, err := pc.WaitForNotification(ctx)
			if err != nil {
				if ctx.Err() == nil {
					s.err = fmt.Errorf("store: listen %s: %w", channel, err)
				}
				return
			}
			select {
			case c <- n.Payload:
			default: // the receiver has wake-ups pending already
			}
		}
	}()
	return s, nil
}

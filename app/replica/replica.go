// Package replica is what lets several stagegate processes serve one App
// from one database: each executing run's lease and its heartbeat, the
// takeover of the runs of a replica that stopped renewing them, cancel
// requests reaching the replica that executes a run, the wake-ups of
// deploy gates and environment lines through the store's notifications,
// and the role of the one replica that does the periodic housekeeping.
// On SQLite, with one process, the same code runs and finds no other
// replica.
package replica

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/stagegate/stagegate/app/store"
)

// Defaults: a run's lease lapses 15 s after its last heartbeat and is
// renewed every 5 s, so two heartbeats may fail before it is lost, and a
// dead replica's runs are taken over within TTL+Beat.
const (
	DefaultTTL  = 15 * time.Second
	DefaultBeat = 5 * time.Second
)

// ErrLeaseLost is the cause given to a run whose lease this replica no
// longer holds: another replica may be working it, so it must stop
// before doing more and record nothing.
var ErrLeaseLost = errors.New("this replica lost the run's lease")

// GateChannel is the channel a commit's change is sent on ("repo@sha"),
// so that the deploy gates waiting on it, on any replica, look again.
const GateChannel = "stagegate_gate"

// Options configure a Replica.
type Options struct {
	DB  *store.DB
	Log zerolog.Logger
	// Owner names this replica in leases; a new name per process when
	// empty, so a restarted process never renews its predecessor's
	// leases.
	Owner string
	// TTL and Beat: see DefaultTTL; Beat is TTL/3 when unset.
	TTL, Beat time.Duration
	// Recover concludes or resumes a run whose lease this replica just
	// claimed from a replica that stopped renewing it (or that never had
	// one): the single-process reconciler's work for one run. The lease
	// is released after it.
	Recover func(ctx context.Context, run store.Run) error
	// Cancelled makes the cause for a cancel requested elsewhere.
	Cancelled func(reason string) error
	// Wake wakes the gates of this process watching repo@sha.
	Wake func(repo, sha string)
	// WakeAll wakes every gate of this process.
	WakeAll func()
	// Exclusive says that no other process uses the database (SQLite):
	// at start, the leases left in it are a dead predecessor's and its
	// runs are recovered at once.
	Exclusive bool
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Replica is this process's part in the replicas sharing a database.
type Replica struct {
	opts Options

	mu sync.Mutex
	// held are the runs executing here under a lease, with how to stop
	// each; gating those of them waiting at a deploy gate.
	held   map[string]context.CancelCauseFunc
	gating map[string]struct{}
	// early are cancels taken for runs claimed here but not yet
	// registered (Hold between its claim and its registration).
	early map[string]error
	// claiming are the runs Hold is claiming.
	claiming map[string]struct{}
	// deploys is closed, and replaced, when an environment's line
	// changes on any replica.
	deploys chan struct{}

	cancel context.CancelFunc
	done   sync.WaitGroup
}

// New makes a replica; Start begins its heartbeats.
func New(opts Options) *Replica {
	if opts.Owner == "" {
		opts.Owner = NewOwner()
	}
	if opts.TTL <= 0 {
		opts.TTL = DefaultTTL
	}
	if opts.Beat <= 0 {
		opts.Beat = opts.TTL / 3
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Replica{opts: opts, held: map[string]context.CancelCauseFunc{}, gating: map[string]struct{}{}, early: map[string]error{}, claiming: map[string]struct{}{}, deploys: make(chan struct{})}
}

// NewOwner names a replica: its host, its pid and random bytes.
func NewOwner() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b))
}

// Owner is this replica's name in leases.
func (r *Replica) Owner() string { return r.opts.Owner }

// TTL is how long a lease lives without a heartbeat.
func (r *Replica) TTL() time.Duration { return r.opts.TTL }

// Start subscribes to the notifications and starts the heartbeat loop,
// which also takes over lapsed leases. Close ends it.
func (r *Replica) Start(ctx context.Context) {
	ctx, r.cancel = context.WithCancel(context.WithoutCancel(ctx))
	for channel, on := range map[string]func(string){
		store.CancelChannel: func(string) { r.takeCancels(ctx) },
		GateChannel:         r.wakeLocal,
		store.DeployChannel: func(string) { r.deployChanged() },
	} {
		r.done.Add(1)
		go func() {
			defer r.done.Done()
			r.listen(ctx, channel, on)
		}()
	}
	// Two loops: the heartbeats must not wait behind a takeover, which
	// calls GitHub and may wait out its rate limits.
	r.every(ctx, func() {
		r.Lead(ctx, r.liveness(), r.opts.TTL)
		r.beat(ctx)
	})
	r.every(ctx, func() {
		r.TakeOver(ctx)
		r.rescueJobs(ctx)
	})
}

// every calls fn now and then every Beat until ctx ends.
func (r *Replica) every(ctx context.Context, fn func()) {
	r.done.Add(1)
	go func() {
		defer r.done.Done()
		t := time.NewTicker(r.opts.Beat)
		defer t.Stop()
		for {
			fn()
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

// Close ends the heartbeats and the subscriptions. Leases still held
// lapse unless released.
func (r *Replica) Close() {
	if r.cancel != nil {
		r.cancel()
		r.done.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		r.Resign(ctx, r.liveness())
	}
}

// listen calls on for each payload sent on channel until ctx ends,
// subscribing again when the connection is lost. Since notifications
// sent meanwhile are missed, on is then called with "" to look again at
// everything.
func (r *Replica) listen(ctx context.Context, channel string, on func(string)) {
	delay := time.Second
	for ctx.Err() == nil {
		sub, err := r.opts.DB.Subscribe(ctx, channel)
		if err != nil {
			r.opts.Log.Warn().Err(err).Str("channel", channel).Msg("subscribe to notifications; trying again")
			if !sleep(ctx, delay) {
				return
			}
			delay = min(2*delay, 30*time.Second)
			continue
		}
		delay = time.Second
		on("")
		for p := range sub.C {
			on(p)
		}
		if err := sub.Err(); err != nil {
			r.opts.Log.Warn().Err(err).Str("channel", channel).Msg("notifications lost; subscribing again")
		}
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// Package fanout wakes subscribers by key without ever blocking the
// sender: the deploy gates of a commit, the live streams of a run page,
// the listeners of a notification channel.
package fanout

import "sync"

// Keyed sends values to the channels subscribed under a key. A send to
// a channel that is full is dropped, so subscribers use channels of
// capacity one and read them as "look again": a wake-up not yet taken
// stands for any number sent since. The zero Keyed is ready to use.
type Keyed[V any] struct {
	mu   sync.Mutex
	subs map[string]map[chan<- V]struct{}
}

// Add subscribes c under key; remove ends the subscription.
func (k *Keyed[V]) Add(key string, c chan<- V) (remove func()) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.subs == nil {
		k.subs = map[string]map[chan<- V]struct{}{}
	}
	if k.subs[key] == nil {
		k.subs[key] = map[chan<- V]struct{}{}
	}
	k.subs[key][c] = struct{}{}
	return func() {
		k.mu.Lock()
		defer k.mu.Unlock()
		delete(k.subs[key], c)
		if len(k.subs[key]) == 0 {
			delete(k.subs, key)
		}
	}
}

// Send offers v to every channel subscribed under key.
func (k *Keyed[V]) Send(key string, v V) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for c := range k.subs[key] {
		offer(c, v)
	}
}

// SendAll offers v to every subscribed channel, whatever its key.
func (k *Keyed[V]) SendAll(v V) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, chans := range k.subs {
		for c := range chans {
			offer(c, v)
		}
	}
}

func offer[V any](c chan<- V, v V) {
	select {
	case c <- v:
	default: // a wake-up is pending already
	}
}

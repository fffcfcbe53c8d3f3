package gatewait

import (
	"context"
	"sync"
)

// Environments admits one deploy per repository and environment at a
// time. Deploys waiting for an environment get it in the order they
// asked: goroutines blocked sending on a channel are served first come,
// first served.
type Environments struct {
	mu    sync.Mutex
	slots map[string]chan struct{}
	// holder names the run deploying to each environment, for the gate's
	// display.
	holder map[string]string
}

func (e *Environments) slot(key string) chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.slots == nil {
		e.slots, e.holder = map[string]chan struct{}{}, map[string]string{}
	}
	if e.slots[key] == nil {
		e.slots[key] = make(chan struct{}, 1)
	}
	return e.slots[key]
}

// HolderOf is the run deploying to the environment now, if any.
func (e *Environments) HolderOf(repo, env string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.holder[repo+"/"+env]
}

// Acquire waits for the environment; release gives it back.
func (e *Environments) Acquire(ctx context.Context, repo, env, runID string) (release func(), err error) {
	key := repo + "/" + env
	slot := e.slot(key)
	select {
	case slot <- struct{}{}:
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
	e.mu.Lock()
	e.holder[key] = runID
	e.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			e.mu.Lock()
			delete(e.holder, key)
			e.mu.Unlock()
			<-slot
		})
	}, nil
}

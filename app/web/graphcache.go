package web

import (
	"context"
	"sync"
	"time"

	"github.com/stagegate/stagegate/app/store"
)

// graphCache shares the latest read of a run's graph between the streams
// of its page: fifty browsers following one run read it from the store
// once per interval, not fifty times.
type graphCache struct {
	ttl     time.Duration
	mu      sync.Mutex
	entries map[string]cachedGraph
}

type cachedGraph struct {
	run  store.Run
	g    graph
	read time.Time
}

// maxCachedGraphs bounds the cache; past it, stale entries go first and
// then everything (the next reads fill it again).
const maxCachedGraphs = 1024

func newGraphCache(ttl time.Duration) *graphCache {
	return &graphCache{ttl: ttl, entries: make(map[string]cachedGraph)}
}

// get returns the run and its graph, read from the store at most ttl ago.
func (c *graphCache) get(ctx context.Context, s *Server, runID string) (store.Run, graph, error) {
	now := time.Now()
	c.mu.Lock()
	e, ok := c.entries[runID]
	c.mu.Unlock()
	if ok && now.Sub(e.read) < c.ttl {
		return e.run, e.g, nil
	}
	run, err := s.cfg.Store.GetRun(ctx, runID)
	if err != nil {
		return store.Run{}, graph{}, err
	}
	g, _, _, err := s.loadGraph(ctx, run, now)
	if err != nil {
		return store.Run{}, graph{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= maxCachedGraphs {
		for id, old := range c.entries {
			if now.Sub(old.read) >= c.ttl {
				delete(c.entries, id)
			}
		}
		if len(c.entries) >= maxCachedGraphs {
			clear(c.entries)
		}
	}
	c.entries[runID] = cachedGraph{run: run, g: g, read: now}
	return run, g, nil
}

// planCache keeps the plan of the runs' pipeline files: a run's file
// never changes, and parsing it is most of a run page's work.
type planCache struct {
	mu    sync.Mutex
	plans map[string][]planned
}

func newPlanCache() *planCache { return &planCache{plans: make(map[string][]planned)} }

func (c *planCache) get(run store.Run) []planned {
	c.mu.Lock()
	p, ok := c.plans[run.ID]
	c.mu.Unlock()
	if ok {
		return p
	}
	p = planOf(run)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.plans) >= maxCachedGraphs {
		clear(c.plans)
	}
	c.plans[run.ID] = p
	return p
}

package queue

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// queueDepther is what the depth gauge needs from the queue.
type queueDepther interface {
	Depth(ctx context.Context) (map[string]int, error)
}

// NewDepthCollector is the gauge of q's jobs waiting or running, by queue.
func NewDepthCollector(q queueDepther) prometheus.Collector {
	return &queueDepthCollector{q: q, desc: prometheus.NewDesc("stagegate_queue_depth",
		"Jobs waiting or running, by queue.", []string{"queue"}, nil)}
}

// queueDepthCollector reads the queue depth when Prometheus scrapes, so
// no goroutine polls the database between scrapes.
type queueDepthCollector struct {
	q    queueDepther
	desc *prometheus.Desc
}

func (c *queueDepthCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *queueDepthCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	depth, err := c.q.Depth(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	for name, n := range depth {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), name)
	}
}

package app

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the app's Prometheus collectors. They are registered on a
// registry the caller owns, never the global default.
type metrics struct {
	deliveries *prometheus.CounterVec
	runs       *prometheus.CounterVec
	// redeliveries counts deliveries the catch-up asked GitHub to send
	// again.
	redeliveries prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stagegate_webhook_deliveries_total",
			Help: "Webhook deliveries by event and result (queued, duplicate, ignored, unauthorized, ...).",
		}, []string{"event", "result"}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stagegate_runs_total",
			Help: "Finished runs by conclusion.",
		}, []string{"conclusion"}),
	}
	m.redeliveries = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "stagegate_redeliveries_requested_total",
		Help: "Missed webhook deliveries the catch-up asked GitHub to redeliver.",
	})
	reg.MustRegister(m.deliveries, m.runs, m.redeliveries)
	return m
}

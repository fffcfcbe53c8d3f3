package ghclient

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// Log field keys, constant so that logs can be searched by them.
const (
	keyMethod       = "method"
	keyRoute        = "route"
	keyStatus       = "status"
	keyDuration     = "duration"
	keyInstallation = "installation"
	keyWait         = "wait"
)

// appLabel is the installation label of requests made as the App itself
// (JWT), whose rate limit is the App's, not an installation's.
const appLabel = "app"

// newLogging logs every request that reaches the network at debug level,
// through the request context's logger (fallback when the context has
// none, or a disabled one). Only the method, route template, status and duration are
// logged: never headers, so never the Authorization header, and never
// the raw path or query.
func newLogging(rt *router, installationID int64, fallback zerolog.Logger) middleware {
	return func(next http.RoundTripper) http.RoundTripper {
		return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
			start := time.Now()
			resp, err := next.RoundTrip(req)
			l := zerolog.Ctx(req.Context())
			if l.GetLevel() == zerolog.Disabled {
				l = &fallback
			}
			ev := l.Debug()
			if ev == nil {
				return resp, err
			}
			ev = ev.Str(keyMethod, req.Method).Str(keyRoute, rt.route(req.URL.Path)).
				Dur(keyDuration, time.Since(start))
			if installationID != 0 {
				ev = ev.Int64(keyInstallation, installationID)
			}
			if err != nil {
				ev.Err(err).Msg("github request failed")
			} else {
				ev.Int(keyStatus, resp.StatusCode).Msg("github request")
			}
			return resp, err
		})
	}
}

// metrics are the package's Prometheus collectors.
type metrics struct {
	requests  *prometheus.CounterVec
	remaining *prometheus.GaugeVec
}

// newMetrics registers the collectors on reg, or on nothing when reg is
// nil. A second Clients on the same registry (tests, or a reload) shares
// the collectors already there instead of failing.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "stagegate_github_requests_total",
		Help: "GitHub API requests sent, retries included, by route template, method and status (\"error\" when no response came).",
	}, []string{"route", "method", "status"})
	remaining := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "stagegate_github_rate_limit_remaining",
		Help: "x-ratelimit-remaining of the latest GitHub response, by installation (\"app\" for the App's own requests).",
	}, []string{"installation"})
	if reg == nil {
		return &metrics{requests: requests, remaining: remaining}, nil
	}
	var err error
	if requests, err = register(reg, requests); err != nil {
		return nil, err
	}
	if remaining, err = register(reg, remaining); err != nil {
		return nil, err
	}
	return &metrics{requests: requests, remaining: remaining}, nil
}

func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	if err == nil {
		return c, nil
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	return c, fmt.Errorf("ghclient: register metrics: %w", err)
}

// middleware counts every request that reaches the network and records
// the rate limit left after it.
func (m *metrics) middleware(rt *router, installation string) middleware {
	return func(next http.RoundTripper) http.RoundTripper {
		return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
			resp, err := next.RoundTrip(req)
			route := rt.route(req.URL.Path)
			status := "error"
			if err == nil {
				status = strconv.Itoa(resp.StatusCode)
			}
			m.requests.WithLabelValues(route, req.Method, status).Inc()
			if err != nil {
				return resp, err
			}
			if v, perr := strconv.ParseFloat(resp.Header.Get("X-RateLimit-Remaining"), 64); perr == nil {
				m.remaining.WithLabelValues(installation).Set(v)
			}
			return resp, err
		})
	}
}

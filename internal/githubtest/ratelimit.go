package githubtest

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

const docRateLimit = "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api"

// rateBucket is one credential's primary rate limit window.
type rateBucket struct {
	used  int
	reset time.Time
}

// WithRateLimit sets how many requests each installation (and the App's
// JWT) may make per hour; the default is GitHub's 5,000.
func WithRateLimit(n int) Option { return func(o *options) { o.rateLimit = n } }

// spendRateLimit counts an authenticated request against its
// credential's hourly limit and sets GitHub's x-ratelimit-* headers. When
// the limit is spent it answers 403 as GitHub does and returns false.
func (s *Server) spendRateLimit(w http.ResponseWriter, rc *reqCtx) bool {
	key := ""
	switch {
	case rc.inst != nil:
		key = fmt.Sprintf("installation:%d", rc.inst.id)
	case rc.app != nil:
		key = fmt.Sprintf("app:%d", rc.app.ID)
	default:
		return true
	}
	s.mu.Lock()
	now := s.nowLocked()
	b := s.rateBuckets[key]
	if b == nil || !now.Before(b.reset) {
		b = &rateBucket{reset: now.Add(time.Hour).Truncate(time.Second)}
		s.rateBuckets[key] = b
	}
	limit := s.opts.rateLimit
	exceeded := b.used >= limit
	if !exceeded {
		b.used++
	}
	used, reset := b.used, b.reset
	s.mu.Unlock()

	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(limit-used))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	h.Set("X-RateLimit-Used", strconv.Itoa(used))
	h.Set("X-RateLimit-Resource", "core")
	if exceeded {
		writeError(w, http.StatusForbidden, "API rate limit exceeded for installation.", docRateLimit)
		return false
	}
	return true
}

package githubtest

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// docRateLimit is GitHub's page on the REST API's primary and secondary
// rate limits, which this file follows.
const docRateLimit = "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api"

// RateLimits are the limits the fake enforces per credential (an
// installation, or an App's JWT). The zero value of a field takes
// GitHub's documented value; tests shrink Minute and Hour to compress
// time, and the counts to reach a limit sooner.
type RateLimits struct {
	// PerHour is the primary limit: requests per Hour (GitHub: 5,000 for
	// an installation, up to 12,500 on large organisations).
	PerHour int
	// PointsPerMinute bounds the points of one endpoint per Minute
	// (GitHub: 900); GET, HEAD and OPTIONS cost 1 point, POST, PATCH,
	// PUT and DELETE 5.
	PointsPerMinute int
	// CreatesPerMinute and CreatesPerHour bound content-creating
	// requests (GitHub: 80 and 500). GitHub does not list which requests
	// create content; the fake counts every POST that creates something
	// in a repository (check runs, comments, reactions, statuses,
	// deployments and their statuses), not minting tokens.
	CreatesPerMinute int
	CreatesPerHour   int
	// Minute and Hour are the windows (default a minute and an hour).
	Minute, Hour time.Duration
}

func (l RateLimits) withDefaults() RateLimits {
	if l.PerHour <= 0 {
		l.PerHour = 5000
	}
	if l.PointsPerMinute <= 0 {
		l.PointsPerMinute = 900
	}
	if l.CreatesPerMinute <= 0 {
		l.CreatesPerMinute = 80
	}
	if l.CreatesPerHour <= 0 {
		l.CreatesPerHour = 500
	}
	if l.Minute <= 0 {
		l.Minute = time.Minute
	}
	if l.Hour <= 0 {
		l.Hour = time.Hour
	}
	return l
}

// WithRateLimit sets how many requests each installation (and the App's
// JWT) may make per hour; the default is GitHub's 5,000.
func WithRateLimit(n int) Option { return func(o *options) { o.limits.PerHour = n } }

// WithRateLimits sets every rate limit (zero fields: GitHub's values).
func WithRateLimits(l RateLimits) Option { return func(o *options) { o.limits = l } }

// rateBucket is one credential's limits: the primary window, and the
// recent requests the secondary limits look back on.
type rateBucket struct {
	used  int
	reset time.Time
	// points holds, per endpoint, when each recent request was made and
	// what it cost; creates when each content-creating request was made.
	// Both are sliding windows: a limit holds over any Minute or Hour,
	// not only over windows aligned to some clock.
	points  map[string][]spent
	creates []time.Time
}

type spent struct {
	at     time.Time
	points int
}

// RateLimited counts the requests the fake refused for a primary or
// secondary rate limit.
func (s *Server) RateLimited() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rateLimited
}

// spendRateLimit counts an authenticated request against its
// credential's limits and sets GitHub's x-ratelimit-* headers. When a
// limit is reached it answers as GitHub documents (docRateLimit,
// "Exceeding the rate limit") and returns false: 403 with
// x-ratelimit-remaining 0 for the primary limit; 403 with retry-after
// and a message naming the secondary rate limit for a secondary one.
func (s *Server) spendRateLimit(w http.ResponseWriter, r *http.Request, rc *reqCtx) bool {
	key := ""
	switch {
	case rc.inst != nil:
		key = fmt.Sprintf("installation:%d", rc.inst.id)
	case rc.user != nil && rc.app != nil:
		key = fmt.Sprintf("user:%d:app:%d", rc.user.id, rc.app.ID)
	case rc.app != nil:
		key = fmt.Sprintf("app:%d", rc.app.ID)
	default:
		return true
	}
	lim := s.opts.limits.withDefaults()
	s.mu.Lock()
	now := s.nowLocked()
	b := s.rateBuckets[key]
	if b == nil {
		b = &rateBucket{points: map[string][]spent{}}
		s.rateBuckets[key] = b
	}
	if !now.Before(b.reset) {
		b.used, b.reset = 0, now.Add(lim.Hour).Truncate(time.Second)
	}
	primary := b.used >= lim.PerHour
	var retry time.Duration
	if !primary {
		retry = b.secondaryLocked(now, lim, rc.route, isContentCreating(r.Method, rc.route))
		if retry == 0 {
			b.used++
		}
	}
	if primary || retry > 0 {
		s.rateLimited++
	}
	used, reset := b.used, b.reset
	s.mu.Unlock()

	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(lim.PerHour))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(lim.PerHour-used))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	h.Set("X-RateLimit-Used", strconv.Itoa(used))
	h.Set("X-RateLimit-Resource", "core")
	switch {
	case primary:
		writeError(w, http.StatusForbidden, "API rate limit exceeded for installation.", docRateLimit)
		return false
	case retry > 0:
		// Retry-After is in whole seconds; rounding up keeps a client
		// that obeys it from coming back early.
		h.Set("Retry-After", strconv.FormatInt(int64((retry+time.Second-1)/time.Second), 10))
		writeError(w, http.StatusForbidden, "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.", docRateLimit+"#about-secondary-rate-limits")
		return false
	}
	return true
}

// secondaryLocked records a request against the secondary limits, or
// returns how long until it would fit when it does not (0: it fits and
// was recorded).
func (b *rateBucket) secondaryLocked(now time.Time, lim RateLimits, route string, creates bool) time.Duration {
	cost := 1
	if method, _, _ := strings.Cut(route, " "); method != http.MethodGet && method != http.MethodHead && method != http.MethodOptions {
		cost = 5
	}
	log := dropBefore(b.points[route], now.Add(-lim.Minute))
	b.points[route] = log
	total := 0
	for _, p := range log {
		total += p.points
	}
	var wait time.Duration
	if total+cost > lim.PointsPerMinute {
		// Until enough of the oldest points leave the window.
		free := total + cost - lim.PointsPerMinute
		for _, p := range log {
			free -= p.points
			if free <= 0 {
				wait = max(wait, p.at.Add(lim.Minute).Sub(now))
				break
			}
		}
	}
	if creates {
		b.creates = dropTimesBefore(b.creates, now.Add(-lim.Hour))
		if n := len(b.creates); n >= lim.CreatesPerHour {
			wait = max(wait, b.creates[n-lim.CreatesPerHour].Add(lim.Hour).Sub(now))
		}
		inMinute := 0
		for _, t := range b.creates {
			if t.After(now.Add(-lim.Minute)) {
				inMinute++
			}
		}
		if inMinute >= lim.CreatesPerMinute {
			wait = max(wait, b.creates[len(b.creates)-lim.CreatesPerMinute].Add(lim.Minute).Sub(now))
		}
	}
	if wait > 0 {
		return wait
	}
	b.points[route] = append(log, spent{at: now, points: cost})
	if creates {
		b.creates = append(b.creates, now)
	}
	return 0
}

// isContentCreating reports whether a request creates content in a
// repository, for the secondary limits on content creation.
func isContentCreating(method, route string) bool {
	_, path, _ := strings.Cut(route, " ")
	return method == http.MethodPost && strings.HasPrefix(path, "/repos/")
}

func dropBefore(log []spent, t time.Time) []spent {
	i := 0
	for i < len(log) && !log[i].at.After(t) {
		i++
	}
	return log[i:]
}

func dropTimesBefore(log []time.Time, t time.Time) []time.Time {
	i := 0
	for i < len(log) && !log[i].After(t) {
		i++
	}
	return log[i:]
}

package ghclient

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// RateLimitPolicy bounds the waits for GitHub's rate limits. Zero fields
// take the defaults.
type RateLimitPolicy struct {
	// MaxWait is the longest single wait (default 90s, enough for a
	// secondary limit's minute). A longer limit (a primary limit resets
	// up to an hour later) is returned to the caller as GitHub sent it,
	// rather than holding a worker that long; go-github turns it into a
	// *github.RateLimitError.
	MaxWait time.Duration
	// MaxRetries is how many times one request waits and is sent again
	// (default 3).
	MaxRetries int
}

func (p RateLimitPolicy) withDefaults() RateLimitPolicy {
	if p.MaxWait <= 0 {
		p.MaxWait = 90 * time.Second
	}
	if p.MaxRetries <= 0 {
		p.MaxRetries = 3
	}
	return p
}

// secondaryLimitWait is what GitHub asks for when a secondary limit comes
// without Retry-After or a spent quota: "wait for at least one minute".
const secondaryLimitWait = time.Minute

// newRateLimit waits out rate limits and sends the request again. A
// rate-limited request was refused before GitHub acted on it, so writes
// are repeated too (when their body can be). It sits outside the
// budget, so a write sleeping here holds no write slot: sent again, it
// queues behind the pause the budget took from the same answer. The wait is bounded by
// MaxWait and by the request's context: a wait that would outlast the
// deadline is not started, and the 403/429 is returned instead.
func newRateLimit(p RateLimitPolicy, clk clock) middleware {
	p = p.withDefaults()
	return func(next http.RoundTripper) http.RoundTripper {
		return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
			ctx := req.Context()
			for n := 1; ; n++ {
				r, ok := attemptRequest(req, n)
				if !ok {
					return nil, errReplay
				}
				resp, err := next.RoundTrip(r)
				if err != nil || n > p.MaxRetries || !replayable(req) {
					return resp, err
				}
				wait, limited := rateLimitWait(resp, clk.Now())
				if limited && saysNoWait(resp) {
					// "If your request continues to fail due to a
					// secondary rate limit, wait for an exponentially
					// increasing amount of time between retries"
					// (https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#handle-rate-limit-errors-appropriately).
					wait <<= n - 1
				}
				if !limited || wait > p.MaxWait || !fitsDeadline(ctx, clk.Now(), wait) {
					return resp, err
				}
				zerolog.Ctx(ctx).Debug().Int(keyStatus, resp.StatusCode).Dur(keyWait, wait).
					Msg("github rate limit: waiting before sending again")
				discard(resp)
				if err := clk.Sleep(ctx, wait); err != nil {
					return nil, err
				}
			}
		})
	}
}

// rateLimitWait reports whether resp is a rate-limit refusal and how long
// GitHub asks to wait, following its documented order: Retry-After, then
// a spent quota's reset time, then a minute for a secondary limit that
// says neither.
func rateLimitWait(resp *http.Response, now time.Time) (time.Duration, bool) {
	if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusTooManyRequests {
		return 0, false
	}
	if ra := resp.Header.Get("Retry-After"); ra != "" {
		if secs, err := strconv.Atoi(ra); err == nil && secs >= 0 {
			return time.Duration(secs) * time.Second, true
		}
		if t, err := http.ParseTime(ra); err == nil {
			return max(t.Sub(now), 0), true
		}
	}
	if resp.Header.Get("X-RateLimit-Remaining") == "0" {
		if reset, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64); err == nil {
			// The reset is in whole seconds and clocks differ a little: a
			// second more keeps the retry from arriving just before it.
			return max(time.Unix(reset, 0).Sub(now), 0) + time.Second, true
		}
	}
	if resp.StatusCode == http.StatusTooManyRequests || mentionsSecondaryLimit(resp) {
		return secondaryLimitWait, true
	}
	// A plain 403 is a permission problem, not a limit.
	return 0, false
}

// saysNoWait reports whether a rate-limit answer gives no time to wait:
// no Retry-After and no spent quota with its reset.
func saysNoWait(resp *http.Response) bool {
	return resp.Header.Get("Retry-After") == "" && resp.Header.Get("X-RateLimit-Remaining") != "0"
}

// mentionsSecondaryLimit peeks at a 403's body, which is the only place a
// header-less secondary limit says what it is. The body is put back.
func mentionsSecondaryLimit(resp *http.Response) bool {
	if resp.Body == nil {
		return false
	}
	head, err := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
	if err != nil {
		return false
	}
	msg := strings.ToLower(string(head))
	return strings.Contains(msg, "secondary rate limit") || strings.Contains(msg, "abuse detection")
}

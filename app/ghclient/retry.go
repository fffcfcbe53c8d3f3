package ghclient

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"time"
)

// RetryPolicy bounds the retries of requests that failed with a 5xx
// status or a transport error. Zero fields take the defaults.
type RetryPolicy struct {
	// MaxAttempts counts every attempt, the first included (default 4;
	// 1 disables retries).
	MaxAttempts int
	// BaseDelay is the backoff before the second attempt (default
	// 250ms); it doubles per attempt up to MaxDelay (default 5s), and
	// each delay is jittered down by up to half so that clients that
	// failed together do not retry together.
	BaseDelay time.Duration
	MaxDelay  time.Duration
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 4
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = 250 * time.Millisecond
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = 5 * time.Second
	}
	if p.MaxDelay < p.BaseDelay {
		p.MaxDelay = p.BaseDelay
	}
	return p
}

// delay is the wait before attempt n+1.
func (p RetryPolicy) delay(n int) time.Duration {
	d := p.BaseDelay
	for i := 1; i < n && d < p.MaxDelay; i++ {
		d *= 2
	}
	d = min(d, p.MaxDelay)
	half := d / 2
	return half + rand.N(half+1)
}

// errReplay is returned when GetBody fails for a retry: the previous
// response was already discarded, so there is nothing better to return.
var errReplay = errors.New("ghclient: the request body cannot be sent again")

type idempotentWriteKey struct{}

// WithIdempotentWrite marks the writes made with ctx as safe to repeat,
// so that they are retried after a 5xx or a timeout like reads are. The
// caller asserts that applying the request twice is harmless: true of a
// check-run PATCH that sets status and output without annotations
// (GitHub appends annotations, so a repeated PATCH carrying them
// duplicates them), and of minting an installation token; false of
// creating a check run, which would leave two.
func WithIdempotentWrite(ctx context.Context) context.Context {
	return context.WithValue(ctx, idempotentWriteKey{}, true)
}

func idempotent(req *http.Request) bool {
	return !isWrite(req.Method) || req.Context().Value(idempotentWriteKey{}) != nil
}

// newRetry retries failed requests with exponential backoff and jitter.
//
// What is retried, and why:
//   - A transport error that proves the request never left this process
//     (dialling failed: refused, DNS, proxy) is retried for every method:
//     GitHub cannot have acted on it. (net/http itself already resends a
//     request on a reused connection that closed before anything was
//     written.)
//   - Any other transport error (reset, EOF, response timeout) and a 500,
//     502, 503 or 504 are retried only for reads and for writes marked
//     with WithIdempotentWrite. For a plain POST or PATCH GitHub may have
//     acted before failing (a 502 from its front end is often exactly
//     that), and a repeated POST /check-runs would create a second check
//     run, so such a failure is returned to the caller.
//   - Rate limits (403/429) are the rate-limit middleware's business, and
//     a failure to mint a token was already retried on the App client.
//
// A request whose body cannot be produced again (no GetBody) is never
// retried, nor one whose context is done, nor when the backoff would
// outlast the context's deadline.
func newRetry(p RetryPolicy, clk clock) middleware {
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
				if n >= p.MaxAttempts || !replayable(req) || !retryable(req, resp, err) {
					return resp, err
				}
				d := p.delay(n)
				if !fitsDeadline(ctx, clk.Now(), d) {
					return resp, err
				}
				discard(resp)
				if err := clk.Sleep(ctx, d); err != nil {
					return nil, err
				}
			}
		})
	}
}

func retryable(req *http.Request, resp *http.Response, err error) bool {
	if err != nil {
		if req.Context().Err() != nil {
			return false
		}
		var te *tokenError
		if errors.As(err, &te) {
			return false
		}
		return neverSent(err) || idempotent(req)
	}
	switch resp.StatusCode {
	case http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return idempotent(req)
	}
	return false
}

// neverSent reports whether err happened before a connection existed,
// hence before any byte of the request could reach GitHub.
func neverSent(err error) bool {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true
	}
	var op *net.OpError
	return errors.As(err, &op) && (op.Op == "dial" || op.Op == "proxyconnect")
}

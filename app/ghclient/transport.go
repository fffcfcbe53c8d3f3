package ghclient

import (
	"context"
	"io"
	"net/http"
	"time"
)

// middleware wraps a RoundTripper. Each concern of the HTTP stack (retry,
// rate limits, write serialization, logging, metrics, auth) is one
// middleware so that each can be tested on its own against a real server.
type middleware func(http.RoundTripper) http.RoundTripper

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// chain applies mws so that the first is outermost.
func chain(base http.RoundTripper, mws ...middleware) http.RoundTripper {
	rt := base
	for i := len(mws) - 1; i >= 0; i-- {
		rt = mws[i](rt)
	}
	return rt
}

// clock is time as the middlewares see it; tests substitute a fake one so
// that waits of minutes are asserted without being slept.
type clock interface {
	Now() time.Time
	// Sleep waits d or until ctx is done, whichever is first, and
	// returns ctx.Err() in the latter case.
	Sleep(ctx context.Context, d time.Duration) error
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// attemptRequest returns a copy of req to send as attempt number n
// (starting at 1), with a fresh body for every attempt after the first,
// or false when the body cannot be produced again.
func attemptRequest(req *http.Request, n int) (*http.Request, bool) {
	r := req.Clone(req.Context())
	if n == 1 || req.Body == nil || req.Body == http.NoBody {
		return r, true
	}
	if req.GetBody == nil {
		return nil, false
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, false
	}
	r.Body = body
	return r, true
}

// replayable reports whether req could be sent again.
func replayable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

// discard drains a little of a response that is being dropped for a new
// attempt, so that its connection can be reused, and closes it.
func discard(resp *http.Response) {
	if resp == nil || resp.Body == nil {
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
}

// closeBody honours the RoundTripper contract (the body is closed even
// when the request is never sent) for middlewares that give up early.
func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

// isWrite reports whether method changes state on GitHub.
func isWrite(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// fitsDeadline reports whether waiting d still leaves ctx time to act: a
// wait that outlasts the caller's deadline only turns an informative
// response into context.DeadlineExceeded.
func fitsDeadline(ctx context.Context, now time.Time, d time.Duration) bool {
	dl, ok := ctx.Deadline()
	return !ok || now.Add(d).Before(dl)
}

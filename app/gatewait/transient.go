package gatewait

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/stagegate/stagegate/checks"
)

// gateRetryMin and gateRetryMax bound how long a deploy gate waits
// before reading the commit's checks again after GitHub failed to
// answer; a check or status event wakes it earlier.
const (
	gateRetryMin = 2 * time.Second
	gateRetryMax = time.Minute
)

// TransientGitHub reports whether err is GitHub not answering rather
// than answering no: a 5xx, a rate limit (403 or 429 as
// https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api
// describes, which the client already waited on for as long as it
// would), or a network error. Such an error says nothing about the
// checks, so the gate waits and looks again instead of refusing. With it
// comes how long GitHub asked to wait, 0 when it did not say.
func TransientGitHub(err error) (time.Duration, bool) {
	var rl *github.RateLimitError
	if errors.As(err, &rl) {
		return time.Until(rl.Rate.Reset.Time), true
	}
	var abuse *github.AbuseRateLimitError
	if errors.As(err, &abuse) {
		return abuse.GetRetryAfter(), true
	}
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		switch code := er.Response.StatusCode; {
		case code >= 500, code == http.StatusTooManyRequests:
			return 0, true
		}
		return 0, false
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return 0, true
	}
	return 0, false
}

// RetryDelay is the wait before attempt n (from 1) to read the
// checks again: doubling from gateRetryMin up to gateRetryMax, or what
// GitHub asked for when that is longer.
func RetryDelay(n int, asked time.Duration) time.Duration {
	d := gateRetryMin
	for i := 1; i < n && d < gateRetryMax; i++ {
		d *= 2
	}
	return max(min(d, gateRetryMax), asked)
}

// Unreadable shows on the gate that the checks could not be read, and
// when they will be read again.
func Unreadable(gate checks.Gate, err error, again time.Duration) checks.Gate {
	gate.Requirements = append(gate.Requirements, checks.Requirement{
		Kind: checks.KindChecks, Name: "other checks", State: checks.Waiting,
		Detail: fmt.Sprintf("could not read them from GitHub (%v); looking again in %s", err, again.Round(time.Second)),
	})
	return gate
}

// WaitToReadAgain waits d, or until something about the commit changes,
// or ctx ends.
func WaitToReadAgain(ctx context.Context, d time.Duration, changed <-chan struct{}) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-changed:
	case <-ctx.Done():
		return context.Cause(ctx)
	}
	return nil
}

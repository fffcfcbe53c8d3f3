package ghclient

import (
	"net/http"
)

// newWriteSerializer lets one write at a time through: GitHub's secondary
// rate limits are triggered by concurrent content-creating requests from
// one installation, and its guidance is to make them serially. One
// serializer is built per installation, so installations do not wait for
// each other, and reads are never held back.
//
// The slot is held from before the first attempt until the response
// arrives, across retries and rate-limit waits, so that a write waiting
// out a limit is not overtaken by others that would hit the same limit.
// Waiting for the slot ends with the request's context.
func newWriteSerializer() middleware {
	slot := make(chan struct{}, 1)
	return func(next http.RoundTripper) http.RoundTripper {
		return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
			if !isWrite(req.Method) {
				return next.RoundTrip(req)
			}
			select {
			case slot <- struct{}{}:
			case <-req.Context().Done():
				closeBody(req)
				return nil, req.Context().Err()
			}
			defer func() { <-slot }()
			return next.RoundTrip(req)
		})
	}
}

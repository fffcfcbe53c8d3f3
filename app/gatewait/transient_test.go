package gatewait

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"
)

func TestTransientGitHub(t *testing.T) {
	resp := func(code int) *http.Response { return &http.Response{StatusCode: code, Request: &http.Request{}} }
	retry := 90 * time.Second
	for _, tc := range []struct {
		name      string
		err       error
		transient bool
		asked     time.Duration
	}{
		{"503", &github.ErrorResponse{Response: resp(503)}, true, 0},
		{"500 wrapped", fmt.Errorf("listing: %w", &github.ErrorResponse{Response: resp(500)}), true, 0},
		{"429", &github.ErrorResponse{Response: resp(429)}, true, 0},
		{"secondary limit", &github.AbuseRateLimitError{Response: resp(403), RetryAfter: &retry}, true, retry},
		{"primary limit", &github.RateLimitError{Response: resp(403), Rate: github.Rate{Reset: github.Timestamp{Time: time.Now().Add(time.Hour)}}}, true, time.Hour},
		{"404", &github.ErrorResponse{Response: resp(404)}, false, 0},
		{"403 permission", &github.ErrorResponse{Response: resp(403)}, false, 0},
		{"422", &github.ErrorResponse{Response: resp(422)}, false, 0},
		{"other", errors.New("too many pages"), false, 0},
		{"nil", nil, false, 0},
	} {
		asked, ok := TransientGitHub(tc.err)
		if ok != tc.transient || (tc.asked > 0 && (asked > tc.asked || asked < tc.asked-time.Minute)) {
			t.Errorf("%s: TransientGitHub = %v, %v; want %v, %v", tc.name, asked, ok, tc.asked, tc.transient)
		}
	}
}

func TestGateRetryDelay(t *testing.T) {
	for _, tc := range []struct {
		n     int
		asked time.Duration
		want  time.Duration
	}{
		{1, 0, gateRetryMin}, {2, 0, 2 * gateRetryMin}, {30, 0, gateRetryMax}, {1, 5 * time.Minute, 5 * time.Minute},
	} {
		if got := RetryDelay(tc.n, tc.asked); got != tc.want {
			t.Errorf("RetryDelay(%d, %v) = %v, want %v", tc.n, tc.asked, got, tc.want)
		}
	}
}

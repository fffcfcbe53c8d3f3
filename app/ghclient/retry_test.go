package ghclient

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

var testRetry = RetryPolicy{MaxAttempts: 4, BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second}

func TestRetryStatuses(t *testing.T) {
	r500 := reply{status: 500}
	r502 := reply{status: 502}
	ok := reply{status: 200, body: "ok"}
	cases := []struct {
		name       string
		method     string
		idempotent bool
		replies    []reply
		wantCalls  int
		wantStatus int
	}{
		{"GET recovers after 5xx", "GET", false, []reply{r502, {status: 503}, ok}, 3, 200},
		{"GET gives up after MaxAttempts", "GET", false, []reply{r500}, 4, 500},
		{"GET 504 retried", "GET", false, []reply{{status: 504}, ok}, 2, 200},
		{"GET 501 not retried", "GET", false, []reply{{status: 501}, ok}, 1, 501},
		{"GET 404 not retried", "GET", false, []reply{{status: 404}, ok}, 1, 404},
		{"POST 502 not retried: GitHub may have acted", "POST", false, []reply{r502, ok}, 1, 502},
		{"PATCH 500 not retried", "PATCH", false, []reply{r500, ok}, 1, 500},
		{"PUT 503 not retried", "PUT", false, []reply{{status: 503}, ok}, 1, 503},
		{"POST marked idempotent retried", "POST", true, []reply{r502, r500, ok}, 3, 200},
		{"GET connection dropped retried", "GET", false, []reply{{hangup: true}, ok}, 2, 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newScripted(t, tc.replies...)
			clk := newFakeClock()
			c := httpClient(t, newRetry(testRetry, clk))
			ctx := context.Background()
			if tc.idempotent {
				ctx = WithIdempotentWrite(ctx)
			}
			body := ""
			if isWrite(tc.method) {
				body = `{"name":"stagegate"}`
			}
			resp, got, err := do(t, c, ctx, tc.method, srv.URL+"/repos/o/r/check-runs", body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			if tc.wantStatus == 200 && got != "ok" {
				t.Errorf("body = %q", got)
			}
			reqs := srv.requests()
			if len(reqs) != tc.wantCalls {
				t.Fatalf("server saw %d requests, want %d", len(reqs), tc.wantCalls)
			}
			for i, r := range reqs {
				if r.body != body {
					t.Errorf("attempt %d body = %q, want %q (replayed)", i+1, r.body, body)
				}
			}
			if n := len(clk.Sleeps()); n != tc.wantCalls-1 {
				t.Errorf("slept %d times, want %d", n, tc.wantCalls-1)
			}
		})
	}
}

func TestRetryBackoffIsExponentialWithJitter(t *testing.T) {
	srv := newScripted(t, reply{status: 500})
	clk := newFakeClock()
	p := RetryPolicy{MaxAttempts: 6, BaseDelay: 100 * time.Millisecond, MaxDelay: 500 * time.Millisecond}
	c := httpClient(t, newRetry(p, clk))
	if _, _, err := do(t, c, context.Background(), "GET", srv.URL, ""); err != nil {
		t.Fatal(err)
	}
	// Nominal delays 100, 200, 400, 500 (capped), 500; each jittered into [d/2, d].
	nominal := []time.Duration{100, 200, 400, 500, 500}
	sleeps := clk.Sleeps()
	if len(sleeps) != len(nominal) {
		t.Fatalf("sleeps = %v", sleeps)
	}
	for i, d := range sleeps {
		hi := nominal[i] * time.Millisecond
		if d < hi/2 || d > hi {
			t.Errorf("sleep %d = %v, want in [%v, %v]", i+1, d, hi/2, hi)
		}
	}
}

// countingTransport counts the requests handed to the network.
type countingTransport struct {
	n    atomic.Int32
	next http.RoundTripper
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

func TestRetryWriteThatNeverLeft(t *testing.T) {
	// A port nothing listens on: dialling fails, so GitHub cannot have
	// seen the POST and repeating it is safe.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()

	clk := newFakeClock()
	ct := &countingTransport{next: http.DefaultTransport}
	c := &http.Client{Transport: newRetry(testRetry, clk)(ct)}
	_, _, err = do(t, c, context.Background(), "POST", "http://"+addr+"/repos/o/r/check-runs", "{}")
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "dial" {
		t.Fatalf("err = %v, want a dial error", err)
	}
	if got := ct.n.Load(); got != int32(testRetry.MaxAttempts) {
		t.Errorf("attempts = %d, want %d", got, testRetry.MaxAttempts)
	}
}

func TestRetryWriteThatMayHaveArrived(t *testing.T) {
	// The server read the POST and dropped the connection: it may have
	// created the check run, so the client must not send it again.
	srv := newScripted(t, reply{hangup: true}, reply{status: 201})
	c := httpClient(t, newRetry(testRetry, newFakeClock()))
	if _, _, err := do(t, c, context.Background(), "POST", srv.URL+"/repos/o/r/check-runs", "{}"); err == nil {
		t.Fatal("want the transport error")
	}
	if n := len(srv.requests()); n != 1 {
		t.Errorf("server saw %d POSTs, want 1", n)
	}
}

func TestRetryUnreplayableBody(t *testing.T) {
	srv := newScripted(t, reply{status: 502}, reply{status: 200})
	c := httpClient(t, newRetry(testRetry, newFakeClock()))
	// A body without GetBody cannot be sent twice.
	req, _ := http.NewRequestWithContext(WithIdempotentWrite(context.Background()), "POST", srv.URL, io.NopCloser(strings.NewReader("x")))
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 502 || len(srv.requests()) != 1 {
		t.Errorf("status %d after %d requests, want 502 after 1", resp.StatusCode, len(srv.requests()))
	}
}

func TestRetryStopsAtDeadline(t *testing.T) {
	srv := newScripted(t, reply{status: 503})
	clk := newFakeClock()
	p := RetryPolicy{MaxAttempts: 5, BaseDelay: time.Minute, MaxDelay: time.Minute}
	c := httpClient(t, newRetry(p, clk))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, _, err := do(t, c, ctx, "GET", srv.URL, "")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 503 {
		t.Errorf("status = %d, want the 503 rather than a wait past the deadline", resp.StatusCode)
	}
	if n, s := len(srv.requests()), clk.Sleeps(); n != 1 || len(s) != 0 {
		t.Errorf("server saw %d requests, slept %v; want 1 and none", n, s)
	}
}

func TestRetryStopsWhenContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		// A body longer than the retry reads of a response it drops, so
		// that it hangs up: then it has the 500 and is past the attempt.
		const size = 1 << 20
		w.Header().Set("Content-Length", strconv.Itoa(size))
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write(make([]byte, size))
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
			t.Error("setup: the client did not hang up after the 500")
		}
		cancel() // the caller gives up while the retry waits
	}))
	t.Cleanup(srv.Close)
	// A real clock and a backoff far longer than the test may take: the
	// wait before the second attempt must end with the context.
	p := RetryPolicy{MaxAttempts: 4, BaseDelay: 20 * time.Second, MaxDelay: 20 * time.Second}
	c := httpClient(t, newRetry(p, realClock{}))
	start := time.Now()
	_, _, err := do(t, c, ctx, "GET", srv.URL, "")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("returned %v after the first 500, not when the context ended", el)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("server saw %d requests, want 1", n)
	}
}

func TestRetryTokenErrorNotRetried(t *testing.T) {
	var calls atomic.Int32
	failing := roundTripperFunc(func(r *http.Request) (*http.Response, error) {
		calls.Add(1)
		return nil, &tokenError{installationID: 1, err: errors.New("503 from access_tokens")}
	})
	c := &http.Client{Transport: newRetry(testRetry, newFakeClock())(failing)}
	if _, _, err := do(t, c, context.Background(), "GET", "http://example.invalid/", ""); err == nil {
		t.Fatal("want an error")
	}
	if calls.Load() != 1 {
		t.Errorf("calls = %d, want 1", calls.Load())
	}
}

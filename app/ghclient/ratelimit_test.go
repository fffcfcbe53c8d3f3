package ghclient

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"
)

func TestRateLimitWaits(t *testing.T) {
	ok := reply{status: 200, body: "ok"}
	clkNow := time.Now()
	reset := strconv.FormatInt(clkNow.Add(42*time.Second).Unix(), 10)
	cases := []struct {
		name      string
		first     reply
		method    string
		wantWaits []time.Duration // nil: returned to the caller at once
	}{
		{"429 Retry-After seconds", reply{status: 429, header: map[string]string{"Retry-After": "7"}}, "GET", []time.Duration{7 * time.Second}},
		{"403 Retry-After (secondary limit)", reply{status: 403, header: map[string]string{"Retry-After": "30"}, body: `{"message":"You have exceeded a secondary rate limit"}`}, "GET", []time.Duration{30 * time.Second}},
		{"403 quota spent waits for reset", reply{status: 403, header: map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}}, "GET", nil /* computed below */},
		{"403 secondary limit without headers", reply{status: 403, body: `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}`}, "GET", []time.Duration{time.Minute}},
		{"429 without headers", reply{status: 429}, "GET", []time.Duration{time.Minute}},
		{"POST refused by a limit is sent again", reply{status: 429, header: map[string]string{"Retry-After": "2"}}, "POST", []time.Duration{2 * time.Second}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newScripted(t, tc.first, ok)
			clk := &fakeClock{now: clkNow}
			c := httpClient(t, newRateLimit(RateLimitPolicy{}, clk))
			body := ""
			if tc.method == "POST" {
				body = `{"name":"x"}`
			}
			resp, got, err := do(t, c, context.Background(), tc.method, srv.URL+"/repos/o/r", body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 200 || got != "ok" {
				t.Errorf("got %d %q, want 200 ok", resp.StatusCode, got)
			}
			want := tc.wantWaits
			if want == nil {
				// Reset is whole seconds: the wait is to the reset plus a second.
				want = []time.Duration{time.Unix(clkNow.Add(42*time.Second).Unix(), 0).Sub(clkNow) + time.Second}
			}
			if s := clk.Sleeps(); len(s) != 1 || s[0] != want[0] {
				t.Errorf("waits = %v, want %v", s, want)
			}
			reqs := srv.requests()
			if len(reqs) != 2 || reqs[1].body != body {
				t.Errorf("requests = %+v, want 2 with the body replayed", reqs)
			}
		})
	}
}

func TestRateLimitReturnedAtOnce(t *testing.T) {
	long := reply{status: 429, header: map[string]string{"Retry-After": "3600"}}
	cases := []struct {
		name    string
		first   reply
		timeout time.Duration
		policy  RateLimitPolicy
	}{
		{"plain 403 is a permission error", reply{status: 403, body: `{"message":"Resource not accessible by integration"}`}, 0, RateLimitPolicy{}},
		{"wait longer than MaxWait", long, 0, RateLimitPolicy{MaxWait: time.Minute}},
		{"wait past the context deadline", reply{status: 429, header: map[string]string{"Retry-After": "60"}}, 5 * time.Second, RateLimitPolicy{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newScripted(t, tc.first, reply{status: 200})
			clk := newFakeClock()
			c := httpClient(t, newRateLimit(tc.policy, clk))
			ctx := context.Background()
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.timeout)
				defer cancel()
			}
			resp, body, err := do(t, c, ctx, "GET", srv.URL, "")
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.first.status || body != tc.first.body {
				t.Errorf("got %d %q, want GitHub's answer %d %q intact", resp.StatusCode, body, tc.first.status, tc.first.body)
			}
			if n := len(srv.requests()); n != 1 || len(clk.Sleeps()) != 0 {
				t.Errorf("requests %d, waits %v; want 1 and none", n, clk.Sleeps())
			}
		})
	}
}

func TestRateLimitMaxRetries(t *testing.T) {
	srv := newScripted(t, reply{status: 429, header: map[string]string{"Retry-After": "1"}})
	clk := newFakeClock()
	c := httpClient(t, newRateLimit(RateLimitPolicy{MaxRetries: 2}, clk))
	resp, _, err := do(t, c, context.Background(), "GET", srv.URL, "")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 429 || len(srv.requests()) != 3 || len(clk.Sleeps()) != 2 {
		t.Errorf("status %d, %d requests, waits %v; want 429, 3, 2 waits", resp.StatusCode, len(srv.requests()), clk.Sleeps())
	}
}

// TestRateLimitSecondaryBackoff: a secondary limit that keeps coming
// without saying how long to wait is waited out for longer each time, as
// GitHub asks; one with Retry-After is waited as said.
func TestRateLimitSecondaryBackoff(t *testing.T) {
	secondary := reply{status: 403, body: `{"message":"You have exceeded a secondary rate limit."}`}
	withHeader := reply{status: 429, header: map[string]string{"Retry-After": "5"}}
	cases := []struct {
		name  string
		first reply
		want  []time.Duration
	}{
		{"without headers", secondary, []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute}},
		{"with Retry-After", withHeader, []time.Duration{5 * time.Second, 5 * time.Second, 5 * time.Second}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newScripted(t, tc.first, tc.first, tc.first, reply{status: 200, body: "ok"})
			clk := newFakeClock()
			c := httpClient(t, newRateLimit(RateLimitPolicy{MaxWait: 10 * time.Minute}, clk))
			resp, _, err := do(t, c, context.Background(), "GET", srv.URL, "")
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 200 || !slices.Equal(clk.Sleeps(), tc.want) {
				t.Errorf("status %d, waits %v; want 200 after %v", resp.StatusCode, clk.Sleeps(), tc.want)
			}
		})
	}
}

// TestRateLimitRealWait honours a short Retry-After on the real clock.
func TestRateLimitRealWait(t *testing.T) {
	srv := newScripted(t, reply{status: 429, header: map[string]string{"Retry-After": "1"}}, reply{status: 200})
	c := httpClient(t, newRateLimit(RateLimitPolicy{}, realClock{}))
	start := time.Now()
	resp, _, err := do(t, c, context.Background(), "GET", srv.URL, "")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status = %d", resp.StatusCode)
	}
	if el := time.Since(start); el < time.Second {
		t.Errorf("answered after %v, want at least the 1s asked", el)
	}
}

func TestRateLimitWaitEndsWithContext(t *testing.T) {
	srv := newScripted(t, reply{status: 429, header: map[string]string{"Retry-After": "30"}}, reply{status: 200})
	c := httpClient(t, newRateLimit(RateLimitPolicy{}, realClock{}))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, _, err := do(t, c, ctx, "GET", srv.URL, "")
	if err == nil || ctx.Err() == nil {
		t.Fatalf("err = %v, want the cancellation", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("took %v after cancel", el)
	}
}

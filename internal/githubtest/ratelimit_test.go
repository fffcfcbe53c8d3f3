package githubtest

import (
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"
)

func TestRateLimitHeadersAndExhaustion(t *testing.T) {
	f := newFixture(t, WithRateLimit(3))
	tok := f.token(t)
	get := func() *http.Response {
		req, _ := http.NewRequest(http.MethodGet, f.srv.APIURL()+"repos/acme/widgets", nil)
		req.Header.Set("Authorization", "token "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for want := 2; want >= 0; want-- {
		resp := get()
		if resp.StatusCode != 200 || resp.Header.Get("X-RateLimit-Remaining") != strconv.Itoa(want) ||
			resp.Header.Get("X-RateLimit-Limit") != "3" || resp.Header.Get("X-RateLimit-Reset") == "" {
			t.Fatalf("status %d, remaining %q, want 200 and %d", resp.StatusCode, resp.Header.Get("X-RateLimit-Remaining"), want)
		}
	}
	if resp := get(); resp.StatusCode != http.StatusForbidden || resp.Header.Get("X-RateLimit-Remaining") != "0" {
		t.Errorf("over the limit: %d remaining %q, want 403 and 0", resp.StatusCode, resp.Header.Get("X-RateLimit-Remaining"))
	}
}

// TestSecondaryRateLimits: content creation is limited per minute and
// per hour, and the points of one endpoint per minute (a write costs 5);
// a request over a limit gets 403, retry-after and a documentation URL
// ending in "secondary-rate-limits", which go-github turns into an
// AbuseRateLimitError. The windows slide with the server's clock.
func TestSecondaryRateLimits(t *testing.T) {
	f := newFixture(t, WithRateLimits(RateLimits{CreatesPerMinute: 3, CreatesPerHour: 5, PointsPerMinute: 22}))
	_, itr := instClient(t, f.srv, f.srv.App(), f.instID)
	// go-github remembers a rate limit per client and refuses to send
	// until it passes; a client per request shows the server's answers.
	client := func() *github.Client { return enterprise(t, f.srv, &http.Client{Transport: itr}) }
	create := func() error {
		_, _, err := client().Checks.CreateCheckRun(ctx(t), "acme", "widgets", github.CreateCheckRunOptions{Name: "n", HeadSHA: f.sha})
		return err
	}
	wantLimited := func(err error, minWait, maxWait time.Duration) {
		t.Helper()
		var abuse *github.AbuseRateLimitError
		if !errors.As(err, &abuse) || abuse.Response.StatusCode != http.StatusForbidden ||
			abuse.GetRetryAfter() < minWait || abuse.GetRetryAfter() > maxWait {
			t.Fatalf("err = %v, want a secondary rate limit with retry-after in [%v, %v]", err, minWait, maxWait)
		}
	}
	// Points per endpoint and minute: 22 allow four PATCHes (20 points)
	// and two GETs of another endpoint, not a fifth PATCH.
	cr, _, err := client().Checks.CreateCheckRun(ctx(t), "acme", "widgets", github.CreateCheckRunOptions{Name: "p", HeadSHA: f.sha})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		if _, _, err := client().Checks.UpdateCheckRun(ctx(t), "acme", "widgets", cr.GetID(), github.UpdateCheckRunOptions{Name: "p"}); err != nil {
			t.Fatalf("patch %d: %v", i, err)
		}
	}
	_, _, err = client().Checks.UpdateCheckRun(ctx(t), "acme", "widgets", cr.GetID(), github.UpdateCheckRunOptions{Name: "p"})
	wantLimited(err, 59*time.Second, 60*time.Second)
	for i := 0; i < 2; i++ {
		if _, _, err := client().Checks.GetCheckRun(ctx(t), "acme", "widgets", cr.GetID()); err != nil {
			t.Fatalf("get %d: %v", i, err)
		}
	}

	// Content creation: 3 a minute (80 on GitHub), 5 an hour (500).
	for i := 0; i < 2; i++ {
		if err := create(); err != nil {
			t.Fatalf("create %d: %v", i, err)
		}
	}
	wantLimited(create(), 59*time.Second, 60*time.Second)
	// Reads are not content creation.
	if _, _, err := client().Repositories.Get(ctx(t), "acme", "widgets"); err != nil {
		t.Fatalf("a read after the creation limit: %v", err)
	}
	f.srv.Advance(61 * time.Second)
	for i := 0; i < 2; i++ {
		if err := create(); err != nil {
			t.Fatalf("create after a minute %d: %v", i, err)
		}
	}
	wantLimited(create(), 58*time.Minute, 59*time.Minute+time.Second)
	if n := f.srv.RateLimited(); n != 3 {
		t.Errorf("RateLimited = %d, want 3", n)
	}
}

// TestPrimaryLimitWindowIsConfigurable: a shrunk hour resets the primary
// limit as GitHub's hour does, and x-ratelimit-reset says when.
func TestPrimaryLimitWindowIsConfigurable(t *testing.T) {
	f := newFixture(t, WithRateLimits(RateLimits{PerHour: 2, Hour: time.Minute}))
	_, itr := instClient(t, f.srv, f.srv.App(), f.instID)
	client := func() *github.Client { return enterprise(t, f.srv, &http.Client{Transport: itr}) }
	for i := 0; i < 2; i++ {
		if _, _, err := client().Repositories.Get(ctx(t), "acme", "widgets"); err != nil {
			t.Fatal(err)
		}
	}
	_, _, err := client().Repositories.Get(ctx(t), "acme", "widgets")
	var rl *github.RateLimitError
	if !errors.As(err, &rl) || rl.Rate.Remaining != 0 || rl.Rate.Reset.After(f.srv.Now().Add(time.Minute)) {
		t.Fatalf("err = %v, want the primary limit resetting within a minute", err)
	}
	f.srv.Advance(time.Minute + time.Second)
	if _, _, err := client().Repositories.Get(ctx(t), "acme", "widgets"); err != nil {
		t.Errorf("after the reset: %v", err)
	}
}

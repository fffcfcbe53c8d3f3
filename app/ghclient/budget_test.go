package ghclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/stagegate/stagegate/internal/githubtest"
)

// fakeGitHub is an installation client of the fake GitHub, with its
// limits and the client's scaled alike.
func fakeGitHub(t *testing.T, gh githubtest.RateLimits, lim Limits) (*githubtest.Server, *github.Client, *Clients, int64, string) {
	t.Helper()
	srv := githubtest.New(t, githubtest.WithRateLimits(gh))
	sha := srv.AddRepo("acme", "widgets").Commit("main", map[string]string{"a": "1"}, "c")
	inst := srv.AddInstallation("acme", "widgets")
	c, err := New(Config{BaseURL: srv.APIURL(), AppID: srv.AppID(), PrivateKey: srv.PrivateKeyPEM(), Limits: lim,
		Retry: RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	client, err := c.Installation(context.Background(), inst)
	if err != nil {
		t.Fatal(err)
	}
	return srv, client, c, inst, sha
}

// TestCreatesStayUnderTheSecondaryLimit: many check runs created at once
// are paced to the content-creation limits (here 5 a minute of 400ms,
// 12 an hour of 2s) instead of being refused by GitHub and retried.
func TestCreatesStayUnderTheSecondaryLimit(t *testing.T) {
	srv, client, _, _, sha := fakeGitHub(t,
		githubtest.RateLimits{CreatesPerMinute: 5, CreatesPerHour: 12, Minute: 400 * time.Millisecond, Hour: 2 * time.Second},
		Limits{CreatesPerMinute: 4, CreatesPerHour: 11, Minute: 400 * time.Millisecond, Hour: 2 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for i := range 15 {
		wg.Go(func() {
			if _, _, err := client.Checks.CreateCheckRun(ctx, "acme", "widgets", github.CreateCheckRunOptions{Name: fmt.Sprint("c", i), HeadSHA: sha}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := len(srv.CheckRuns("acme", "widgets")); n != 15 {
		t.Errorf("%d check runs, want 15", n)
	}
	if n := srv.RateLimited(); n != 0 {
		t.Errorf("GitHub refused %d requests for a rate limit, want 0", n)
	}
}

// TestReadsWaitForThePrimaryReset: once the hour's budget (here 10
// requests an hour of 1s) is spent, as the headers say, a read waits for
// the reset instead of being refused.
func TestReadsWaitForThePrimaryReset(t *testing.T) {
	srv, client, _, _, _ := fakeGitHub(t, githubtest.RateLimits{PerHour: 10, Hour: time.Second}, Limits{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := range 25 {
		if _, _, err := client.Repositories.Get(ctx, "acme", "widgets"); err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
	}
	if n := srv.RateLimited(); n != 0 {
		t.Errorf("GitHub refused %d requests for a rate limit, want 0", n)
	}
}

// TestProgressStretchesAsTheBudgetShrinks reads the budget from the
// headers: the full interval while most of it is left, longer below
// half, until the reset once only the reserve is left.
func TestProgressStretchesAsTheBudgetShrinks(t *testing.T) {
	_, client, c, inst, _ := fakeGitHub(t, githubtest.RateLimits{PerHour: 100, Hour: time.Hour}, Limits{})
	ctx := context.Background()
	base := 10 * time.Second
	if d := c.ProgressInterval(ctx, inst, base); d != base {
		t.Errorf("before any answer: %v, want %v", d, base)
	}
	prev := base
	for used := 1; used <= 95; used++ {
		if _, _, err := client.Repositories.Get(ctx, "acme", "widgets"); err != nil {
			t.Fatal(err)
		}
		d := c.ProgressInterval(ctx, inst, base)
		switch remaining := 100 - used; {
		case remaining >= 60 && d != base:
			t.Fatalf("%d left: %v, want %v", remaining, d, base)
		case d < prev-time.Second: // the reset comes nearer as the test runs
			t.Fatalf("%d left: %v, shorter than %v before", remaining, d, prev)
		case remaining <= 10 && d < 50*time.Minute:
			t.Fatalf("%d left (the reserve): %v, want until the reset", remaining, d)
		}
		prev = d
	}
}

// heldServer holds every write until told, and records the order in
// which requests arrived.
type heldServer struct {
	*httptest.Server
	mu      sync.Mutex
	order   []string
	arrived chan string
	release chan struct{}
	limit   map[string]int // body -> 403s with Retry-After still to answer
}

func newHeldServer(t *testing.T) *heldServer {
	s := &heldServer{arrived: make(chan string, 100), release: make(chan struct{}, 100), limit: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.Header.Get("X-Name")
		s.mu.Lock()
		s.order = append(s.order, name)
		limited := s.limit[name] > 0
		if limited {
			s.limit[name]--
		}
		s.mu.Unlock()
		s.arrived <- name
		if limited {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		select {
		case <-s.release:
		case <-time.After(10 * time.Second):
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *heldServer) Order() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.order...)
}

func (s *heldServer) waitArrival(t *testing.T, want string) {
	t.Helper()
	select {
	case got := <-s.arrived:
		if got != want {
			t.Fatalf("%s arrived, want %s", got, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("%s never arrived", want)
	}
}

func send(t *testing.T, c *http.Client, ctx context.Context, url, name string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPatch, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("X-Name", name)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("%s: %d", name, resp.StatusCode)
	}
	return nil
}

// TestConclusionsGoBeforeProgress: with the slot taken, a progress
// update that queued first still waits for a conclusion that queued
// after it; and a progress update that waits longer than ProgressWait is
// given up.
func TestConclusionsGoBeforeProgress(t *testing.T) {
	srv := newHeldServer(t)
	b := newBudget(Limits{ProgressWait: time.Hour}, time.Minute, realClock{})
	c := httpClient(t, b.middleware)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	errs := make(chan error, 3)
	go func() { errs <- send(t, c, ctx, srv.URL, "first") }()
	srv.waitArrival(t, "first")
	go func() { errs <- send(t, c, AsProgress(ctx), srv.URL, "progress") }()
	waitQueued(t, b, 1)
	go func() { errs <- send(t, c, ctx, srv.URL, "conclusion") }()
	waitQueued(t, b, 2)
	for range 3 {
		srv.release <- struct{}{}
	}
	for range 3 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if got := strings.Join(srv.Order(), ","); got != "first,conclusion,progress" {
		t.Errorf("order %s, want the conclusion before the progress update", got)
	}

	srv = newHeldServer(t)
	short := httpClient(t, newBudget(Limits{ProgressWait: 50 * time.Millisecond}, time.Minute, realClock{}).middleware)
	go func() { errs <- send(t, short, ctx, srv.URL, "slow") }()
	srv.waitArrival(t, "slow")
	err := send(t, short, AsProgress(ctx), srv.URL, "late progress")
	if !errors.Is(err, ErrDeferred) {
		t.Errorf("progress behind a busy slot: %v, want ErrDeferred", err)
	}
	srv.release <- struct{}{}
	if err := <-errs; err != nil {
		t.Error(err)
	}
}

// TestNoSlotIsHeldThroughRetryAfter: a write answered 429 with
// Retry-After does not keep the write slot while it waits. Every write
// waits out the pause (none is sent during it), and a conclusion that
// queued during the pause goes before the limited progress update is
// sent again.
func TestNoSlotIsHeldThroughRetryAfter(t *testing.T) {
	srv := newHeldServer(t)
	srv.limit["progress"] = 1
	b := newBudget(Limits{ProgressWait: time.Hour}, time.Minute, realClock{})
	c := httpClient(t, newRateLimit(RateLimitPolicy{}, realClock{}), b.middleware)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	errs := make(chan error, 2)
	go func() { errs <- send(t, c, AsProgress(ctx), srv.URL, "progress") }()
	srv.waitArrival(t, "progress") // answered 429, Retry-After: 1
	waitFor(t, func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return !b.busy && b.pauseTill.After(time.Now())
	})
	go func() { errs <- send(t, c, ctx, srv.URL, "conclusion") }()
	srv.waitArrival(t, "conclusion")
	srv.release <- struct{}{}
	srv.waitArrival(t, "progress")
	srv.release <- struct{}{}
	for range 2 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if got := strings.Join(srv.Order(), ","); got != "progress,conclusion,progress" {
		t.Errorf("order %s", got)
	}
}

// waitQueued waits until n writes wait in b's queue.
func waitQueued(t *testing.T, b *budget, n int) {
	t.Helper()
	waitFor(t, func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return len(b.queue) == n
	})
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting")
		}
		time.Sleep(time.Millisecond)
	}
}

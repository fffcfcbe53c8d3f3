package ghclient

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// fakeMinter issues tok-1, tok-2, ... each valid for ttl on clk.
type fakeMinter struct {
	mu  sync.Mutex
	n   int
	ttl time.Duration
	clk clock
	err error
}

func (m *fakeMinter) mint(ctx context.Context, id int64) (string, time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return "", time.Time{}, m.err
	}
	m.n++
	return fmt.Sprintf("tok-%d", m.n), m.clk.Now().Add(m.ttl), nil
}

func (m *fakeMinter) minted() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.n
}

func TestTokenSourceRefreshesBeforeExpiry(t *testing.T) {
	clk := newFakeClock()
	m := &fakeMinter{ttl: time.Hour, clk: clk}
	ts := newTokenSource(9, m.mint, 5*time.Minute, clk)
	ctx := context.Background()

	tok, exp, err := ts.get(ctx)
	if err != nil || tok != "tok-1" || !exp.Equal(clk.Now().Add(time.Hour)) {
		t.Fatalf("get = %q %v %v", tok, exp, err)
	}
	_ = clk.Sleep(ctx, 54*time.Minute) // 6 minutes left: reused
	if tok, _, _ := ts.get(ctx); tok != "tok-1" {
		t.Errorf("with 6m left got %q, want the cached tok-1", tok)
	}
	_ = clk.Sleep(ctx, 2*time.Minute) // 4 minutes left: inside the margin
	if tok, _, _ := ts.get(ctx); tok != "tok-2" {
		t.Errorf("with 4m left got %q, want a new tok-2", tok)
	}
}

func TestTokenSourceSingleFlight(t *testing.T) {
	const callers = 8
	clk := newFakeClock()
	m := &fakeMinter{ttl: time.Hour, clk: clk}
	// The mint does not finish before every caller has called get, so
	// no caller can find a token cached by a mint that already ended:
	// all eight calls overlap the first mint.
	var calling sync.WaitGroup
	calling.Add(callers)
	allCalling := make(chan struct{})
	go func() { calling.Wait(); close(allCalling) }()
	mint := func(ctx context.Context, id int64) (string, time.Time, error) {
		select {
		case <-allCalling:
		case <-time.After(10 * time.Second):
			t.Error("setup: not every caller called get within 10s")
		}
		return m.mint(ctx, id)
	}
	ts := newTokenSource(9, mint, time.Minute, clk)
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			calling.Done()
			if _, _, err := ts.get(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if m.minted() != 1 {
		t.Errorf("minted %d tokens for %d concurrent callers, want 1", m.minted(), callers)
	}
}

func TestTokenSourceError(t *testing.T) {
	m := &fakeMinter{err: errors.New("404 Not Found")}
	ts := newTokenSource(9, m.mint, time.Minute, newFakeClock())
	_, _, err := ts.get(context.Background())
	var te *tokenError
	if !errors.As(err, &te) || te.installationID != 9 {
		t.Errorf("err = %v, want a tokenError for installation 9", err)
	}
}

func TestAuthRetriesOnceWithNewTokenAfter401(t *testing.T) {
	srv := newScripted(t, reply{status: 401, body: `{"message":"Bad credentials"}`}, reply{status: 201, body: "ok"})
	clk := newFakeClock()
	m := &fakeMinter{ttl: time.Hour, clk: clk}
	ts := newTokenSource(9, m.mint, time.Minute, clk)
	c := httpClient(t, newAuth(ts))
	resp, body, err := do(t, c, context.Background(), "POST", srv.URL+"/repos/o/r/check-runs", `{"name":"n"}`)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 201 || body != "ok" {
		t.Errorf("got %d %q", resp.StatusCode, body)
	}
	reqs := srv.requests()
	if len(reqs) != 2 || reqs[0].auth != "token tok-1" || reqs[1].auth != "token tok-2" || reqs[1].body != `{"name":"n"}` {
		t.Errorf("requests = %+v, want tok-1 then tok-2 with the body replayed", reqs)
	}

	// A second 401 in a row is GitHub's answer, not a stale token.
	srv2 := newScripted(t, reply{status: 401})
	c2 := httpClient(t, newAuth(ts))
	resp, _, err = do(t, c2, context.Background(), "GET", srv2.URL, "")
	if err != nil || resp.StatusCode != 401 || len(srv2.requests()) != 2 {
		t.Errorf("got %v %v after %d requests, want 401 after 2", resp, err, len(srv2.requests()))
	}
}

package ghclient

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock records the waits asked of it and advances instead of
// sleeping, so that waits of minutes are asserted in microseconds.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

// newFakeClock starts at the real time, so that real context deadlines
// and the fake clock agree at the start.
func newFakeClock() *fakeClock { return &fakeClock{now: time.Now()} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	return nil
}

func (c *fakeClock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// reply is one scripted response.
type reply struct {
	status int
	header map[string]string
	body   string
	// hangup closes the connection without answering.
	hangup bool
}

// seen is one request as the scripted server received it.
type seen struct {
	method, path, body, auth string
}

// scripted is an HTTP server that answers requests with its replies in
// order, repeating the last one, and records what it received.
type scripted struct {
	*httptest.Server
	mu      sync.Mutex
	replies []reply
	got     []seen
}

func newScripted(t *testing.T, replies ...reply) *scripted {
	t.Helper()
	s := &scripted{replies: replies}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *scripted) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	n := len(s.got)
	s.got = append(s.got, seen{method: r.Method, path: r.URL.Path, body: string(body), auth: r.Header.Get("Authorization")})
	rep := s.replies[min(n, len(s.replies)-1)]
	s.mu.Unlock()
	if rep.hangup {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			_ = conn.Close()
		}
		return
	}
	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(rep.status)
	_, _ = io.WriteString(w, rep.body)
}

func (s *scripted) requests() []seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]seen(nil), s.got...)
}

// httpClient sends through mws over a fresh transport (no connection
// reuse between tests).
func httpClient(t *testing.T, mws ...middleware) *http.Client {
	t.Helper()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: chain(tr, mws...)}
}

func do(t *testing.T, c *http.Client, ctx context.Context, method, url, body string) (*http.Response, string, error) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body) // NewRequest sets GetBody for it
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b), nil
}

// newWriteSerializer is an installation's budget with the default
// limits, for the tests of write serialization.
func newWriteSerializer() middleware {
	return newBudget(Limits{}, 90*time.Second, realClock{}).middleware
}

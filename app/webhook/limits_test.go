package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// nopIngester accepts every delivery; these tests never get that far.
type nopIngester struct{}

func (nopIngester) Ingest(context.Context, Delivery) (bool, error) { return false, nil }

// countingBody is an endless body that counts the bytes read from it.
type countingBody struct{ read atomic.Int64 }

func (b *countingBody) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	b.read.Add(int64(len(p)))
	return len(p), nil
}

func (b *countingBody) Close() error { return nil }

func newLimitedHook(inFlight int64) *Handler {
	return &Handler{secret: []byte("s"), ingest: nopIngester{}, deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "d"}, []string{"event", "result"}),
		inFlight: newByteBudget(inFlight)}
}

// A declared length over the cap is refused before a byte is read: the
// sender cannot make the server hold 25 MB by announcing 26.
func TestWebhookRefusesDeclaredLengthUnread(t *testing.T) {
	h := newLimitedHook(64 << 20)
	body := &countingBody{}
	req := httptest.NewRequest(http.MethodPost, "/webhook", nil)
	req.Body = body
	req.ContentLength = maxWebhookBody + 1
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", rec.Code)
	}
	if n := body.read.Load(); n != 0 {
		t.Fatalf("read %d bytes of a body announced too large", n)
	}
}

// A body without a length is still cut at the cap while it is read.
func TestWebhookCapsUnannouncedLength(t *testing.T) {
	h := newLimitedHook(64 << 20)
	body := &countingBody{}
	req := httptest.NewRequest(http.MethodPost, "/webhook", nil)
	req.Body = body
	req.ContentLength = -1
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", rec.Code)
	}
	if n := body.read.Load(); n > maxWebhookBody+64<<10 {
		t.Fatalf("read %d bytes, more than the cap", n)
	}
}

// Unauthenticated bytes in flight are bounded for the whole server: once
// the budget is held by bodies still arriving, the next delivery is told
// to come back later instead of being read.
func TestWebhookInFlightBudget(t *testing.T) {
	tests := []struct {
		name   string
		length func(n int64) int64 // the Content-Length sent
	}{
		{"declared length", func(n int64) int64 { return n }},
		{"no length", func(int64) int64 { return -1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const budget, each = 1 << 20, 700 << 10
			h := newLimitedHook(budget)
			// The first body arrives in part and then stalls.
			pr, pw := io.Pipe()
			defer pw.Close()
			first := httptest.NewRequest(http.MethodPost, "/webhook", nil)
			first.Body, first.ContentLength = pr, tt.length(each)
			firstDone := make(chan int, 1)
			go func() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, first)
				firstDone <- rec.Code
			}()
			if _, err := pw.Write(make([]byte, each-1)); err != nil {
				t.Fatal(err)
			}
			second := httptest.NewRequest(http.MethodPost, "/webhook", strings.NewReader(strings.Repeat(" ", each)))
			second.ContentLength = tt.length(each)
			done := make(chan *httptest.ResponseRecorder, 1)
			go func() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, second)
				done <- rec
			}()
			select {
			case rec := <-done:
				if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
					t.Fatalf("second delivery: %d, Retry-After %q; want 503 with Retry-After", rec.Code, rec.Header().Get("Retry-After"))
				}
			case <-time.After(20 * time.Second):
				t.Fatal("the second delivery was not answered while the first held the budget")
			}
			// The budget comes back when the first ends.
			pw.CloseWithError(io.ErrUnexpectedEOF)
			<-firstDone
			if held := h.inFlight.held(); held != 0 {
				t.Fatalf("%d bytes still held after both ended", held)
			}
		})
	}
}

// A sender that announces large bodies and then sends nothing (a
// slowloris) holds no more of the budget than it has sent: GitHub's
// deliveries still get through while it waits on its connections.
func TestWebhookStalledSendersHoldOnlyWhatTheySent(t *testing.T) {
	const budget = 1 << 20
	h := newLimitedHook(budget)
	var stalled []*io.PipeWriter
	var ended []chan struct{}
	for range 4 {
		pr, pw := io.Pipe()
		stalled = append(stalled, pw)
		req := httptest.NewRequest(http.MethodPost, "/webhook", nil)
		req.Body, req.ContentLength = pr, budget/2
		done := make(chan struct{})
		ended = append(ended, done)
		go func() {
			defer close(done)
			h.ServeHTTP(httptest.NewRecorder(), req)
		}()
		// A request refused at once never reads its byte; closing the
		// pipe ends the write.
		go func() { _, _ = pw.Write([]byte("{")) }()
	}
	// Every stalled request has been read from, or refused.
	deadline := time.Now().Add(20 * time.Second)
	for h.inFlight.held() < 4*readChunk {
		if time.Now().After(deadline) {
			t.Fatalf("the stalled requests hold %d bytes", h.inFlight.held())
		}
		time.Sleep(time.Millisecond)
	}
	body := `{"zen":"hi"}`
	mac := hmac.New(sha256.New, []byte("s"))
	mac.Write([]byte(body))
	req := httptest.NewRequest(http.MethodPost, "/webhook", strings.NewReader(body))
	req.Header.Set("X-GitHub-Event", "ping")
	req.Header.Set("X-GitHub-Delivery", "d1")
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Errorf("a signed delivery while stalled senders wait: %d %q, want 200", rec.Code, rec.Body.String())
	}
	for i, pw := range stalled {
		pw.CloseWithError(io.ErrUnexpectedEOF)
		<-ended[i]
	}
	if held := h.inFlight.held(); held != 0 {
		t.Fatalf("%d bytes still held after every request ended", held)
	}
}

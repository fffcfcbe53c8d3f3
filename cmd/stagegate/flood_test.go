//go:build linux

package main

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stagegate/stagegate/internal/githubtest"
)

// floodSenders and floodBody are the flood of issue 8: 40 connections
// each sending a 25 MB body with a bad signature, all at once.
const (
	floodSenders = 40
	floodBody    = 25 << 20
)

// zeros is an endless body that costs the sender no memory.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// flood sends the bodies concurrently and returns the answers' status
// codes (0 where the server closed the connection first).
func flood(t testing.TB, url string) map[int]int {
	t.Helper()
	var (
		mu    sync.Mutex
		codes = map[int]int{}
		wg    sync.WaitGroup
	)
	for range floodSenders {
		wg.Go(func() {
			req, err := http.NewRequest(http.MethodPost, url+"/webhook", io.LimitReader(zeros{}, floodBody))
			if err != nil {
				t.Error(err)
				return
			}
			req.ContentLength = floodBody
			req.Header.Set("X-GitHub-Event", "push")
			req.Header.Set("X-GitHub-Delivery", githubtest.NewDeliveryID())
			req.Header.Set("X-Hub-Signature-256", "sha256="+strings.Repeat("0", 64))
			code := 0
			if resp, err := http.DefaultClient.Do(req); err == nil {
				code = resp.StatusCode
				resp.Body.Close()
			}
			mu.Lock()
			codes[code]++
			mu.Unlock()
		})
	}
	wg.Wait()
	return codes
}

// peakRSSMB is the process's peak resident memory so far (VmHWM).
func peakRSSMB(t testing.TB, pid int) float64 { return statusMB(t, pid, "VmHWM") }

// An unauthenticated flood cannot make the server hold what it sends:
// the bodies in flight are bounded, the rest are refused unread.
func TestWebhookFloodKeepsMemoryBounded(t *testing.T) {
	s := newServer(t, "stages: [{ name: s, actions: [{ name: a, run: 'true' }] }]\n")
	s.start()
	codes := flood(t, s.url)
	peak := peakRSSMB(t, s.cmd.Process.Pid)
	t.Logf("answers %v, peak RSS %.1f MB", codes, peak)
	if peak > 150 {
		t.Fatalf("peak RSS %.1f MB under the flood, over 150 MB", peak)
	}
	if codes[http.StatusAccepted] != 0 {
		t.Fatalf("bad signatures accepted: %v", codes)
	}
	// The server still answers.
	resp, err := http.Get(s.url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

// BenchmarkWebhookFloodRSS reports the peak resident memory of
// `stagegate serve` under the flood. It measures once whatever b.N is.
func BenchmarkWebhookFloodRSS(b *testing.B) {
	s := newServer(b, "stages: [{ name: s, actions: [{ name: a, run: 'true' }] }]\n")
	s.start()
	flood(b, s.url)
	b.ReportMetric(peakRSSMB(b, s.cmd.Process.Pid), "flood-peak-MB")
}

package app_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/stagegate/stagegate/app"
	"github.com/stagegate/stagegate/internal/githubtest"
	"github.com/stagegate/stagegate/internal/pgtest"
)

// ingestClients is how many deliveries are in flight at once, as when
// GitHub sends a burst.
const ingestClients = 16

// BenchmarkIngest sends signed push deliveries over HTTP to stagegate's
// webhook endpoint, which verifies, stores and queues each durably, and
// to a bare handler that only reads the body and checks the HMAC, as the
// baseline measured in the same run. It reports deliveries per second
// and the p50 and p99 time to the answer.
func BenchmarkIngest(b *testing.B) {
	body := githubtest.LoadWebhook("push")
	raw := mustJSON(b, body)
	b.Run("bare-hmac", func(b *testing.B) {
		secret := []byte(webhookSecret)
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			payload, _ := io.ReadAll(r.Body)
			mac := hmac.New(sha256.New, secret)
			mac.Write(payload)
			got, _ := hex.DecodeString(strings.TrimPrefix(r.Header.Get("X-Hub-Signature-256"), "sha256="))
			if !hmac.Equal(got, mac.Sum(nil)) {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			w.WriteHeader(http.StatusAccepted)
		})
		loadWebhooks(b, h, raw)
	})
	b.Run("stagegate", func(b *testing.B) {
		benchIngestApp(b, raw, "sqlite://"+filepath.Join(b.TempDir(), "db"))
	})
	// The same App on Postgres, one replica; skipped without a server
	// (see internal/pgtest).
	b.Run("stagegate-postgres", func(b *testing.B) {
		benchIngestApp(b, raw, pgtest.URL(b))
	})
}

// benchIngestApp loads the webhook endpoint of an App on database.
func benchIngestApp(b *testing.B, raw []byte, database string) {
	dir := b.TempDir()
	cfg := app.Config{
		Addr: "127.0.0.1:0", AppID: 1, PrivateKey: githubtest.New(b).PrivateKeyPEM(), WebhookSecret: []byte(webhookSecret),
		GitHubURL: "http://127.0.0.1:9/api/v3/", Database: database, DataDir: dir,
	}
	// Not started: the deliveries are queued durably and left there,
	// so the benchmark measures the request path alone.
	a, err := app.New(context.Background(), cfg, app.Options{Logger: zerolog.Nop()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = a.Stop(context.Background()) })
	loadWebhooks(b, a.Handler(), raw)
}

// loadWebhooks sends b.N signed deliveries from ingestClients
// goroutines and reports throughput and latency percentiles.
func loadWebhooks(b *testing.B, h http.Handler, body []byte) {
	srv := httptest.NewServer(h)
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: ingestClients}}
	latencies := make([]time.Duration, b.N)
	var next atomic.Int64
	var failed atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range ingestClients {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				// Each delivery has a body of its own, as GitHub's do: the
				// same body under another GUID is a replay, answered 200.
				own := append(fmt.Appendf(nil, `{"bench_delivery":%d,`, i), body[1:]...)
				req, _ := http.NewRequest(http.MethodPost, srv.URL+"/webhook", bytes.NewReader(own))
				req.Header.Set("X-GitHub-Event", "push")
				req.Header.Set("X-GitHub-Delivery", fmt.Sprintf("bench-%d-%d", b.N, i))
				req.Header.Set("X-Hub-Signature-256", githubtest.Sign([]byte(webhookSecret), own))
				t0 := time.Now()
				resp, err := client.Do(req)
				latencies[i] = time.Since(t0)
				if err != nil || resp.StatusCode != http.StatusAccepted {
					failed.Add(1)
				}
				if resp != nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d of %d deliveries failed", n, b.N)
	}
	slices.Sort(latencies)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "deliveries/s")
	b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkWebhookToFirstCheck measures the time from sending a push
// delivery to the first check run appearing on the fake GitHub, with the
// whole app running: queue, config read, run start.
func BenchmarkWebhookToFirstCheck(b *testing.B) {
	h := newBenchHarness(b, threeStages)
	latencies := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		sha, body := h.pushBody("main", map[string]string{"n": time.Now().String()})
		b.StartTimer()
		sent := time.Now()
		resp := githubtest.SendWebhook(b, h.srv.URL+"/webhook", webhookSecret, "push", githubtest.NewDeliveryID(), body)
		resp.Body.Close()
		first := h.waitFirstCheck(sha)
		latencies = append(latencies, first.Sub(sent))
		b.StopTimer()
		h.waitChecks(sha, 30*time.Second)
		b.StartTimer()
	}
	b.StopTimer()
	slices.Sort(latencies)
	b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkCallsPerRun counts the GitHub API calls of a run of N passing
// stages, the token aside, against the 2N+3 budget.
func BenchmarkCallsPerRun(b *testing.B) {
	for _, n := range []int{1, 3, 10} {
		b.Run(fmt.Sprintf("stages=%d", n), func(b *testing.B) {
			var p strings.Builder
			p.WriteString("stages:\n")
			for i := range n {
				fmt.Fprintf(&p, "  - { name: s%d, actions: [{ name: a, run: 'true' }] }\n", i)
			}
			h := newBenchHarness(b, p.String())
			calls := 0
			for range b.N {
				h.gh.ResetCalls()
				sha := h.push("main", map[string]string{"n": time.Now().String()})
				h.waitChecks(sha, 30*time.Second)
				for _, c := range h.gh.Calls() {
					// The run's calls are the installation's; the App's own (the
					// token, the installations list, the catch-up) are not the run's.
					// The look at the owner's .github at start is not the run's either.
					if c.Cred == githubtest.CredInstallationToken && c.Path != "/repos/acme/.github" {
						calls++
					}
				}
			}
			b.ReportMetric(float64(calls)/float64(b.N), "calls/run")
			b.ReportMetric(float64(2*n+3), "budget")
		})
	}
}

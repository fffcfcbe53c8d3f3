package app_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stagegate/stagegate/app/web"
)

// logClients is how many browsers follow the log at once.
const logClients = 50

// streamPipeline prints the time, in nanoseconds, 200 times 20 ms apart,
// once the file go is in its workspace (so that every client is
// connected before the first line).
const streamPipeline = `stages:
  - name: build
    actions:
      - name: chatty
        run: 'while [ ! -e go ]; do sleep 0.02; done; i=0; while [ $i -lt 200 ]; do echo "t=$(date +%s%N)"; sleep 0.02; i=$((i+1)); done'
`

// BenchmarkLogLineToBrowser measures the time from an action printing a
// line to 50 server-sent-event clients of the run page receiving it:
// through the runner, the engine, the recorder, the store, the hub and
// the stream. It reports the p50 and p99 over every line and client,
// and the Go heap in use and the process's resident memory while the 50
// stream.
func BenchmarkLogLineToBrowser(b *testing.B) {
	for range b.N {
		h := buildHarness(b, map[string]string{".stagegate.yml": streamPipeline}, 0, nil)
		h.gh.SetPrivate("acme", "web", false)
		h.start()
		sha := h.push("main", map[string]string{"a": "1"})
		runID := runIDOf(b, h, sha)
		url := h.srv.URL + "/acme/web/runs/" + runID + "/events?stage=build&action=chatty"
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)

		var (
			mu        sync.Mutex
			latencies []time.Duration
			ready     sync.WaitGroup
			done      sync.WaitGroup
		)
		ctx, cancel := context.WithCancel(context.Background())
		for range logClients {
			ready.Add(1)
			done.Go(func() {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					ready.Done()
					return
				}
				defer resp.Body.Close()
				ready.Done()
				sc := bufio.NewScanner(resp.Body)
				var mine []time.Duration
				for sc.Scan() {
					data, ok := strings.CutPrefix(sc.Text(), "data: [")
					if !ok {
						continue
					}
					now := time.Now()
					var lines []struct{ G []web.Segment }
					if json.Unmarshal([]byte("["+data), &lines) != nil {
						continue
					}
					for _, l := range lines {
						if len(l.G) == 0 {
							continue
						}
						if ns, err := strconv.ParseInt(strings.TrimPrefix(l.G[0].Text, "t="), 10, 64); err == nil {
							mine = append(mine, now.Sub(time.Unix(0, ns)))

						}
					}
				}
				mu.Lock()
				latencies = append(latencies, mine...)
				mu.Unlock()
			})
		}
		ready.Wait()
		letGo(b, h, runID)
		// Memory while every client streams: half-way through the lines.
		time.Sleep(2 * time.Second)
		var during runtime.MemStats
		runtime.ReadMemStats(&during)
		rss := selfRSSMB(b)
		h.waitChecks(sha, time.Minute)
		done.Wait()
		cancel()
		if len(latencies) < logClients*150 {
			b.Fatalf("%d lines received by %d clients, want about %d", len(latencies), logClients, logClients*200)
		}
		slices.Sort(latencies)
		b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
		b.ReportMetric(float64(during.HeapInuse)/(1<<20), "heap-MB")
		b.ReportMetric((float64(during.HeapInuse)-float64(before.HeapInuse))/(1<<20), "heap-delta-MB")
		b.ReportMetric(rss, "rss-MB")
		h.stop()
	}
}

// selfRSSMB is this process's resident memory (VmRSS).
func selfRSSMB(t testing.TB) float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			var kb float64
			if _, err := fmt.Sscanf(strings.TrimSpace(v), "%f kB", &kb); err == nil {
				return kb / 1024
			}
		}
	}
	t.Fatal("no VmRSS in /proc/self/status")
	return 0
}

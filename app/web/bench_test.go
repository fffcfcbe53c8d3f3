package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stagegate/stagegate/app/store"
)

// storedRuns is how many runs the store holds when the run page is
// timed.
const storedRuns = 1000

// BenchmarkRunPageTTFB times the run page's first byte with 1,000 runs
// stored, each with its stages, actions and 50 log lines, over HTTP: the
// page of a finished run with a 1,000-line log tail, as a details_url
// opens it. It reports p50 and p99 and the page's size.
func BenchmarkRunPageTTFB(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	must(b, f.db.SetRepoPrivate(ctx, "acme/open", false))
	var target store.Run
	lines := make([]string, 50)
	for i := range lines {
		lines[i] = fmt.Sprintf("\x1b[32mok\x1b[0m step %d of the build, with some text as a compiler prints", i)
	}
	for i := range storedRuns {
		branch := fmt.Sprintf("feature-%d", i%40)
		run := f.addRun(b, "acme/open", branch, lines)
		now := time.Now()
		must(b, f.db.RecordAction(ctx, store.Action{RunID: run.ID, Stage: "build", Name: "compile", Attempt: 1, Status: "success", Started: now, Duration: time.Second}))
		must(b, f.db.RecordAction(ctx, store.Action{RunID: run.ID, Stage: "build", Name: "lint", Attempt: 1, Status: "failure", Started: now, Duration: time.Second}))
		f.appendLines(b, run.ID, "build", "lint", lines)
		must(b, f.db.UpsertStage(ctx, store.Stage{RunID: run.ID, Name: "build", Status: store.StatusCompleted, Conclusion: "failure", StartedAt: now, FinishedAt: now.Add(time.Second)}))
		must(b, f.db.FinishRun(ctx, run.ID, "failure", "lint failed"))
		if i == storedRuns/2 {
			target = run
			long := make([]string, 2000)
			for j := range long {
				long[j] = fmt.Sprintf("line %d: %s", j, strings.Repeat("x", 80))
			}
			f.appendLines(b, run.ID, "build", "lint", long)
		}
	}
	b.Run("bare-handler", func(b *testing.B) {
		// The baseline: a static page over the same HTTP stack.
		page := []byte("<!doctype html><title>x</title>" + strings.Repeat("<p>baseline</p>", 100))
		url := newServer(b, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(page) }))
		timeTTFB(b, url)
	})
	b.Run("run-page", func(b *testing.B) { timeTTFB(b, f.srv.URL+"/acme/open/runs/"+target.ID) })
}

// timeTTFB requests url b.N times and reports the p50 and p99 time to
// the first byte of the answer, the p50 to its last, and its size.
func timeTTFB(b *testing.B, url string) {
	ctx := context.Background()
	client := &http.Client{}
	ttfb := make([]time.Duration, 0, b.N)
	total := make([]time.Duration, 0, b.N)
	size := 0
	b.ResetTimer()
	for range b.N {
		var first time.Time
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
			GotFirstResponseByte: func() { first = time.Now() },
		}), http.MethodGet, url, nil)
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
		ttfb = append(ttfb, first.Sub(start))
		total = append(total, time.Since(start))
		size = int(n)
	}
	b.StopTimer()
	slices.Sort(ttfb)
	slices.Sort(total)
	b.ReportMetric(float64(total[len(total)/2].Microseconds())/1000, "whole-p50-ms")
	b.ReportMetric(float64(ttfb[len(ttfb)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(ttfb[len(ttfb)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(size)/1024, "page-KB")
}

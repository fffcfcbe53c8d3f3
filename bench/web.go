package main

import "fmt"

// benchWeb measures the run pages: the run page's time to first byte
// with 1,000 runs stored against a static page's, and a log line's way
// from the action to 50 clients streaming the page's events, with the
// memory they take.
func benchWeb() ([]row, error) {
	page, err := goBench("./app/web/", "BenchmarkRunPageTTFB", "300x")
	if err != nil {
		return nil, err
	}
	stream, err := goBench("./app/", "BenchmarkLogLineToBrowser", "1x")
	if err != nil {
		return nil, err
	}
	bare, run := page["BenchmarkRunPageTTFB/bare-handler"], page["BenchmarkRunPageTTFB/run-page"]
	s := stream["BenchmarkLogLineToBrowser"]
	return []row{
		{"run page time to first byte, static page (baseline) p50 / p99", fmt.Sprintf("%.2f / %.2f ms", bare["p50-ms"], bare["p99-ms"]), "", ""},
		{"run page time to first byte, 1,000 runs stored, p50 / p99", fmt.Sprintf("%.1f / %.1f ms (whole %.0f KB page with a 1,000-line log: p50 %.1f ms)",
			run["p50-ms"], run["p99-ms"], run["page-KB"], run["whole-p50-ms"]), "p50 <= 20 ms", verdict(run["p50-ms"] <= 20)},
		{"log line, action to 50 streaming clients, p50 / p99", fmt.Sprintf("%.0f / %.0f ms", s["p50-ms"], s["p99-ms"]), "p99 <= 1 s", verdict(s["p99-ms"] <= 1000)},
		{"memory while 50 clients stream a log", fmt.Sprintf("Go heap %.1f MB (+%.1f MB for the streams), test process RSS %.0f MB",
			s["heap-MB"], s["heap-delta-MB"], s["rss-MB"]), "", ""},
	}, nil
}

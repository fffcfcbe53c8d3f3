package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
)

// benchResults maps a benchmark's name (without the -CPUS suffix) to its
// metrics by unit: "ns/op", "deliveries/s", "p99-ms", ...
type benchResults map[string]map[string]float64

// goBench runs `go test -bench` on a package and parses its output.
func goBench(pkg, pattern, benchtime string) (benchResults, error) {
	cmd := exec.Command("go", "test", "-run", "^$", "-bench", pattern, "-benchtime", benchtime, "-count", "1", pkg)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("go test -bench %s %s: %w\n%s", pattern, pkg, err, out)
	}
	return parseBench(out), nil
}

// parseBench reads lines such as
//
//	BenchmarkIngest/stagegate-2  3000  137190 ns/op  7289 deliveries/s  1.656 p50-ms
func parseBench(out []byte) benchResults {
	res := benchResults{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") {
			continue
		}
		name := fields[0]
		if i := strings.LastIndex(name, "-"); i > 0 {
			name = name[:i]
		}
		metrics := map[string]float64{}
		for i := 2; i+1 < len(fields); i += 2 {
			if v, err := strconv.ParseFloat(fields[i], 64); err == nil {
				metrics[fields[i+1]] = v
			}
		}
		res[name] = metrics
	}
	return res
}

// benchApp measures the App: webhook ingest against a bare HMAC handler,
// webhook to first check, and GitHub calls per run.
func benchApp() ([]row, error) {
	ingest, err := goBench("./app/", "BenchmarkIngest", "4000x")
	if err != nil {
		return nil, err
	}
	first, err := goBench("./app/", "BenchmarkWebhookToFirstCheck", "30x")
	if err != nil {
		return nil, err
	}
	calls, err := goBench("./app/", "BenchmarkCallsPerRun", "5x")
	if err != nil {
		return nil, err
	}
	rss, err := goBench("./cmd/stagegate/", "BenchmarkServeRSS|BenchmarkWebhookFloodRSS", "1x")
	if err != nil {
		return nil, err
	}
	sg, bare := ingest["BenchmarkIngest/stagegate"], ingest["BenchmarkIngest/bare-hmac"]
	fc := first["BenchmarkWebhookToFirstCheck"]
	rows := []row{
		{"webhooks/s, bare HMAC handler (baseline)", fmt.Sprintf("%.0f", bare["deliveries/s"]), "", ""},
		{"webhooks/s, stagegate, stored and queued durably", fmt.Sprintf("%.0f (%.2fx baseline)", sg["deliveries/s"], sg["deliveries/s"]/bare["deliveries/s"]), ">= 1500", verdict(sg["deliveries/s"] >= 1500)},
		{"webhook answer p50 / p99, 16 concurrent senders", fmt.Sprintf("%.1f / %.1f ms (bare %.1f / %.1f)", sg["p50-ms"], sg["p99-ms"], bare["p50-ms"], bare["p99-ms"]), "p99 <= 25 ms", verdict(sg["p99-ms"] <= 25)},
		{"webhook to first check run, p50 / p99", fmt.Sprintf("%.0f / %.0f ms", fc["p50-ms"], fc["p99-ms"]), "p50 <= 150 ms", verdict(fc["p50-ms"] <= 150)},
	}
	rows = append(rows, postgresIngestRow(sg, ingest["BenchmarkIngest/stagegate-postgres"]))
	mem := rss["BenchmarkServeRSS"]
	rows = append(rows,
		row{"RSS of stagegate serve, idle", fmt.Sprintf("%.1f MB", mem["idle-MB"]), "<= 40 MB", verdict(mem["idle-MB"] <= 40)},
		row{"RSS with 200 runs queued", fmt.Sprintf("%.1f MB", mem["queued200-MB"]), "<= 150 MB", verdict(mem["queued200-MB"] <= 150)},
	)
	flood := rss["BenchmarkWebhookFloodRSS"]["flood-peak-MB"]
	rows = append(rows, row{"peak RSS, 40 x 25 MB unsigned webhooks at once", fmt.Sprintf("%.1f MB", flood), "<= 150 MB", verdict(flood <= 150)})
	for _, n := range []int{1, 3, 10} {
		m := calls[fmt.Sprintf("BenchmarkCallsPerRun/stages=%d", n)]
		rows = append(rows, row{fmt.Sprintf("GitHub calls per run of %d stages", n), fmt.Sprintf("%.0f", m["calls/run"]),
			fmt.Sprintf("<= 2N+3 = %d", 2*n+3), verdict(m["calls/run"] <= float64(2*n+3))})
	}
	return rows, nil
}

// postgresIngestRow reads the ingest benchmark on Postgres against the
// SQLite one of the same run.
func postgresIngestRow(sqlite, pg map[string]float64) row {
	const name = "webhooks/s into Postgres, one replica"
	if pg == nil {
		return row{name, "not measured: set STAGEGATE_POSTGRES_URL to a server (apt install postgresql)", ">= 1500", ""}
	}
	return row{name, fmt.Sprintf("%.0f (%.2fx SQLite; p50 / p99 %.1f / %.1f ms)", pg["deliveries/s"], pg["deliveries/s"]/sqlite["deliveries/s"], pg["p50-ms"], pg["p99-ms"]),
		">= 1500", verdict(pg["deliveries/s"] >= 1500)}
}

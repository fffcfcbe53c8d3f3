//go:build linux

package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkServeRSS measures the resident memory of `stagegate serve`
// idle, and with 200 runs queued (two executing, the rest waiting), as
// the process's VmRSS. It measures once whatever b.N is.
func BenchmarkServeRSS(b *testing.B) {
	release := filepath.Join(b.TempDir(), "release")
	s := newServer(b, "mode: parallel\n"+slowUntil(release))
	s.start()
	pid := s.cmd.Process.Pid
	time.Sleep(time.Second) // let start-up garbage be collected
	idle := rssMB(b, pid)

	const runs = 200
	for i := range runs {
		s.push(map[string]string{"n": strconv.Itoa(i)})
	}
	waitFor(b, func() bool { return metric(b, s.url, `stagegate_queue_depth{queue="runs"}`) >= runs })
	time.Sleep(time.Second)
	queued := rssMB(b, pid)
	writeRelease(b, release)
	b.ReportMetric(idle, "idle-MB")
	b.ReportMetric(queued, "queued200-MB")
}

func rssMB(t testing.TB, pid int) float64 { return statusMB(t, pid, "VmRSS") }

// statusMB reads one memory field of /proc/<pid>/status, in MB.
func statusMB(t testing.TB, pid int, field string) float64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if kb, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(kb), "kB")))
			if err != nil {
				t.Fatal(err)
			}
			return float64(n) / 1024
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// metric reads one sample of the server's /metrics.
func metric(t testing.TB, base, name string) float64 {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return 0
}

//go:build unix

package main

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stagegate/stagegate/internal/githubtest"
	"github.com/stagegate/stagegate/internal/pgtest"
)

// BenchmarkReplicaIngest sends b.N signed status deliveries, each with a
// body of its own, from 16 senders spread over real `stagegate serve`
// processes, which store, queue and process them: on SQLite (one
// process, the baseline of the same run), and on Postgres with one and
// with three replicas. It reports deliveries per second and each
// replica's RSS afterwards.
func BenchmarkReplicaIngest(b *testing.B) {
	for _, c := range []struct {
		name     string
		replicas int
		db       func(testing.TB) string
	}{
		{"sqlite-1", 1, pgtest.SQLiteURL},
		{"postgres-1", 1, pgtest.URL},
		{"postgres-3", 3, pgtest.URL},
	} {
		b.Run(c.name, func(b *testing.B) {
			rs := newReplicaSet(b, c.replicas, c.db(b), "stages: [{ name: s, actions: [{ name: a, run: 'true' }] }]\n", "STAGEGATE_LOG_LEVEL=warn")
			for i := range rs.procs {
				rs.start(i)
			}
			bodies := make([][]byte, b.N)
			for i := range bodies {
				bodies[i] = rs.repo.Webhook("status", func(p map[string]any) {
					githubtest.SetPath(p, "id", i+1)
					githubtest.SetPath(p, "sha", fmt.Sprintf("%040x", i+1))
				})
			}
			client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
			var (
				next, failed atomic.Int64
				wg           sync.WaitGroup
			)
			b.ResetTimer()
			start := time.Now()
			for range 16 {
				wg.Go(func() {
					for {
						i := int(next.Add(1)) - 1
						if i >= b.N {
							return
						}
						code, _, err := send(client, rs.procs[i%len(rs.procs)].url, delivery{event: "status", guid: githubtest.NewDeliveryID(), body: bodies[i]})
						if err != nil || code != http.StatusAccepted {
							failed.Add(1)
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
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "deliveries/s")
			var rss float64
			for _, p := range rs.procs {
				rss = max(rss, statusMB(b, p.cmd.Process.Pid, "VmRSS"))
			}
			b.ReportMetric(rss, "max-rss-MB")
		})
	}
}

// BenchmarkReplicaTakeover kills, with SIGKILL, the replica of two that
// executes a run, and measures the time until the other has taken the
// run over (concluded its checks and queued it again), with the default
// lease (15s).
func BenchmarkReplicaTakeover(b *testing.B) {
	release := filepath.Join(b.TempDir(), "release")
	dbURL := pgtest.URL(b)
	rs := newReplicaSet(b, 2, dbURL, slowUntil(release))
	for i := range rs.procs {
		rs.start(i)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	var took time.Duration
	for range b.N {
		sha := rs.repo.Commit("main", map[string]string{"a": time.Now().String()}, "change")
		body := rs.repo.Webhook("push", func(p map[string]any) {
			githubtest.SetPath(p, "ref", "refs/heads/main")
			githubtest.SetPath(p, "after", sha)
		})
		if code, text, err := send(http.DefaultClient, rs.procs[0].url, delivery{event: "push", guid: githubtest.NewDeliveryID(), body: body}); err != nil || code != http.StatusAccepted {
			b.Fatalf("push: %d %s %v", code, text, err)
		}
		var runID, owner string
		waitForLong(b, 60*time.Second, "the run leased", func() bool {
			err := conn.QueryRow(ctx, `SELECT r.id, l.owner FROM runs r JOIN run_leases l ON l.run_id = r.id WHERE r.sha = $1 AND r.status = 'in_progress'`, sha).Scan(&runID, &owner)
			return err == nil
		})
		victim := -1
		for i, p := range rs.procs {
			if p.cmd.ProcessState == nil && fmt.Sprint(p.cmd.Process.Pid) == pidOf(owner) {
				victim = i
			}
		}
		if victim < 0 {
			b.Fatalf("no replica owns %q", owner)
		}
		if err := rs.procs[victim].cmd.Process.Signal(syscall.SIGKILL); err != nil {
			b.Fatal(err)
		}
		_ = rs.procs[victim].cmd.Wait()
		killed := time.Now()
		waitForLong(b, 2*time.Minute, "the run taken over", func() bool {
			var status string
			return conn.QueryRow(ctx, `SELECT status FROM runs WHERE id = $1`, runID).Scan(&status) == nil && status == "completed"
		})
		took += time.Since(killed)
		rs.procs[victim].log.Close()
		rs.start(victim)
	}
	b.ReportMetric(took.Seconds()/float64(b.N), "takeover-s")
}

// pidOf reads the pid in a replica's name (host/pid/random).
func pidOf(owner string) string {
	parts := strings.Split(owner, "/")
	if len(parts) < 3 {
		return ""
	}
	return parts[len(parts)-2]
}

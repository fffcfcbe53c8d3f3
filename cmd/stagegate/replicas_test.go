//go:build unix

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stagegate/stagegate/checks"
	"github.com/stagegate/stagegate/internal/githubtest"
	"github.com/stagegate/stagegate/internal/pgtest"
)

// replicaSet is several `stagegate serve` processes on one Postgres
// database and the fake GitHub, each with its own data dir and log file.
type replicaSet struct {
	t     testing.TB
	gh    *githubtest.Server
	repo  *githubtest.Repo
	dbURL string
	env   []string
	procs []*replicaProc
}

type replicaProc struct {
	url, dir, logPath string
	cmd               *exec.Cmd
	log               *os.File
}

// newReplicaSet prepares n replicas on the database at dbURL; env adds
// settings.
func newReplicaSet(t testing.TB, n int, dbURL, pipeline string, env ...string) *replicaSet {
	// GitHub's limits on creating content are per installation, and each
	// replica paces itself alone: time is compressed (a minute is a
	// second) so that the burst's runs fit the limits in a test's time.
	gh := githubtest.New(t, githubtest.WithRateLimits(githubtest.RateLimits{Minute: time.Second, Hour: 10 * time.Second}))
	repo := gh.AddRepo("acme", "web")
	repo.Commit("main", map[string]string{".stagegate.yml": pipeline}, "initial")
	gh.AddInstallation("acme", "web")
	rs := &replicaSet{t: t, gh: gh, repo: repo, dbURL: dbURL}
	rs.env = []string{
		fmt.Sprintf("STAGEGATE_APP_ID=%d", gh.AppID()),
		"STAGEGATE_PRIVATE_KEY=" + string(gh.PrivateKeyPEM()),
		"STAGEGATE_WEBHOOK_SECRET=" + serveSecret,
		"STAGEGATE_GITHUB_URL=" + gh.APIURL(),
		"STAGEGATE_DATABASE=" + dbURL,
		"STAGEGATE_SHUTDOWN_GRACE=1s",
		"STAGEGATE_LOG_LEVEL=info",
	}
	rs.env = append(rs.env, env...)
	logs := t.TempDir()
	for i := range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		rs.procs = append(rs.procs, &replicaProc{url: "http://" + addr, dir: t.TempDir(),
			logPath: filepath.Join(logs, fmt.Sprintf("replica-%d.log", i))})
	}
	t.Cleanup(func() {
		for i, p := range rs.procs {
			if p.cmd != nil && p.cmd.ProcessState == nil {
				_ = p.cmd.Process.Kill()
				_ = p.cmd.Wait()
			}
			if p.log != nil {
				p.log.Close()
			}
			if t.Failed() {
				b, _ := os.ReadFile(p.logPath)
				if len(b) > 200_000 {
					b = b[len(b)-200_000:]
				}
				t.Logf("replica %d's output (%s), its end:\n%s", i, p.logPath, b)
			}
		}
	})
	return rs
}

// start starts replica i and waits until it is ready.
func (rs *replicaSet) start(i int) {
	rs.t.Helper()
	p := rs.procs[i]
	f, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		rs.t.Fatal(err)
	}
	p.log = f
	p.cmd = exec.Command(binary, "serve", "--sandbox=off")
	p.cmd.Env = append(os.Environ(), append(rs.env,
		"STAGEGATE_ADDR="+strings.TrimPrefix(p.url, "http://"),
		"STAGEGATE_DATA_DIR="+filepath.Join(p.dir, "data"))...)
	p.cmd.Stdout, p.cmd.Stderr = f, f
	if err := p.cmd.Start(); err != nil {
		rs.t.Fatal(err)
	}
	waitForLong(rs.t, 60*time.Second, "replica ready", func() bool {
		resp, err := http.Get(p.url + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

func waitForLong(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %v waiting for: %s", limit, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// delivery is one webhook to send.
type delivery struct {
	event, guid string
	body        []byte
	// duplicate marks a delivery sent before, under its GUID or another.
	duplicate bool
}

// send delivers d to url as GitHub does, returning the status and body.
func send(client *http.Client, url string, d delivery) (int, string, error) {
	req, err := http.NewRequest(http.MethodPost, url+"/webhook", bytes.NewReader(d.body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", d.event)
	req.Header.Set("X-GitHub-Delivery", d.guid)
	req.Header.Set("X-GitHub-Hook-ID", "1")
	req.Header.Set("X-Hub-Signature-256", githubtest.Sign([]byte(serveSecret), d.body))
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

// TestThreeReplicas runs three `stagegate serve` processes on one
// Postgres: a burst of 2,000 signed deliveries spread across them, 10% of
// them duplicates (the same GUID again, or the same body under another),
// makes runs whose deploy stages share one environment; one replica is
// killed with SIGKILL while it executes runs, and started again.
// Afterwards every delivery was processed once, every run executed once
// to success (a run interrupted by the kill has its checks concluded and
// resumes as a new run, once), no check is left in progress, and no two
// deploys overlapped.
func TestThreeReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("three replicas and 2,000 deliveries: not in -short")
	}
	const (
		total  = 2000
		dups   = total / 10
		pushes = 30
	)
	deployLog := filepath.Join(t.TempDir(), "deploys.log")
	rs := newReplicaSet(t, 3, pgtest.URL(t), `environments:
  production: { branches: ["**"] }
stages:
  - name: build
    actions: [{ name: compile, run: 'sleep 0.5; echo built' }]
  - name: ship
    environment: production
    actions:
      - { name: deploy, run: 'echo "start $STAGEGATE_RUN_ID" >> `+deployLog+`; sleep 0.2; echo "end $STAGEGATE_RUN_ID" >> `+deployLog+`' }
`, "STAGEGATE_LEASE_TTL=5s") // a killed replica's runs taken over within seconds
	started := time.Now()
	for i := range rs.procs {
		rs.start(i)
	}

	// The deliveries: pushes to branches of their own, each a run, and
	// statuses of other commits, which wake gates and start nothing.
	var unique []delivery
	shas := map[string]bool{}
	for i := range total - dups {
		if i%((total-dups)/pushes) == 0 && len(shas) < pushes {
			branch := fmt.Sprintf("feature-%d", i)
			sha := rs.repo.Commit(branch, map[string]string{"f": branch}, "change")
			shas[sha] = true
			body := rs.repo.Webhook("push", func(p map[string]any) {
				githubtest.SetPath(p, "ref", "refs/heads/"+branch)
				githubtest.SetPath(p, "after", sha)
				githubtest.SetPath(p, "created", true)
			})
			unique = append(unique, delivery{event: "push", guid: githubtest.NewDeliveryID(), body: body})
			continue
		}
		body := rs.repo.Webhook("status", func(p map[string]any) {
			githubtest.SetPath(p, "id", i+1)
			githubtest.SetPath(p, "sha", fmt.Sprintf("%040x", i+1))
			githubtest.SetPath(p, "context", fmt.Sprintf("ci/other-%d", i))
		})
		unique = append(unique, delivery{event: "status", guid: githubtest.NewDeliveryID(), body: body})
	}
	all := append([]delivery(nil), unique...)
	for i := range dups {
		d := unique[(i*7)%len(unique)]
		d.duplicate = true
		if i%2 == 1 {
			d.guid = githubtest.NewDeliveryID() // the same body under another GUID
		}
		all = append(all, d)
	}

	prepared := time.Now()
	// The burst: 16 senders, each delivery to the next replica in turn.
	client := &http.Client{Timeout: 30 * time.Second}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []string
		next = make(chan int)
	)
	for range 16 {
		wg.Go(func() {
			for i := range next {
				d := all[i]
				code, text, err := send(client, rs.procs[i%len(rs.procs)].url, d)
				want := http.StatusAccepted
				if d.duplicate {
					want = http.StatusOK
				}
				if err != nil || code != want || (d.duplicate && !strings.Contains(text, "duplicate")) {
					mu.Lock()
					errs = append(errs, fmt.Sprintf("delivery %d (%s, duplicate %v): %d %q %v", i, d.event, d.duplicate, code, text, err))
					mu.Unlock()
				}
			}
		})
	}
	// The duplicates come after what they repeat was answered.
	for i := range all {
		if i == len(unique) {
			// Let the originals in flight be stored first.
			close(next)
			wg.Wait()
			next = make(chan int)
			for range 16 {
				wg.Go(func() {
					for i := range next {
						d := all[i]
						code, text, err := send(client, rs.procs[i%len(rs.procs)].url, d)
						if err != nil || code != http.StatusOK || !strings.Contains(text, "duplicate") {
							mu.Lock()
							errs = append(errs, fmt.Sprintf("duplicate %d: %d %q %v", i, code, text, err))
							mu.Unlock()
						}
					}
				})
			}
		}
		next <- i
	}
	close(next)
	wg.Wait()
	sent := time.Since(prepared)
	if len(errs) > 0 {
		t.Fatalf("%d deliveries answered wrongly, first: %s", len(errs), errs[0])
	}

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, rs.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	count := func(query string, args ...any) int {
		t.Helper()
		var n int
		if err := conn.QueryRow(ctx, query, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return n
	}

	// Kill replica 0 while it executes a run.
	victim := rs.procs[0]
	pid := victim.cmd.Process.Pid
	waitForLong(t, 120*time.Second, "replica 0 executing a run", func() bool {
		return count(`SELECT COUNT(*) FROM run_leases l JOIN runs r ON r.id = l.run_id
WHERE l.owner LIKE $1 AND r.status = 'in_progress'`, fmt.Sprintf("%%/%d/%%", pid)) > 0
	})
	killedHolding := count(`SELECT COUNT(*) FROM run_leases WHERE owner LIKE $1`, fmt.Sprintf("%%/%d/%%", pid))
	if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = victim.cmd.Wait()
	killed := time.Now()
	// A deploy the kill cut short never writes its end: what was written
	// by then tells it apart from two deploys at once.
	linesAtKill := 0
	if b, err := os.ReadFile(deployLog); err == nil {
		linesAtKill = strings.Count(string(b), "\n")
	}
	victim.log.Close()
	rs.start(0)

	// Everything ends: every delivery processed, every run concluded.
	waitForLong(t, 10*time.Minute, "every delivery processed and every run concluded", func() bool {
		return count(`SELECT COUNT(*) FROM deliveries WHERE processed_at IS NULL`) == 0 &&
			count(`SELECT COUNT(*) FROM runs WHERE status <> 'completed'`) == 0
	})
	t.Logf("%d deliveries sent in %v; replica 0 killed holding %d leases; everything concluded %v after the kill, %v in all",
		len(all), sent.Round(time.Millisecond), killedHolding, time.Since(killed).Round(time.Millisecond), time.Since(started).Round(time.Millisecond))

	if n := count(`SELECT COUNT(*) FROM deliveries`); n != len(unique) {
		t.Errorf("%d deliveries stored, want %d (each once)", n, len(unique))
	}
	if n := count(`SELECT COUNT(*) FROM river_job WHERE kind = 'process_delivery'`); n != len(unique) {
		t.Errorf("%d delivery jobs, want %d (one per delivery)", n, len(unique))
	}
	if n := count(`SELECT COUNT(*) FROM river_job WHERE kind = 'process_delivery' AND state <> 'completed'`); n != 0 {
		t.Errorf("%d delivery jobs not completed", n)
	}

	// Each commit: one run to success, and its other runs cancelled by
	// the kill, each one saying which run took over.
	runChecks := rs.gh.CheckRuns("acme", "web")
	for sha := range shas {
		var summaries []githubtest.CheckRun
		perName := map[string]int{}
		for _, c := range runChecks {
			if c.HeadSHA != sha {
				continue
			}
			if c.Status != "completed" {
				t.Errorf("%s on %s left %s", c.Name, sha[:7], c.Status)
			}
			if c.Conclusion == "cancelled" && strings.Contains(c.Output.Summary, "started again as run") {
				continue
			}
			if c.Name != "stagegate" && c.Conclusion == "success" && strings.Contains(c.Output.Summary, "reused") {
				// A resumed run's stage that had passed before the kill.
				continue
			}
			// A stage of a run the kill interrupted runs again in the new
			// run unless its pass was recorded before the kill: checks of
			// one name are counted per run, which must make each once.
			runID, _ := checks.ParseExternalID(c.ExternalID)
			perName[c.Name+" of run "+runID]++
			if c.Name == "stagegate" {
				summaries = append(summaries, c)
			}
		}
		for name, n := range perName {
			if n != 1 {
				var seen []string
				for _, c := range runChecks {
					if c.HeadSHA == sha && strings.HasPrefix(name, c.Name+" of run ") {
						seen = append(seen, fmt.Sprintf("#%d %s %s ext %s %q %q", c.ID, c.Status, c.Conclusion, c.ExternalID, c.Output.Title, c.Output.Summary))
					}
				}
				t.Errorf("%s on %s: %d check runs besides those the kill cancelled, want 1:\n%s", name, sha[:7], n, strings.Join(seen, "\n"))
			}
		}
		if len(summaries) != 1 || summaries[0].Conclusion != "success" {
			t.Errorf("run of %s: summaries %+v, want one success", sha[:7], summaries)
		}
	}
	if n := count(`SELECT COUNT(*) FROM runs WHERE conclusion = 'success'`); n != len(shas) {
		t.Errorf("%d runs succeeded, want %d (one per push)", n, len(shas))
	}

	// Deploys never overlapped: each start is followed by its own end,
	// but for the one deploy the kill cut short. That one was the last
	// line written before the kill and never ends: its process died with
	// its replica, and the environment's line went on once its lease
	// lapsed.
	b, err := os.ReadFile(deployLog)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	deployed := map[string]bool{}
	for i := 0; i < len(lines); {
		start, end := lines[i], ""
		if i+1 < len(lines) {
			end = lines[i+1]
		}
		id, ok := strings.CutPrefix(start, "start ")
		if ok && end != "end "+id && i == linesAtKill-1 && !slices.Contains(lines, "end "+id) {
			t.Logf("the deploy of run %s was cut short by the kill", id)
			i++
			continue
		}
		if !ok || end != "end "+id {
			t.Fatalf("deploys overlapped at line %d: %q then %q\n%s", i+1, start, end, b)
		}
		deployed[id] = true
		i += 2
	}
	if len(deployed) < len(shas) {
		t.Errorf("%d deploys, want at least %d", len(deployed), len(shas))
	}
}

// TestSIGTERMHandsWaitingGatesBack: a replica stopped with SIGTERM, as a
// rolling deploy does, while a run waits at its deploy gate for an
// approval, hands the run back at once rather than holding it for its
// grace period (ten minutes here): the waiting check ends saying the run
// starts again, and the other replica takes the new run to the same gate.
func TestSIGTERMHandsWaitingGatesBack(t *testing.T) {
	dbURL := pgtest.URL(t)
	rs := newReplicaSet(t, 2, dbURL, `environments:
  production: { approval: manual, branches: [main] }
stages:
  - name: build
    actions: [{ name: compile, run: 'echo built' }]
  - name: ship
    environment: production
    actions: [{ name: deploy, run: 'echo shipped' }]
`, "STAGEGATE_SHUTDOWN_GRACE=10m", "STAGEGATE_LEASE_TTL=5s")
	for i := range rs.procs {
		rs.start(i)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	sha := rs.repo.Commit("main", map[string]string{"a": "1"}, "change")
	body := rs.repo.Webhook("push", func(p map[string]any) {
		githubtest.SetPath(p, "ref", "refs/heads/main")
		githubtest.SetPath(p, "after", sha)
	})
	if code, text, err := send(http.DefaultClient, rs.procs[0].url, delivery{event: "push", guid: githubtest.NewDeliveryID(), body: body}); err != nil || code != http.StatusAccepted {
		t.Fatalf("push: %d %s %v", code, text, err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, c := range rs.gh.CheckRuns("acme", "web") {
				t.Logf("check %s #%d: %s %s %q %q", c.Name, c.ID, c.Status, c.Conclusion, c.Output.Title, c.Output.Summary)
			}
		}
	})
	// The run waits at the gate.
	var runID, owner string
	waitForLong(t, 90*time.Second, "the run waiting at its gate", func() bool {
		c, ok := latestCheck(rs.gh, sha, "stagegate/ship")
		// A gate waiting for an approval is a check completed as
		// action_required, with its Deploy button.
		if !ok || !strings.Contains(c.Output.Title, "waiting for approval") {
			return false
		}
		return conn.QueryRow(ctx, `SELECT r.id, l.owner FROM runs r JOIN run_leases l ON l.run_id = r.id WHERE r.sha = $1 AND r.status = 'in_progress'`, sha).Scan(&runID, &owner) == nil
	})
	victim := 0
	if pidOf(owner) != fmt.Sprint(rs.procs[0].cmd.Process.Pid) {
		victim = 1
	}
	if err := rs.procs[victim].cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- rs.procs[victim].cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("the stopped replica exited with %v", err)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("the stopped replica still holds its waiting run after two minutes (its grace is ten)")
	}
	waitForLong(t, 90*time.Second, "the new run waiting at the gate on the other replica", func() bool {
		var newOwner string
		err := conn.QueryRow(ctx, `SELECT l.owner FROM runs r JOIN run_leases l ON l.run_id = r.id WHERE r.sha = $1 AND r.status = 'in_progress' AND r.id <> $2`, sha, runID).Scan(&newOwner)
		return err == nil && pidOf(newOwner) == fmt.Sprint(rs.procs[1-victim].cmd.Process.Pid)
	})
	var status, reason string
	if err := conn.QueryRow(ctx, `SELECT status, reason FROM runs WHERE id = $1`, runID).Scan(&status, &reason); err != nil {
		t.Fatal(err)
	}
	if status != "completed" || !strings.Contains(reason, "started again as run") {
		t.Errorf("the handed-back run: %s %q", status, reason)
	}
	for _, c := range rs.gh.CheckRuns("acme", "web") {
		if c.HeadSHA == sha && c.ExternalID != "" && strings.Contains(c.ExternalID, runID) && c.Status != "completed" {
			t.Errorf("%s of the handed-back run left %s", c.Name, c.Status)
		}
	}
	var leases int
	if err := conn.QueryRow(ctx, `SELECT COUNT(*) FROM run_leases WHERE owner = $1`, owner).Scan(&leases); err != nil || leases != 0 {
		t.Errorf("the stopped replica left %d leases (%v)", leases, err)
	}
}

// latestCheck is the latest check run of the name on sha.
func latestCheck(gh *githubtest.Server, sha, name string) (githubtest.CheckRun, bool) {
	var latest githubtest.CheckRun
	found := false
	for _, c := range gh.CheckRuns("acme", "web") {
		if c.HeadSHA == sha && c.Name == name && c.ID > latest.ID {
			latest, found = c, true
		}
	}
	return latest, found
}

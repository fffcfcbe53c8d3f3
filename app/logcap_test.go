package app_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stagegate/stagegate/app"
	"github.com/stagegate/stagegate/internal/githubtest"
)

// loud prints n lines of about 900 bytes, numbered.
func loud(n int) string {
	return `stages:
  - name: s
    actions:
      - name: loud
        run: 'i=0; while [ $i -lt ` + strconv.Itoa(n) + ` ]; do printf "line %06d %0900d\n" $i 0; i=$((i+1)); done'
`
}

func fileSize(path string) int64 {
	if st, err := os.Stat(path); err == nil {
		return st.Size()
	}
	return 0
}

// An action printing far more than the cap leaves its head and its tail
// in the store, the cut noted there and on its check, and the database no
// bigger than the cap allows.
func TestLogStoredToItsCap(t *testing.T) {
	const logCap = 256 << 10
	h := newHarness(t, map[string]string{".stagegate.yml": loud(5_000)})
	h.stop()
	h.options = func(o *app.Options) { o.LogCap = logCap }
	h.start()
	before := fileSize(h.app.DBPath())
	sha := h.push("main", map[string]string{"a": "1"})
	checks := h.waitChecks(sha, 120*time.Second)
	waitFor(t, func() bool { return h.runFinished(sha) })

	n, size, texts, err := h.app.StoredLog(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// Each line is charged its text and a row's overhead.
	if stored := size + int64(n)*64; stored > logCap+2<<10 {
		t.Errorf("stored %d lines, %d bytes, over the %d cap", n, stored, logCap)
	}
	if len(texts) < 3 || !strings.HasPrefix(texts[0], "line 000000") || !strings.HasPrefix(texts[len(texts)-1], "line 004999") {
		t.Fatalf("head and tail not kept: %d lines", len(texts))
	}
	noted := false
	for _, s := range texts {
		noted = noted || strings.Contains(s, "from here only its last")
	}
	if !noted {
		t.Error("the cut is not noted in the stored log")
	}
	if c := checks["stagegate/s"]; !strings.Contains(c.Output.Text, "only its first and last") {
		t.Errorf("the cut is not noted on the check:\n%s", c.Output.Text)
	}
	// 4.5 MB were printed; the database grows by the cap and its pages
	// (the WAL beside it is checkpointed every 1,000 pages).
	grew := fileSize(h.app.DBPath()) - before
	t.Logf("database grew by %d KB, WAL is %d KB", grew>>10, fileSize(h.app.DBPath()+"-wal")>>10)
	if grew > 3*logCap {
		t.Errorf("the database grew by %d KB", grew>>10)
	}
}

// Below the free-space floor no log line is stored, the check says why,
// and webhooks are still stored.
func TestNoLogsBelowTheFreeSpaceFloor(t *testing.T) {
	h := newHarness(t, map[string]string{".stagegate.yml": loud(10)})
	h.stop()
	var free atomic.Uint64
	free.Store(100 << 20)
	h.cfg.MinFreeSpace = 1 << 30
	h.options = func(o *app.Options) {
		o.FreeSpace = func(string) (uint64, error) { return free.Load(), nil }
	}
	h.start()
	sha := h.push("main", map[string]string{"a": "1"})
	checks := h.waitChecks(sha, 60*time.Second)
	waitFor(t, func() bool { return h.runFinished(sha) })
	n, _, _, err := h.app.StoredLog(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d log lines stored below the floor", n)
	}
	if c := checks["stagegate/s"]; !strings.Contains(c.Output.Text, "less than 1.0 GiB free") || !strings.Contains(c.Output.Text, "line 000009") {
		t.Errorf("the check does not say logs are not stored, or lost its tail:\n%s", c.Output.Text)
	}
	if got := h.app.RunsForSHA(context.Background(), "acme/web", sha); got != 1 {
		t.Errorf("runs for the push: %d; the webhook was not stored", got)
	}
	// With space again, logs are stored again.
	free.Store(2 << 30)
	sha = h.push("main", map[string]string{"a": "2"})
	h.waitChecks(sha, 60*time.Second)
	waitFor(t, func() bool { return h.runFinished(sha) })
	if n, _, _, _ := h.app.StoredLog(context.Background()); n == 0 {
		t.Error("no log stored once there was space again")
	}
}

// Log lines and deliveries older than the retention are pruned; newer
// ones are kept.
func TestRetentionPrunes(t *testing.T) {
	h := newHarness(t, map[string]string{".stagegate.yml": loud(5)})
	sha := h.push("main", map[string]string{"a": "1"})
	h.waitChecks(sha, 60*time.Second)
	waitFor(t, func() bool { return h.runFinished(sha) })
	ctx := context.Background()
	guid := githubtest.NewDeliveryID()
	if code, text := h.send("ping", guid, h.repo.Webhook("ping", nil)); code != 200 {
		t.Fatalf("ping: %d %s", code, text)
	}
	// A ping is answered without being stored; a push is stored.
	guid = githubtest.NewDeliveryID()
	if code, text := h.send("push", guid, h.repo.Webhook("push", nil)); code != 202 {
		t.Fatalf("push: %d %s", code, text)
	}
	waitFor(t, func() bool { _, done := h.app.DeliveryResult(ctx, guid); return done })
	h.app.PruneExpiredAt(ctx, time.Now())
	if n, _, _, _ := h.app.StoredLog(ctx); n == 0 || !h.app.DeliveryStored(ctx, guid) {
		t.Fatal("records within the retention were pruned")
	}
	h.stop()
	h.cfg.Retention = 24 * time.Hour
	h.start()
	h.app.PruneExpiredAt(ctx, time.Now().Add(25*time.Hour))
	if n, _, _, _ := h.app.StoredLog(ctx); n != 0 {
		t.Errorf("%d expired log lines left", n)
	}
	if h.app.DeliveryStored(ctx, guid) {
		t.Error("an expired delivery is left")
	}
}

// Many actions, each printing under the per-attempt cap, store no more
// than the run's cap between them: 50 stages of 100 actions cannot store
// 50 GB per push.
func TestRunLogsStoredToTheRunCap(t *testing.T) {
	const logCap, runCap = 64 << 10, 256 << 10
	var b strings.Builder
	b.WriteString("stages:\n  - name: s\n    actions:\n")
	for i := range 10 {
		// 60 lines of about 900 bytes: under logCap, never cut.
		b.WriteString(`      - { name: a` + strconv.Itoa(i) + `, run_order: ` + strconv.Itoa(i+1) + `, run: 'i=0; while [ $i -lt 60 ]; do printf "line %06d %0900d\n" $i 0; i=$((i+1)); done' }` + "\n")
	}
	h := newHarness(t, map[string]string{".stagegate.yml": b.String()})
	h.stop()
	h.options = func(o *app.Options) { o.LogCap, o.RunLogCap = logCap, runCap }
	h.start()
	sha := h.push("main", map[string]string{"a": "1"})
	checks := h.waitChecks(sha, 120*time.Second)
	waitFor(t, func() bool { return h.runFinished(sha) })
	n, size, _, err := h.app.StoredLog(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if stored := size + int64(n)*64; stored > runCap+2<<10 {
		t.Errorf("stored %d lines, %d bytes, over the run's %d cap", n, stored, runCap)
	}
	if n == 0 {
		t.Error("nothing stored")
	}
	if c := checks["stagegate/s"]; c.Conclusion != "success" || !strings.Contains(c.Output.Text, "this run's logs reached the run's cap of 256 KiB") {
		t.Errorf("the run cap is not noted on the check (%s):\n%s", c.Conclusion, c.Output.Text)
	}
}

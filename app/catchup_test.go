package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/stagegate/stagegate/internal/githubtest"
)

func TestCatchUpRedeliversWhatWasMissed(t *testing.T) {
	h := newHarness(t, map[string]string{".stagegate.yml": threeStages})
	ghApp := h.gh.App()
	ghApp.SetWebhook(h.srv.URL+"/webhook", webhookSecret)

	// One push reached stagegate; another failed while it was down.
	okSHA, okBody := h.pushBody("main", map[string]string{"a": "1"})
	delivered, code := h.gh.Deliver(ghApp, "push", "", okBody)
	if code != 202 {
		t.Fatalf("delivery: %d", code)
	}
	h.waitChecks(okSHA, 20*time.Second)
	missedSHA, missedBody := h.pushBody("main", map[string]string{"a": "2"})
	missed := h.gh.RecordFailedDelivery(ghApp, "push", "", missedBody)

	n, err := h.app.CatchUp(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("catch-up = %d, %v; want 1 redelivery", n, err)
	}
	h.gh.WaitDeliveries()
	if got := h.waitChecks(missedSHA, 20*time.Second); got["stagegate"].Conclusion != "success" {
		t.Errorf("the missed push did not run:%s", describeChecks(got))
	}
	var redelivered []githubtest.HookDelivery
	for _, d := range h.gh.HookDeliveries(ghApp) {
		if d.Redelivery {
			redelivered = append(redelivered, d)
		}
	}
	if len(redelivered) != 1 || redelivered[0].GUID != missed || redelivered[0].GUID == delivered || !redelivered[0].Success() {
		t.Errorf("redeliveries = %+v, want one of %s, answered 2xx", redelivered, missed)
	}
	// Nothing is missed any more: a second pass asks for nothing.
	if n, err := h.app.CatchUp(context.Background()); err != nil || n != 0 {
		t.Errorf("second catch-up = %d, %v; want 0", n, err)
	}
}

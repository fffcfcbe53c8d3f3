package deploys

import (
	"strings"
	"testing"
	"time"

	"github.com/stagegate/stagegate/checks"
	"github.com/stagegate/stagegate/pipeline/policy"
)

func TestWaitTimer(t *testing.T) {
	reached := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	pol := policy.Policy{WaitTimer: 10 * time.Minute, WaitTimerBy: "GitHub's settings of environment production"}
	for _, tt := range []struct {
		name  string
		pol   policy.Policy
		now   time.Time
		ok    bool
		state checks.ReqState
	}{
		{"no timer", policy.Policy{}, reached, false, ""},
		{"running", pol, reached.Add(9 * time.Minute), true, checks.Waiting},
		{"over", pol, reached.Add(10 * time.Minute), true, checks.Met},
	} {
		r, due, ok := waitTimer(tt.pol, reached, tt.now)
		if ok != tt.ok || r.State != tt.state {
			t.Errorf("%s: %v %+v", tt.name, ok, r)
		}
		if ok && (!due.Equal(reached.Add(10*time.Minute)) || !strings.Contains(r.Detail, "GitHub's settings")) {
			t.Errorf("%s: due %v, detail %q", tt.name, due, r.Detail)
		}
	}
}

func TestWithRequired(t *testing.T) {
	reqs := []checks.Requirement{{Kind: checks.KindCheck, Name: "lint", State: checks.Met}}
	got := withRequired(reqs, []string{"lint", "e2e", "stagegate/deploy"})
	if len(got) != 2 || got[1].Name != "e2e" || got[1].State != checks.Waiting {
		t.Errorf("got %+v", got)
	}
}

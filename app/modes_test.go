package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stagegate/stagegate/internal/githubtest"
)

// slowPipeline's work stage waits while the commit holds a file named
// "slow", so that a test can have one run in progress while another
// arrives.
func slowPipeline(mode string) string {
	return "mode: " + mode + `
stages:
  - name: work
    actions:
      - { name: wait, run: 'if [ -f slow ]; then echo waiting; sleep 30; fi; echo done' }
  - { name: after, actions: [{ name: a, run: 'true' }] }
`
}

// waitStatus waits until the named check on sha has the status.
func (h *harness) waitStatus(sha, name, status string) {
	h.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if c, ok := h.checks(sha)[name]; ok && c.Status == status {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("%s on %s never became %s:%s", name, sha, status, describeChecks(h.checks(sha)))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestNewerPushSupersedesTheRunningOne(t *testing.T) {
	h := newHarness(t, map[string]string{".stagegate.yml": slowPipeline("superseded")})
	first := h.push("main", map[string]string{"slow": "1"})
	h.waitStatus(first, "stagegate/work", "in_progress")
	second := h.push("main", map[string]string{"slow": githubtest.Deleted})

	old := h.waitChecks(first, 20*time.Second)
	for _, name := range []string{"stagegate", "stagegate/work", "stagegate/after"} {
		c := old[name]
		if c.Conclusion != "cancelled" {
			t.Errorf("%s of the superseded run = %s, want cancelled%s", name, c.Conclusion, describeChecks(old))
		}
	}
	if s := old["stagegate"].Output.Summary + old["stagegate/work"].Output.Summary; !strings.Contains(s, "superseded by run") {
		t.Errorf("the cancelled checks do not say they were superseded:\n%s", s)
	}
	if got := h.waitChecks(second, 20*time.Second)["stagegate"].Conclusion; got != "success" {
		t.Errorf("newer run = %s, want success", got)
	}
}

func TestQueuedModeRunsOneAtATime(t *testing.T) {
	h := newHarness(t, map[string]string{".stagegate.yml": strings.Replace(slowPipeline("queued"), "sleep 30", "sleep 1", 1)})
	first := h.push("main", map[string]string{"slow": "1"})
	h.waitStatus(first, "stagegate/work", "in_progress")
	second := h.push("main", map[string]string{"slow": githubtest.Deleted})

	a := h.waitChecks(first, 20*time.Second)
	b := h.waitChecks(second, 20*time.Second)
	if a["stagegate"].Conclusion != "success" || b["stagegate"].Conclusion != "success" {
		t.Fatalf("conclusions %s and %s, want both success", a["stagegate"].Conclusion, b["stagegate"].Conclusion)
	}
	// In queued mode the second run's stages start only once the first
	// run's last stage has completed.
	if b["stagegate/work"].CreatedAt.Before(a["stagegate/after"].CompletedAt) {
		t.Errorf("the second run started at %v, before the first finished at %v", b["stagegate/work"].CreatedAt, a["stagegate/after"].CompletedAt)
	}
}

func TestRerequestedCheckRunReRunsFromThatStage(t *testing.T) {
	h := newHarness(t, map[string]string{".stagegate.yml": threeStages})
	sha := h.push("main", map[string]string{"a": "1"})
	first := h.waitChecks(sha, 20*time.Second)
	test := first["stagegate/test"]

	body := h.repo.Webhook("check_run.rerequested", func(p map[string]any) {
		githubtest.SetPath(p, "check_run.id", test.ID)
		githubtest.SetPath(p, "check_run.name", test.Name)
		githubtest.SetPath(p, "check_run.head_sha", sha)
		githubtest.SetPath(p, "check_run.external_id", test.ExternalID)
		githubtest.SetPath(p, "check_run.app.id", h.gh.AppID())
		githubtest.SetPath(p, "check_run.check_suite.head_sha", sha)
	})
	if code, text := h.send("check_run", githubtest.NewDeliveryID(), body); code != 202 {
		t.Fatalf("check_run webhook: %d %s", code, text)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		latest := h.checks(sha)
		if c := latest["stagegate"]; c.ID != first["stagegate"].ID && c.Status == "completed" {
			if c.Conclusion != "success" {
				t.Fatalf("re-run: %s%s", c.Conclusion, describeChecks(latest))
			}
			if latest["stagegate/test"].ID == test.ID || latest["stagegate/package"].ID == first["stagegate/package"].ID {
				t.Errorf("the re-run did not run test and package again%s", describeChecks(latest))
			}
			if b := latest["stagegate/build"]; b.ID != first["stagegate/build"].ID && !strings.Contains(b.Output.Summary, "reused") {
				t.Errorf("build ran again instead of being reused: %q", b.Output.Summary)
			}
			// The package stage still sees the version output of the
			// reused build stage.
			if !strings.Contains(latest["stagegate/package"].Output.Text, "packaging 1.0.") {
				t.Errorf("reused outputs did not reach the re-run:\n%s", latest["stagegate/package"].Output.Text)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no re-run:%s", describeChecks(latest))
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func TestRerequestedSuiteRunsEverything(t *testing.T) {
	h := newHarness(t, map[string]string{".stagegate.yml": threeStages})
	sha := h.push("main", map[string]string{"a": "1"})
	first := h.waitChecks(sha, 20*time.Second)
	body := h.repo.Webhook("check_suite.rerequested", func(p map[string]any) {
		githubtest.SetPath(p, "check_suite.head_sha", sha)
		githubtest.SetPath(p, "check_suite.head_branch", "main")
	})
	if code, text := h.send("check_suite", githubtest.NewDeliveryID(), body); code != 202 {
		t.Fatalf("check_suite webhook: %d %s", code, text)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		latest := h.checks(sha)
		if latest["stagegate"].ID != first["stagegate"].ID && latest["stagegate"].Status == "completed" {
			for _, name := range []string{"stagegate/build", "stagegate/test", "stagegate/package"} {
				if latest[name].ID == first[name].ID || latest[name].Conclusion != "success" {
					t.Errorf("%s was not run again%s", name, describeChecks(latest))
				}
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no re-run:%s", describeChecks(latest))
		}
		time.Sleep(25 * time.Millisecond)
	}
}

package app_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stagegate/stagegate/internal/githubtest"
)

func TestOrgDefaultPipelineAndItsOverride(t *testing.T) {
	h := newHarness(t, map[string]string{"README.md": "no pipeline of its own\n"})
	org := h.gh.AddRepo("acme", ".github")
	org.Commit("main", map[string]string{".stagegate.yml": "stages: [{ name: org-check, actions: [{ name: a, run: 'echo from the org default' }] }]\n"}, "default")
	h.gh.AddInstallationRepos(h.inst, ".github")

	sha := h.push("main", map[string]string{"a": "1"})
	got := h.waitChecks(sha, 20*time.Second)
	if got["stagegate/org-check"].Conclusion != "success" {
		t.Fatalf("the org default did not run:%s", describeChecks(got))
	}
	// A repository's own file overrides the default.
	sha = h.push("main", map[string]string{".stagegate.yml": "stages: [{ name: own, actions: [{ name: a, run: 'true' }] }]\n"})
	got = h.waitChecks(sha, 20*time.Second)
	if _, ok := got["stagegate/own"]; !ok {
		t.Errorf("the repository's own file was not used:%s", describeChecks(got))
	}
	if _, ok := got["stagegate/org-check"]; ok {
		t.Errorf("the org default ran although the repository has its own file")
	}
	// Workspaces are removed after each run.
	waitFor(t, func() bool { return h.runFinished(sha) })
	for _, root := range []string{"trusted", "untrusted"} {
		entries, err := os.ReadDir(filepath.Join(h.cfg.DataDir, root, "workspaces"))
		if err != nil || len(entries) != 0 {
			t.Errorf("%s workspaces left behind: %v %v", root, entries, err)
		}
	}
}

func TestSuspendedInstallationIsNotServed(t *testing.T) {
	h := newHarness(t, map[string]string{".stagegate.yml": threeStages})
	suspend := h.repo.Webhook("installation.suspend", func(p map[string]any) {
		githubtest.SetPath(p, "installation.id", h.inst)
	})
	h.sendAndWait("installation", suspend)
	sha, body := h.pushBody("main", map[string]string{"a": "1"})
	if result := h.sendAndWait("push", body); result != fmt.Sprintf("ignored: installation %d is suspended or deleted", h.inst) {
		t.Errorf("push to a suspended installation: %q", result)
	}
	if got := h.checks(sha); len(got) != 0 {
		t.Errorf("a suspended installation was served:%s", describeChecks(got))
	}
	unsuspend := h.repo.Webhook("installation.suspend", func(p map[string]any) {
		githubtest.SetPath(p, "action", "unsuspend")
		githubtest.SetPath(p, "installation.id", h.inst)
		githubtest.SetPath(p, "installation.suspended_at", nil)
	})
	h.sendAndWait("installation", unsuspend)
	sha = h.push("main", map[string]string{"a": "2"})
	if got := h.waitChecks(sha, 20*time.Second); got["stagegate"].Conclusion != "success" {
		t.Errorf("after unsuspend: %s", describeChecks(got))
	}
}

package app_test

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// A push payload lists up to 2,048 commits with their files; a push of
// more than 20 needs no compare call to apply a paths filter.
func TestPushOfManyCommitsUsesThePayloadsFiles(t *testing.T) {
	h := newHarness(t, map[string]string{".stagegate.yml": `on:
  push: { branches: [main], paths: ["src/**"] }
stages:
  - { name: test, actions: [{ name: unit, run: 'echo "changed: $STAGEGATE_EVENT"' }] }
`})
	before := h.repo.Head("main")
	for i := range 25 {
		h.repo.Commit("main", map[string]string{fmt.Sprintf("docs/page%02d.md", i): "words\n"}, fmt.Sprintf("docs %d", i))
	}
	h.repo.Commit("main", map[string]string{"src/app.go": "package app\n"}, "code")
	sha := h.repo.Head("main")
	if result := h.sendAndWait("push", h.repo.PushWebhook("main", before)); !strings.Contains(result, "queued") {
		t.Fatalf("a push changing src/ started nothing: %q", result)
	}
	if got := h.waitChecks(sha, 30*time.Second); got["stagegate/test"].Conclusion != "success" {
		t.Fatalf("checks:%s", describeChecks(got))
	}
	for _, c := range h.gh.Calls() {
		if strings.HasPrefix(c.Route, "GET /repos/{owner}/{repo}/compare/") {
			t.Errorf("compare called for a push whose payload lists every commit: %s", c.Path)
		}
	}

	// 26 commits touching only docs start nothing, still without compare.
	before = sha
	for i := range 26 {
		h.repo.Commit("main", map[string]string{fmt.Sprintf("docs/more%02d.md", i): "words\n"}, fmt.Sprintf("more docs %d", i))
	}
	if result := h.sendAndWait("push", h.repo.PushWebhook("main", before)); strings.Contains(result, "queued") {
		t.Errorf("a push changing only docs started a run: %q", result)
	}
}

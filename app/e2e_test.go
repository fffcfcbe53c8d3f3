package app_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stagegate/stagegate/internal/githubtest"
)

const threeStages = `stages:
  - name: build
    actions:
      - name: compile
        run: |
          mkdir -p bin && echo app > bin/app
          echo "version=1.0.$STAGEGATE_RUN_ID" >> "$STAGEGATE_OUTPUT"
        artifacts: [bin/app]
  - name: test
    actions:
      - { name: unit, run: 'test -f "$STAGEGATE_ARTIFACTS/bin/app" && echo unit ok' }
      - { name: env, run: env }
  - name: package
    actions:
      - { name: tar, run: 'echo packaging $STAGEGATE_OUTPUT_BUILD_VERSION' }
`

func TestPushRunsEveryStage(t *testing.T) {
	t.Setenv("STAGEGATE_TEST_APP_SECRET", "app-only-value")
	h := newHarness(t, map[string]string{".stagegate.yml": threeStages, "main.go": "package main\n"})
	h.gh.ResetCalls()
	sha := h.push("main", map[string]string{"main.go": "package main\n\nfunc main() {}\n"})
	got := h.waitChecks(sha, 30*time.Second)

	for _, name := range []string{"stagegate", "stagegate/build", "stagegate/test", "stagegate/package"} {
		c, ok := got[name]
		if !ok || c.Status != "completed" || c.Conclusion != "success" {
			t.Errorf("%s: %+v", name, describeChecks(got))
		}
	}
	if text := got["stagegate/test"].Output.Text; !strings.Contains(text, "unit ok") || !strings.Contains(text, "STAGEGATE_STAGE=test") {
		t.Errorf("test stage log tail lacks its output:\n%s", text)
	}
	// The app's own environment never reaches a build.
	for _, c := range got {
		if strings.Contains(c.Output.Text+c.Output.Summary, "app-only-value") {
			t.Errorf("%s shows a variable of the app's environment", c.Name)
		}
	}
	if !strings.Contains(got["stagegate/package"].Output.Text, "packaging 1.0.") {
		t.Errorf("outputs did not reach a later stage:\n%s", got["stagegate/package"].Output.Text)
	}
	// Budget: 2N+3 calls for N stages, counting neither the token nor
	// throttled progress updates (none here: the run is faster than the
	// throttle).
	n, budget := 0, 2*3+3
	for _, c := range h.gh.Calls() {
		// The run's calls are the installation's; the App's own (the
		// token, the installations list, the catch-up) are not the run's.
		// The look at the owner's .github at start (can the
		// installation read an org default?) is not the run's either.
		if c.Cred == githubtest.CredInstallationToken && c.Path != "/repos/acme/.github" {
			n++
		}
	}
	if n > budget {
		t.Errorf("%d GitHub calls for 3 stages, budget %d:\n%v", n, budget, h.gh.Calls())
	}
	// The token never reached git's argv or config, and every git request
	// was authenticated.
	for _, r := range h.gh.GitRequests() {
		if !r.AuthOK {
			t.Errorf("git request without a valid token: %+v", r)
		}
	}
}

func TestFailingStageSkipsTheRest(t *testing.T) {
	h := newHarness(t, map[string]string{".stagegate.yml": `stages:
  - { name: build, actions: [{ name: compile, run: "echo ok" }] }
  - name: test
    actions:
      - { name: unit, run: 'echo "main.go:3:1: undefined: nope"; exit 2' }
  - { name: deploy, actions: [{ name: ship, run: "echo never" }] }
`, "main.go": "package main\n\n\nfunc main() {}\n"})
	sha := h.push("main", map[string]string{"README.md": "hi\n"})
	got := h.waitChecks(sha, 30*time.Second)
	want := map[string]string{"stagegate": "failure", "stagegate/build": "success", "stagegate/test": "failure", "stagegate/deploy": "skipped"}
	for name, conclusion := range want {
		if got[name].Conclusion != conclusion {
			t.Errorf("%s = %q, want %q%s", name, got[name].Conclusion, conclusion, describeChecks(got))
		}
	}
	if s := got["stagegate/deploy"].Output.Summary; !strings.Contains(s, "stage test failed") {
		t.Errorf("skipped stage does not say why: %q", s)
	}
	anns := got["stagegate/test"].Output.Annotations
	if len(anns) != 1 || anns[0].Path != "main.go" || anns[0].StartLine != 3 || anns[0].AnnotationLevel != "failure" {
		t.Errorf("annotations = %+v, want one failure at main.go:3", anns)
	}
}

func TestInvalidPipelineGivesAnnotatedFailure(t *testing.T) {
	h := newHarness(t, map[string]string{".stagegate.yml": "stages:\n  - name: build\n    actoins: []\n"})
	sha := h.push("main", map[string]string{"a.txt": "a\n"})
	got := h.waitChecks(sha, 20*time.Second)
	c := got["stagegate"]
	if c.Conclusion != "failure" || !strings.Contains(c.Output.Summary, `.stagegate.yml:3:5: unknown key "actoins"`) {
		t.Fatalf("stagegate check = %s %q", c.Conclusion, c.Output.Summary)
	}
	found := false
	for _, a := range c.Output.Annotations {
		if a.Path == ".stagegate.yml" && a.StartLine == 3 && a.StartColumn == 5 && strings.Contains(a.Message, `did you mean "actions"`) {
			found = true
		}
	}
	if !found {
		t.Errorf("no annotation at .stagegate.yml:3:5 in %+v", c.Output.Annotations)
	}
	if len(got) != 1 {
		t.Errorf("an invalid pipeline must start no stage: %s", describeChecks(got))
	}
}

func TestDeliveriesAreVerifiedAndDeduplicated(t *testing.T) {
	h := newHarness(t, map[string]string{".stagegate.yml": "stages: [{ name: s, actions: [{ name: a, run: 'true' }] }]\n"})
	sha := h.repo.Commit("main", map[string]string{"x": "1"}, "x")
	body := h.repo.Webhook("push", func(p map[string]any) {
		githubtest.SetPath(p, "after", sha)
		githubtest.SetPath(p, "ref", "refs/heads/main")
	})
	// Forged: signed with another secret, or only with SHA-1.
	forged := githubtest.SendWebhook(t, h.srv.URL+"/webhook", "guessed secret", "push", githubtest.NewDeliveryID(), body)
	forged.Body.Close()
	if forged.StatusCode != http.StatusUnauthorized {
		t.Errorf("forged signature: %d, want 401", forged.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/webhook", bytes.NewReader(body))
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-GitHub-Delivery", githubtest.NewDeliveryID())
	req.Header.Set("X-Hub-Signature", githubtest.SignSHA1([]byte(webhookSecret), body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("SHA-1 signature only: %d, want 401", resp.StatusCode)
	}
	guid := githubtest.NewDeliveryID()
	if code, _ := h.send("push", guid, body); code != http.StatusAccepted {
		t.Fatalf("first delivery: %d", code)
	}
	if code, text := h.send("push", guid, body); code != http.StatusOK || !strings.Contains(text, "duplicate") {
		t.Errorf("redelivery: %d %q, want 200 duplicate", code, text)
	}
	h.waitChecks(sha, 20*time.Second)
	// Restarted, the app still knows the delivery.
	h.stop()
	h.start()
	if code, text := h.send("push", guid, body); code != http.StatusOK || !strings.Contains(text, "duplicate") {
		t.Errorf("redelivery after a restart: %d %q, want 200 duplicate", code, text)
	}
	// A duplicate is answered without being stored or queued: one run.
	if n := h.app.RunsForSHA(context.Background(), "acme/web", sha); n != 1 {
		t.Errorf("%d runs for one delivery, want 1", n)
	}
}

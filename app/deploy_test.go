package app_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stagegate/stagegate/internal/githubtest"
)

func TestDeployNeedsTheRightToDeploy(t *testing.T) {
	h := newHarness(t, map[string]string{".stagegate.yml": manualDeploy})
	h.gh.SetPermission("acme", "web", "bob", "read")
	sha := h.openPR(5, "feature", "", map[string]string{"a": "1"})
	h.waitCheck(sha, "stagegate/deploy", needsApproval)

	id := h.comment(5, "bob", "/deploy")
	replies := h.replies(5)
	if len(replies) != 1 || !strings.Contains(replies[0], "@bob cannot deploy to production: that needs write access to acme/web, and @bob has read") {
		t.Errorf("replies = %q", replies)
	}
	if r := h.gh.Reactions(id); !hasReaction(r, "eyes") || !hasReaction(r, "-1") || hasReaction(r, "rocket") {
		t.Errorf("reactions = %v, want 👀 and 👎", r)
	}
	if d := h.deploymentStates(sha); len(d) != 0 {
		t.Errorf("a refused /deploy created deployments: %v", d)
	}
}

func TestDeployRefusedWhileAnotherCheckFails(t *testing.T) {
	h := newHarness(t, map[string]string{".stagegate.yml": manualDeploy})
	h.gh.SetPermission("acme", "web", "alice", "write")
	ci := h.gh.AddApp("other-ci")
	ci.AddInstallation("acme", "web")
	sha := h.repo.Commit("feature", map[string]string{"a": "1"}, "change")
	h.gh.CreateCheckRunAs(ci, "acme", "web", sha, "lint", "completed", "failure")
	if head := h.openPR(6, "feature", "", nil); head != sha {
		t.Fatalf("the pull request's head is %s, not the commit with the failing check", short(head))
	}
	// The run reaches the gate and the failing check refuses the stage.
	deploy := h.waitCheck(sha, "stagegate/deploy", func(c githubtest.CheckRun) bool { return c.Status == "completed" })
	if deploy.Conclusion != "failure" || !strings.Contains(deploy.Output.Title+deploy.Output.Summary, "lint") {
		t.Errorf("deploy check = %s %q %q", deploy.Conclusion, deploy.Output.Title, deploy.Output.Summary)
	}
	h.comment(6, "alice", "/deploy")
	replies := h.replies(6)
	want := fmt.Sprintf("@alice checks failing on %s: lint", short(sha))
	if len(replies) != 1 || !strings.Contains(replies[0], want) {
		t.Errorf("replies = %q, want one containing %q", replies, want)
	}
	if d := h.deploymentStates(sha); len(d) != 0 {
		t.Errorf("deployments were created while a check failed: %v", d)
	}
}

func TestDeployByAWriterWithEverythingGreen(t *testing.T) {
	h := newHarness(t, map[string]string{".stagegate.yml": manualDeploy})
	h.gh.SetPermission("acme", "web", "alice", "write")
	sha := h.openPR(7, "feature", "", map[string]string{"a": "1"})
	gate := h.waitCheck(sha, "stagegate/deploy", needsApproval)
	if len(gate.Actions) != 1 || gate.Actions[0].Identifier != "deploy" || gate.Actions[0].Label != "Deploy" {
		t.Errorf("the waiting deploy check has buttons %+v, want one Deploy", gate.Actions)
	}
	id := h.comment(7, "alice", "/deploy")
	got := h.waitChecks(sha, 20*time.Second)
	if got["stagegate/deploy"].Conclusion != "success" || got["stagegate"].Conclusion != "success" {
		t.Fatalf("after /deploy:%s", describeChecks(got))
	}
	if !strings.Contains(got["stagegate/deploy"].Output.Text, "shipping to production") {
		t.Errorf("the deploy action did not run:\n%s", got["stagegate/deploy"].Output.Text)
	}
	if r := h.gh.Reactions(id); !hasReaction(r, "eyes") || !hasReaction(r, "rocket") {
		t.Errorf("reactions = %v, want 👀 and 🚀", r)
	}
	deps := h.gh.Deployments("acme", "web")
	if len(deps) != 1 {
		t.Fatalf("%d deployments, want 1", len(deps))
	}
	d := deps[0]
	if d.SHA != sha || d.Environment != "production" || !strings.Contains(string(d.Request), `"required_contexts":[]`) ||
		!strings.Contains(string(d.Payload), "alice") {
		t.Errorf("deployment = sha %s env %s request %s payload %s", d.SHA, d.Environment, d.Request, d.Payload)
	}
	var states []string
	for _, s := range d.Statuses {
		states = append(states, s.State)
	}
	if strings.Join(states, ",") != "queued,in_progress,success" {
		t.Errorf("deployment statuses = %v, want queued, in_progress, success", states)
	}
	last := d.Statuses[len(d.Statuses)-1]
	if last.EnvironmentURL != "https://web.example.test" || last.LogURL == "" {
		t.Errorf("final status: environment_url %q log_url %q", last.EnvironmentURL, last.LogURL)
	}
}

func TestTheDeployButton(t *testing.T) {
	h := newHarness(t, map[string]string{".stagegate.yml": manualDeploy})
	h.gh.SetPermission("acme", "web", "alice", "write")
	h.gh.SetPermission("acme", "web", "bob", "read")
	sha := h.openPR(8, "feature", "", map[string]string{"a": "1"})
	gate := h.waitCheck(sha, "stagegate/deploy", needsApproval)

	// A reader's click is refused, with a reply on the pull request.
	h.sendAndWait("check_run", h.gh.RequestedActionWebhook(gate.ID, "deploy", "bob"))
	if r := h.replies(8); len(r) != 1 || !strings.Contains(r[0], "@bob cannot deploy") {
		t.Errorf("replies after a reader's click = %q", r)
	}
	if d := h.deploymentStates(sha); len(d) != 0 {
		t.Fatalf("a reader's click deployed: %v", d)
	}
	h.sendAndWait("check_run", h.gh.RequestedActionWebhook(gate.ID, "deploy", "alice"))
	if got := h.waitChecks(sha, 20*time.Second); got["stagegate/deploy"].Conclusion != "success" {
		t.Fatalf("after the Deploy button:%s", describeChecks(got))
	}
	if d := h.deploymentStates(sha); len(d) != 1 || d[0][len(d[0])-1] != "success" {
		t.Errorf("deployments = %v", d)
	}
}

func TestApprovalIsVoidedByANewPush(t *testing.T) {
	release := t.TempDir() + "/release"
	h := newHarness(t, map[string]string{".stagegate.yml": strings.Replace(manualDeploy, "run: 'echo built'",
		"run: 'while [ ! -f "+release+" ]; do sleep 0.02; done'", 1)})
	h.gh.SetPermission("acme", "web", "alice", "write")
	first := h.openPR(9, "feature", "", map[string]string{"a": "1"})
	h.waitStatus(first, "stagegate/build", "in_progress")
	// Approved while the build of the first commit runs...
	h.comment(9, "alice", "/deploy")
	// ...then a new push: a new commit, and the first run superseded.
	second := h.repo.Commit("feature", map[string]string{"a": "2"}, "again")
	h.gh.PushToPullRequest("acme", "web", 9, second)
	h.sendAndWait("pull_request", h.syncPR(9))
	h.gh.Advance(2 * time.Second) // alice looks at the new commit
	writeFile(t, release)
	h.waitCheck(second, "stagegate/deploy", needsApproval)
	if d := h.gh.Deployments("acme", "web"); len(d) != 0 {
		t.Fatalf("the approval of %s deployed %s", short(first), short(second))
	}
	h.comment(9, "alice", "/deploy")
	if got := h.waitChecks(second, 20*time.Second); got["stagegate/deploy"].Conclusion != "success" {
		t.Fatalf("after a new /deploy:%s", describeChecks(got))
	}
	if d := h.deploymentStates(second); len(d) != 1 {
		t.Errorf("deployments of the new commit = %v", d)
	}
}

func TestARefusedDeployButtonOnAPushSaysWhyOnTheCheck(t *testing.T) {
	h := newHarness(t, map[string]string{".stagegate.yml": manualDeploy})
	h.gh.SetPermission("acme", "web", "bob", "read")
	sha := h.push("main", map[string]string{"a": "1"})
	gate := h.waitCheck(sha, "stagegate/deploy", needsApproval)
	h.sendAndWait("check_run", h.gh.RequestedActionWebhook(gate.ID, "deploy", "bob"))
	after, _ := h.gh.CheckRun(gate.ID)
	if !strings.Contains(after.Output.Summary, "@bob cannot deploy to production") || after.Conclusion != "action_required" || len(after.Actions) != 1 {
		t.Errorf("after a refused click the check is %s with %d buttons and summary:\n%s", after.Conclusion, len(after.Actions), after.Output.Summary)
	}
}

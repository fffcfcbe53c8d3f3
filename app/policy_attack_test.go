package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stagegate/stagegate/internal/githubtest"
)

// The attacks of issue 8, part 2: deploy policy written by the commit
// being deployed. Each test is an attacker with push access (or a bot's
// branch) trying to ship unreviewed code or read production's secrets.

// guardedMain is the reviewed pipeline on the default branch: production
// needs a manual approval and deploys only from main.
const guardedMain = `environments:
  production: { approval: manual, branches: [main], secrets: [PROD_TOKEN] }
stages:
  - { name: build, actions: [{ name: compile, run: 'echo built' }] }
  - name: deploy
    if: branch == "main"
    environment: production
    actions: [{ name: ship, run: 'echo "shipping with ${PROD_TOKEN:-no-token}"' }]
`

// looseBranch is what an attacker commits on a branch: no approval, no
// condition, and no environments (whatever it says there must not count).
const looseBranch = `stages:
  - { name: build, actions: [{ name: compile, run: 'echo built' }] }
  - name: deploy
    environment: production
    approval: none
    actions: [{ name: ship, run: 'echo "shipping with ${PROD_TOKEN:-no-token}"' }]
`

// (a) A push to another branch whose file says approval: none and drops
// the branch condition does not deploy to production.
func TestAttackBranchPushCannotLoosenDeployPolicy(t *testing.T) {
	t.Setenv("STAGEGATE_SECRET_PROD_TOKEN", "prod-secret-value")
	h := newHarness(t, map[string]string{".stagegate.yml": guardedMain})
	sha := h.push("evil", map[string]string{".stagegate.yml": looseBranch})
	got := h.waitChecks(sha, 20*time.Second)
	if len(h.gh.Deployments("acme", "web")) != 0 {
		t.Fatalf("a branch's own file deployed it to production:%s", describeChecks(got))
	}
	deploy := got["stagegate/deploy"]
	if deploy.Conclusion != "failure" || !containsAll(deploy.Output.Title+deploy.Output.Summary, "production", "evil", "main") {
		t.Errorf("the refused deploy check should name the rule: %s %q %q", deploy.Conclusion, deploy.Output.Title, deploy.Output.Summary)
	}
	if strings.Contains(deploy.Output.Text, "shipping") {
		t.Errorf("the deploy action ran:\n%s", deploy.Output.Text)
	}
}

// (b) An unmerged pull request from a branch of the same repository that
// changes manual to none waits for an approval all the same.
func TestAttackPullRequestCannotDropApproval(t *testing.T) {
	h := newHarness(t, map[string]string{".stagegate.yml": manualDeploy})
	loosened := strings.Replace(manualDeploy, "approval: manual", "approval: none", 1)
	sha := h.openPR(21, "loosen", "", map[string]string{".stagegate.yml": loosened})
	deploy := h.waitCheck(sha, "stagegate/deploy", func(c githubtest.CheckRun) bool {
		return c.Status == "completed" || needsApproval(c)
	})
	if !needsApproval(deploy) || len(h.gh.Deployments("acme", "web")) != 0 {
		t.Fatalf("a pull request dropping the approval deployed: %s %q", deploy.Conclusion, deploy.Output.Summary)
	}
}

// (c) A branch that names its author a deployer gains nothing: the
// author still cannot approve its deploy.
func TestAttackBranchCannotAddItselfToDeployers(t *testing.T) {
	h := newHarness(t, map[string]string{".stagegate.yml": manualDeploy})
	h.gh.SetPermission("acme", "web", "mallory", "read")
	widened := strings.Replace(manualDeploy, "approval: manual", "approval: manual\n    deployers: [mallory]", 1)
	sha := h.openPR(22, "widen", "", map[string]string{".stagegate.yml": widened})
	h.waitCheck(sha, "stagegate/deploy", needsApproval)
	h.comment(22, "mallory", "/deploy")
	if r := h.replies(22); len(r) != 1 || !strings.Contains(r[0], "@mallory cannot deploy to production") {
		t.Errorf("replies = %q", r)
	}
	if len(h.gh.Deployments("acme", "web")) != 0 {
		t.Fatal("a deployer named by the branch itself deployed it")
	}
}

// (d) GitHub's own environment settings count even when every file says
// none: a required reviewer must approve, and the branch policy holds.
func TestAttackGitHubEnvironmentSettingsAreHonoured(t *testing.T) {
	const open = `stages:
  - { name: build, actions: [{ name: compile, run: 'echo built' }] }
  - name: deploy
    environment: production
    actions: [{ name: ship, run: 'echo shipped' }]
`
	h := newHarness(t, map[string]string{".stagegate.yml": open})
	h.gh.SetPermission("acme", "web", "alice", "write")
	h.gh.SetPermission("acme", "web", "bob", "write")
	h.gh.SetEnvironment("acme", "web", githubtest.Environment{
		Name:              "production",
		Reviewers:         []string{"alice"},
		BranchPolicy:      githubtest.BranchPolicyCustom,
		BranchPatterns:    []string{"main"},
		PreventSelfReview: false,
	})

	onMain := h.push("main", map[string]string{"a": "1"})
	gate := h.waitCheck(onMain, "stagegate/deploy", func(c githubtest.CheckRun) bool {
		return c.Status == "completed" || needsApproval(c)
	})
	if !needsApproval(gate) || len(h.gh.Deployments("acme", "web")) != 0 {
		t.Fatalf("a required reviewer in GitHub's settings was not waited for: %s %q", gate.Conclusion, gate.Output.Summary)
	}

	onBranch := h.push("feature", map[string]string{"b": "1"})
	got := h.waitChecks(onBranch, 20*time.Second)
	deploy := got["stagegate/deploy"]
	if deploy.Conclusion != "failure" || !containsAll(deploy.Output.Title+deploy.Output.Summary, "feature", "main") {
		t.Errorf("GitHub's branch policy did not refuse the branch: %s %q %q", deploy.Conclusion, deploy.Output.Title, deploy.Output.Summary)
	}
	if len(h.gh.Deployments("acme", "web")) != 0 {
		t.Fatal("deployed against GitHub's environment settings")
	}
}

// (e) A branch asking for production's secret in a stage that does not
// deploy does not get it; neither does main's own build stage.
func TestAttackBranchCannotRequestEnvironmentSecrets(t *testing.T) {
	t.Setenv("STAGEGATE_SECRET_PROD_TOKEN", "prod-secret-value")
	h := newHarness(t, map[string]string{".stagegate.yml": guardedMain})
	greedy := `secrets: [PROD_TOKEN]
stages:
  - { name: test, actions: [{ name: leak, run: 'echo "token=${PROD_TOKEN:-withheld}"' }] }
`
	sha := h.push("greedy", map[string]string{".stagegate.yml": greedy})
	got := h.waitChecks(sha, 20*time.Second)
	if text := got["stagegate/test"].Output.Text; !strings.Contains(text, "token=withheld") {
		t.Errorf("a branch's non-deploy stage got production's secret:\n%s", text)
	}
}

// (f) A default branch whose deploy stage says who may deploy only by its
// `if:` (approval none, no `environments:`) keeps other branches out: a
// branch that drops the condition does not deploy.
func TestAttackBranchCannotDropTrustedStageCondition(t *testing.T) {
	const mainOnly = `stages:
  - { name: build, actions: [{ name: compile, run: 'echo built' }] }
  - name: deploy
    if: branch == "main"
    environment: production
    actions: [{ name: ship, run: 'echo shipping' }]
`
	h := newHarness(t, map[string]string{".stagegate.yml": mainOnly})
	unconditioned := strings.Replace(mainOnly, "    if: branch == \"main\"\n", "", 1)
	sha := h.push("evil", map[string]string{".stagegate.yml": unconditioned})
	got := h.waitChecks(sha, 20*time.Second)
	if len(h.gh.Deployments("acme", "web")) != 0 {
		t.Fatalf("a branch deployed to production by dropping the default branch's if:%s", describeChecks(got))
	}
	deploy := got["stagegate/deploy"]
	if deploy.Conclusion != "failure" || !containsAll(deploy.Output.Title+deploy.Output.Summary, "production") {
		t.Errorf("the refused deploy check should name the environment: %s %q %q", deploy.Conclusion, deploy.Output.Title, deploy.Output.Summary)
	}
	if strings.Contains(deploy.Output.Text, "shipping") {
		t.Errorf("the deploy action ran:\n%s", deploy.Output.Text)
	}
	if !strings.Contains(deploy.Output.Summary, `if `+"`"+`branch == "main"`+"`") {
		t.Errorf("the refusal should name the default branch's condition: %q", deploy.Output.Summary)
	}
	// The default branch itself still deploys.
	mainSHA := h.push("main", map[string]string{".stagegate.yml": mainOnly, "change": "1"})
	if got := h.waitChecks(mainSHA, 20*time.Second); got["stagegate/deploy"].Conclusion != "success" {
		t.Errorf("main did not deploy:%s", describeChecks(got))
	}
}

package app_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/stagegate/stagegate/internal/githubtest"
)

const manualDeploy = `stages:
  - { name: build, actions: [{ name: compile, run: 'echo built' }] }
  - name: deploy
    environment: production
    approval: manual
    url: https://web.example.test
    actions: [{ name: ship, run: 'echo shipping to $STAGEGATE_ENVIRONMENT' }]
`

// openPR commits files, if any, on branch (in the fork headRepo when not ""),
// registers the pull request on the fake GitHub and delivers its
// pull_request.opened webhook. It returns the head commit.
func (h *harness) openPR(number int, branch, headRepo string, files map[string]string) string {
	h.t.Helper()
	repo := h.repo
	if headRepo != "" {
		owner, name, _ := strings.Cut(headRepo, "/")
		repo = h.gh.Repo(owner, name)
	}
	if repo.Head(branch) == "" {
		repo.Commit(branch, map[string]string{}, "branch")
	}
	sha := repo.Head(branch)
	if len(files) > 0 {
		sha = repo.Commit(branch, files, "change")
	}
	h.gh.AddPullRequest("acme", "web", githubtest.PullRequest{Number: number, User: "carol", HeadRepo: headRepo, HeadRef: branch, HeadSHA: sha})
	pr := h.gh.PullRequests("acme", "web")[0]
	for _, p := range h.gh.PullRequests("acme", "web") {
		if p.Number == number {
			pr = p
		}
	}
	body := h.repo.Webhook("pull_request.opened", func(p map[string]any) {
		githubtest.SetPath(p, "number", number)
		githubtest.SetPath(p, "pull_request.number", number)
		githubtest.SetPath(p, "pull_request.head.ref", branch)
		githubtest.SetPath(p, "pull_request.head.sha", sha)
		githubtest.SetPath(p, "pull_request.base.ref", "main")
		githubtest.SetPath(p, "pull_request.base.sha", pr.BaseSHA)
		githubtest.SetPath(p, "pull_request.html_url", fmt.Sprintf("%s/pull/%d", h.repo.HTMLURL(), number))
		githubtest.SetPath(p, "pull_request.created_at", pr.CreatedAt.Format(time.RFC3339))
		githubtest.SetPath(p, "pull_request.updated_at", pr.UpdatedAt.Format(time.RFC3339))
		if headRepo != "" {
			githubtest.SetPath(p, "pull_request.head.repo.full_name", headRepo)
		}
	})
	h.sendAndWait("pull_request", body)
	// Whoever comments next has had a moment to read it: GitHub's times
	// have whole seconds, and a command from the second of a push cannot
	// be shown to be about what the push brought.
	h.gh.Advance(2 * time.Second)
	return sha
}

// comment posts body on the pull request as login and waits until the
// app has processed it; it returns the comment's id.
func (h *harness) comment(number int, login, body string) int64 {
	h.t.Helper()
	id := h.gh.AddComment("acme", "web", number, login, body)
	h.sendAndWait("issue_comment", h.gh.IssueCommentWebhook(id))
	return id
}

// replies are the app's comments on the pull request.
func (h *harness) replies(number int) []string {
	var out []string
	for _, c := range h.gh.Comments("acme", "web", number) {
		if c.AppID != 0 {
			out = append(out, c.Body)
		}
	}
	return out
}

// waitCheck waits until the latest check run of name on sha satisfies ok.
func (h *harness) waitCheck(sha, name string, ok func(githubtest.CheckRun) bool) githubtest.CheckRun {
	h.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if c, found := h.checks(sha)[name]; found && ok(c) {
			return c
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("%s on %s never got there:%s", name, short(sha), describeChecks(h.checks(sha)))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func needsApproval(c githubtest.CheckRun) bool { return c.Conclusion == "action_required" }

// deploymentStates lists the states of the deployments of sha, each
// deployment's statuses oldest first.
func (h *harness) deploymentStates(sha string) [][]string {
	var out [][]string
	for _, d := range h.gh.Deployments("acme", "web") {
		if d.SHA != sha {
			continue
		}
		var states []string
		for _, s := range d.Statuses {
			states = append(states, s.State)
		}
		out = append(out, states)
	}
	return out
}

func short(sha string) string { return sha[:7] }

func hasReaction(reactions []string, want string) bool {
	for _, r := range reactions {
		if r == want {
			return true
		}
	}
	return false
}

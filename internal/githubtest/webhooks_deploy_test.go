package githubtest

import (
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"
)

func TestRequestedActionWebhook(t *testing.T) {
	f, head := prFixture(t)
	c := f.client(t)
	cr, _, err := c.Checks.CreateCheckRun(ctx(t), "acme", "widgets", github.CreateCheckRunOptions{
		Name: "stagegate/deploy", HeadSHA: head, ExternalID: ptr("run-9/deploy"), Status: ptr("in_progress"),
		Actions: []*github.CheckRunAction{{Label: "Approve", Description: "Deploy to production", Identifier: "approve"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	// The stored actions are readable by tests.
	if run, _ := f.srv.CheckRun(cr.GetID()); len(run.Actions) != 1 || run.Actions[0] != (CheckRunAction{Label: "Approve", Description: "Deploy to production", Identifier: "approve"}) {
		t.Errorf("stored actions = %+v", run.Actions)
	}
	f.srv.AddUser("ada", "User")
	ev := mustParse(t, "check_run", f.srv.RequestedActionWebhook(cr.GetID(), "approve", "ada")).(*github.CheckRunEvent)
	run := ev.GetCheckRun()
	if ev.GetAction() != "requested_action" || ev.GetRequestedAction().Identifier != "approve" || ev.GetSender().GetLogin() != "ada" ||
		ev.GetSender().GetType() != "User" || run.GetID() != cr.GetID() || run.GetHeadSHA() != head || run.GetName() != "stagegate/deploy" ||
		run.GetExternalID() != "run-9/deploy" || run.GetStatus() != "in_progress" || run.GetApp().GetID() != f.srv.AppID() ||
		run.GetCheckSuite().GetID() != cr.GetCheckSuite().GetID() || run.GetCheckSuite().GetHeadBranch() != "feature" ||
		ev.GetInstallation().GetID() != f.instID || ev.GetRepo().GetFullName() != "acme/widgets" {
		t.Errorf("event = %+v\nrun = %+v", ev, run)
	}
	if len(run.PullRequests) != 1 || run.PullRequests[0].GetNumber() != 1 || len(run.GetCheckSuite().PullRequests) != 1 {
		t.Errorf("pull_requests = %v / %v", run.PullRequests, run.GetCheckSuite().PullRequests)
	}
	if body := string(f.srv.RequestedActionWebhook(cr.GetID(), "approve", "ada")); strings.Contains(body, "electron") || strings.Contains(body, "lgtm|") {
		i := strings.Index(body, "electron")
		t.Errorf("vendored values leaked: %s", body[max(0, i-300):min(len(body), i+100)])
	}
}

func TestCheckRunCompletedWebhookForAnotherApp(t *testing.T) {
	f := newFixture(t)
	gha := f.srv.AddApp("github-actions")
	gha.AddInstallation("acme")
	id := f.srv.CreateCheckRunAs(gha, "acme", "widgets", f.sha, "test", "in_progress", "")
	f.srv.CompleteCheckRunAs(gha, id, "failure")
	ev := mustParse(t, "check_run", f.srv.CheckRunCompletedWebhook(id)).(*github.CheckRunEvent)
	run := ev.GetCheckRun()
	if ev.GetAction() != "completed" || run.GetID() != id || run.GetConclusion() != "failure" || run.GetStatus() != "completed" ||
		run.GetApp().GetSlug() != "github-actions" || run.GetApp().GetID() != gha.ID || run.GetCheckSuite().GetApp().GetID() != gha.ID ||
		run.GetCheckSuite().GetConclusion() != "failure" || run.GetHeadSHA() != f.sha || ev.GetSender().GetLogin() != "github-actions[bot]" ||
		ev.GetSender().GetType() != "Bot" || ev.GetInstallation().GetID() != f.instID {
		t.Errorf("event = %+v\nrun = %+v", ev, run)
	}
}

func TestIssueCommentWebhook(t *testing.T) {
	f, _ := prFixture(t)
	f.srv.AddUser("ada", "User")
	f.srv.AddTeamMember("acme", "release", "ada")
	id := f.srv.AddComment("acme", "widgets", 1, "ada", "/deploy production")
	ev := mustParse(t, "issue_comment", f.srv.IssueCommentWebhook(id)).(*github.IssueCommentEvent)
	if ev.GetAction() != "created" || !ev.GetIssue().IsPullRequest() || ev.GetIssue().GetNumber() != 1 ||
		ev.GetIssue().GetPullRequestLinks().GetURL() != f.repo.APIURL()+"/pulls/1" || ev.GetComment().GetID() != id ||
		ev.GetComment().GetBody() != "/deploy production" || ev.GetComment().GetUser().GetLogin() != "ada" ||
		ev.GetComment().GetUser().GetType() != "User" || ev.GetComment().GetAuthorAssociation() != "MEMBER" ||
		ev.GetSender().GetLogin() != "ada" || ev.GetInstallation().GetID() != f.instID || ev.GetRepo().GetFullName() != "acme/widgets" ||
		ev.GetIssue().GetUser().GetLogin() != "octocat" || ev.GetIssue().GetState() != "open" {
		t.Errorf("event = %+v", ev)
	}
	// A bot's comment (the App's own, through the API) says Bot.
	made, _, err := f.client(t).Issues.CreateComment(ctx(t), "acme", "widgets", 1, &github.IssueComment{Body: ptr("ok")})
	if err != nil {
		t.Fatal(err)
	}
	ev = mustParse(t, "issue_comment", f.srv.IssueCommentWebhook(made.GetID())).(*github.IssueCommentEvent)
	if ev.GetComment().GetUser().GetType() != "Bot" || ev.GetSender().GetLogin() != "stagegate[bot]" || ev.GetIssue().GetComments() != 2 {
		t.Errorf("bot comment event = %+v", ev)
	}
}

func TestStatusWebhook(t *testing.T) {
	f := newFixture(t)
	f.repo.Commit("feature", map[string]string{"x": "x"}, "x") // contains f.sha too
	id := f.srv.CreateStatus("acme", "widgets", f.sha, "ci/lint", "failure")
	ev := mustParse(t, "status", f.srv.StatusWebhook(id)).(*github.StatusEvent)
	var branches []string
	for _, b := range ev.Branches {
		branches = append(branches, b.GetName())
	}
	if ev.GetID() != id || ev.GetSHA() != f.sha || ev.GetContext() != "ci/lint" || ev.GetState() != "failure" ||
		ev.GetName() != "acme/widgets" || ev.GetCommit().GetSHA() != f.sha || ev.GetCommit().GetCommit().GetMessage() != "initial commit" ||
		strings.Join(branches, ",") != "feature,main" || ev.GetSender().GetLogin() != "ci-runner" ||
		ev.GetInstallation().GetID() != f.instID || ev.GetRepo().GetFullName() != "acme/widgets" {
		t.Errorf("event = %+v (branches %v)", ev, branches)
	}
}

func TestWebhookBuildersRefuse(t *testing.T) {
	fc := &fatalCatcher{TB: t}
	srv := New(fc)
	repo := srv.AddRepo("acme", "widgets")
	sha := repo.Commit("main", map[string]string{"x": "x"}, "x")
	inst := srv.AddInstallation("acme")
	c, _ := instClient(t, srv, srv.App(), inst)
	mine, _, err := c.Checks.CreateCheckRun(ctx(t), "acme", "widgets", github.CreateCheckRunOptions{
		Name: "deploy", HeadSHA: sha, Actions: []*github.CheckRunAction{{Label: "Approve", Description: "go", Identifier: "approve"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	gha := srv.AddApp("github-actions")
	gha.AddInstallation("acme")
	theirs := srv.CreateCheckRunAs(gha, "acme", "widgets", sha, "test", "in_progress", "")
	for _, tc := range []struct {
		name string
		fn   func()
		want string
	}{
		{"unknown run", func() { srv.RequestedActionWebhook(1, "approve", "ada") }, "no check run"},
		{"another App's run", func() { srv.RequestedActionWebhook(theirs, "approve", "ada") }, "another App"},
		{"no such button", func() { srv.RequestedActionWebhook(mine.GetID(), "reject", "ada") }, `has no action "reject"`},
		{"the button", func() { srv.RequestedActionWebhook(mine.GetID(), "approve", "ada") }, ""},
		{"not completed", func() { srv.CheckRunCompletedWebhook(theirs) }, "no completed check run"},
		{"unknown comment", func() { srv.IssueCommentWebhook(7) }, "no comment"},
		{"unknown status", func() { srv.StatusWebhook(7) }, "no status"},
	} {
		if got := fc.fatal(tc.fn); (got == "") != (tc.want == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%s: fatal %q, want %q", tc.name, got, tc.want)
		}
	}
}

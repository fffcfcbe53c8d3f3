package githubtest

import (
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"
)

func TestCheckRunsOfOtherApps(t *testing.T) {
	f := newFixture(t)
	gha := f.srv.AddApp("github-actions")
	gha.AddInstallation("acme")
	build := f.srv.CreateCheckRunAs(gha, "acme", "widgets", f.sha, "build", "in_progress", "")
	lint := f.srv.CreateCheckRunAs(gha, "acme", "widgets", f.sha, "lint", "", "failure")
	c := f.client(t)
	own, _, err := c.Checks.CreateCheckRun(ctx(t), "acme", "widgets", github.CreateCheckRunOptions{Name: "stagegate", HeadSHA: f.sha})
	if err != nil {
		t.Fatal(err)
	}

	res, _, err := c.Checks.ListCheckRunsForRef(ctx(t), "acme", "widgets", "main", nil)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*github.CheckRun{}
	for _, cr := range res.CheckRuns {
		byName[cr.GetName()] = cr
	}
	if res.GetTotal() != 3 || byName["build"].GetApp().GetSlug() != "github-actions" || byName["build"].GetApp().GetID() != gha.ID ||
		byName["build"].GetStatus() != "in_progress" || byName["lint"].GetConclusion() != "failure" || byName["lint"].GetStatus() != "completed" ||
		byName["stagegate"].GetApp().GetID() != f.srv.AppID() || byName["stagegate"].GetID() != own.GetID() || byName["build"].GetCheckSuite().GetID() == byName["stagegate"].GetCheckSuite().GetID() {
		t.Errorf("runs = %v", res.CheckRuns)
	}
	// The other App's run cannot be changed by stagegate...
	if _, resp, _ := c.Checks.UpdateCheckRun(ctx(t), "acme", "widgets", build, github.UpdateCheckRunOptions{Name: "build", Conclusion: ptr("success")}); code(resp) != 403 {
		t.Errorf("stagegate updated another App's run: %d", code(resp))
	}
	// ...but its own App completes it; a re-run is a new run and filter=latest shows only it.
	f.srv.CompleteCheckRunAs(gha, build, "success")
	rerun := f.srv.CreateCheckRunAs(gha, "acme", "widgets", f.sha, "lint", "queued", "")
	res, _, err = c.Checks.ListCheckRunsForRef(ctx(t), "acme", "widgets", f.sha, &github.ListCheckRunsOptions{AppID: ptr(gha.ID)})
	if err != nil || res.GetTotal() != 2 {
		t.Fatalf("latest of github-actions: %v %v", res, err)
	}
	for _, cr := range res.CheckRuns {
		if cr.GetName() == "lint" && cr.GetID() != rerun || cr.GetName() == "build" && cr.GetConclusion() != "success" {
			t.Errorf("run %s#%d %s/%s", cr.GetName(), cr.GetID(), cr.GetStatus(), cr.GetConclusion())
		}
	}
	all, _, _ := c.Checks.ListCheckRunsForRef(ctx(t), "acme", "widgets", f.sha, &github.ListCheckRunsOptions{Filter: ptr("all")})
	if all.GetTotal() != 4 {
		t.Errorf("filter=all: %d", all.GetTotal())
	}
	run, ok := f.srv.CheckRun(build)
	if !ok || run.AppID != gha.ID || len(run.History) != 2 || run.History[1].Method != "PATCH" || run.CompletedAt.IsZero() {
		t.Errorf("stored = %+v", run)
	}
	if _, ok := f.srv.CheckRun(lint); !ok {
		t.Error("lint not stored")
	}

	suites, _, err := c.Checks.ListCheckSuitesForRef(ctx(t), "acme", "widgets", f.sha, nil)
	if err != nil || suites.GetTotal() != 2 {
		t.Fatalf("suites: %v %v", suites, err)
	}
	for _, s := range suites.CheckSuites {
		switch s.GetApp().GetSlug() {
		case "github-actions": // build success, lint failure, lint re-run queued
			if s.GetStatus() != "in_progress" || s.Conclusion != nil || s.GetHeadBranch() != "main" || s.GetHeadSHA() != f.sha {
				t.Errorf("actions suite = %+v", s)
			}
		case "stagegate":
			if s.GetStatus() != "queued" {
				t.Errorf("stagegate suite = %+v", s)
			}
		default:
			t.Errorf("suite of %q", s.GetApp().GetSlug())
		}
	}
	f.srv.CompleteCheckRunAs(gha, rerun, "success")
	one, _, err := c.Checks.ListCheckSuitesForRef(ctx(t), "acme", "widgets", f.sha, &github.ListCheckSuiteOptions{AppID: ptr(int(gha.ID))})
	if err != nil || one.GetTotal() != 1 || one.CheckSuites[0].GetStatus() != "completed" || one.CheckSuites[0].GetConclusion() != "failure" {
		t.Errorf("completed suite (one failure among runs) = %v %v", one, err)
	}
	named, _, err := c.Checks.ListCheckSuitesForRef(ctx(t), "acme", "widgets", f.sha, &github.ListCheckSuiteOptions{CheckName: ptr("stagegate")})
	if err != nil || named.GetTotal() != 1 || named.CheckSuites[0].GetApp().GetSlug() != "stagegate" {
		t.Errorf("check_name filter = %v %v", named, err)
	}
}

func TestCheckSuiteConclusion(t *testing.T) {
	for _, tc := range []struct {
		conclusions []string
		want        string
	}{
		{[]string{"success", "success"}, "success"},
		{[]string{"success", "skipped"}, "success"},
		{[]string{"skipped", "skipped"}, "skipped"},
		{[]string{"neutral", "success"}, "neutral"},
		{[]string{"success", "failure", "cancelled"}, "cancelled"},
		{[]string{"timed_out", "failure"}, "timed_out"},
		{[]string{"failure", "action_required"}, "action_required"},
	} {
		f := newFixture(t)
		ci := f.srv.AddApp("ci")
		ci.AddInstallation("acme")
		for i, c := range tc.conclusions {
			f.srv.CreateCheckRunAs(ci, "acme", "widgets", f.sha, string(rune('a'+i)), "", c)
		}
		res, _, err := f.client(t).Checks.ListCheckSuitesForRef(ctx(t), "acme", "widgets", f.sha, nil)
		if err != nil || res.GetTotal() != 1 || res.CheckSuites[0].GetConclusion() != tc.want || res.CheckSuites[0].GetStatus() != "completed" {
			t.Errorf("%v: %v %v", tc.conclusions, res, err)
		}
	}
}

func TestOtherAppHelpersRefuse(t *testing.T) {
	fc := &fatalCatcher{TB: t}
	srv := New(fc)
	repo := srv.AddRepo("acme", "widgets")
	sha := repo.Commit("main", map[string]string{"x": "x"}, "x")
	gha := srv.AddApp("github-actions")
	stranger := srv.AddApp("not-installed")
	gha.AddInstallation("acme")
	id := srv.CreateCheckRunAs(gha, "acme", "widgets", sha, "build", "", "")
	for _, tc := range []struct {
		name string
		fn   func()
		want string
	}{
		{"bad status", func() { srv.CreateCheckRunAs(gha, "acme", "widgets", sha, "b", "running", "") }, "status"},
		{"bad conclusion", func() { srv.CreateCheckRunAs(gha, "acme", "widgets", sha, "b", "", "passed") }, "conclusion"},
		{"completed without conclusion", func() { srv.CreateCheckRunAs(gha, "acme", "widgets", sha, "b", "completed", "") }, "conclusion goes with"},
		{"conclusion while running", func() { srv.CreateCheckRunAs(gha, "acme", "widgets", sha, "b", "in_progress", "success") }, "conclusion goes with"},
		{"unknown sha", func() { srv.CreateCheckRunAs(gha, "acme", "widgets", strings.Repeat("0", 40), "b", "", "") }, "not a commit"},
		{"no name", func() { srv.CreateCheckRunAs(gha, "acme", "widgets", sha, "", "", "") }, "name"},
		{"not installed", func() { srv.CreateCheckRunAs(stranger, "acme", "widgets", sha, "b", "", "") }, "not installed"},
		{"complete another App's run", func() { srv.CompleteCheckRunAs(stranger, id, "success") }, "has no check run"},
		{"complete with a bad conclusion", func() { srv.CompleteCheckRunAs(gha, id, "ok") }, "conclusion"},
	} {
		if got := fc.fatal(tc.fn); !strings.Contains(got, tc.want) || got == "" {
			t.Errorf("%s: fatal %q, want %q", tc.name, got, tc.want)
		}
	}
}

// filter=latest keeps the newest run of each name within each suite:
// two workflows' "build" jobs both count, and a re-run inside one
// workflow's suite hides only that suite's older run.
func TestLatestIsPerSuite(t *testing.T) {
	f := newFixture(t)
	gha := f.srv.AddApp("github-actions")
	gha.AddInstallation("acme")
	ci := f.srv.NewCheckSuiteAs(gha, "acme", "widgets", f.sha)
	release := f.srv.NewCheckSuiteAs(gha, "acme", "widgets", f.sha)
	if ci == release {
		t.Fatal("two workflow runs share a suite")
	}
	failing := f.srv.CreateCheckRunInSuiteAs(gha, ci, "build", "", "failure")
	passing := f.srv.CreateCheckRunInSuiteAs(gha, release, "build", "", "success")
	c := f.client(t)
	ids := func(filter string) map[int64]int64 {
		t.Helper()
		res, _, err := c.Checks.ListCheckRunsForRef(ctx(t), "acme", "widgets", f.sha, &github.ListCheckRunsOptions{Filter: ptr(filter), CheckName: ptr("build")})
		if err != nil {
			t.Fatal(err)
		}
		out := map[int64]int64{}
		for _, cr := range res.CheckRuns {
			out[cr.GetID()] = cr.GetCheckSuite().GetID()
		}
		return out
	}
	if got := ids("latest"); len(got) != 2 || got[failing] != ci || got[passing] != release {
		t.Fatalf("latest of two suites = %v; want %d in %d and %d in %d", got, failing, ci, passing, release)
	}
	rerun := f.srv.CreateCheckRunInSuiteAs(gha, ci, "build", "", "success")
	if got := ids("latest"); len(got) != 2 || got[rerun] != ci || got[passing] != release {
		t.Fatalf("latest after a re-run in one suite = %v; want %d and %d", got, rerun, passing)
	}
	if got := ids("all"); len(got) != 3 {
		t.Fatalf("filter=all = %v", got)
	}
	suites, _, err := c.Checks.ListCheckSuitesForRef(ctx(t), "acme", "widgets", f.sha, &github.ListCheckSuiteOptions{AppID: ptr(int(gha.ID))})
	if err != nil || suites.GetTotal() != 2 {
		t.Fatalf("suites of github-actions = %v %v", suites, err)
	}
}

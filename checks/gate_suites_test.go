package checks

import (
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"
)

// Two workflows of one App (GitHub Actions) each with a "build" job put
// two current "build" check runs on a commit, in two check suites. The
// one that passed, though newer, must not hide the one that failed.
func TestGateSameNameAcrossSuites(t *testing.T) {
	for _, tc := range []struct {
		name    string
		require []string
	}{
		{name: "every check"},
		{name: "required by name", require: []string{"build"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newGHFixture(t)
			actions := f.srv.AddApp("github-actions")
			actions.AddInstallation("acme", "widgets")
			ci := f.srv.NewCheckSuiteAs(actions, "acme", "widgets", f.sha)
			nightly := f.srv.NewCheckSuiteAs(actions, "acme", "widgets", f.sha)
			f.srv.CreateCheckRunInSuiteAs(actions, ci, "build", "", "failure")
			f.srv.CreateCheckRunInSuiteAs(actions, nightly, "build", "", "success")

			opts := CheckOptions{OwnAppID: f.srv.AppID(), Exclude: OwnCheck, Require: tc.require}
			reqs, err := LoadChecks(t.Context(), f.gh.Checks, f.gh.Repositories, "acme", "widgets", f.sha, opts)
			if err != nil {
				t.Fatal(err)
			}
			g := Gate{Stage: "deploy", SHA: f.sha, Requirements: reqs}
			if g.Decide() != Refuse || !strings.Contains(g.Refusal(), "build") {
				t.Fatalf("decision %v (%q) for %s; want refuse: one build failed", g.Decide(), g.Refusal(), strings.Join(brief(reqs), ", "))
			}

			// A re-run inside the failing workflow's suite replaces its
			// run; then both builds pass.
			f.srv.CreateCheckRunInSuiteAs(actions, ci, "build", "", "success")
			reqs, err = LoadChecks(t.Context(), f.gh.Checks, f.gh.Repositories, "acme", "widgets", f.sha, opts)
			if err != nil {
				t.Fatal(err)
			}
			g = Gate{Stage: "deploy", SHA: f.sha, Requirements: reqs}
			if g.Decide() != Proceed || len(reqs) != 2 {
				t.Fatalf("after the re-run: %v, %s; want proceed with two builds met", g.Decide(), strings.Join(brief(reqs), ", "))
			}
		})
	}
}

// Skip leaves out single check runs (a protection rule's own workflow
// jobs), not every run of their name: a failed build in another suite
// still refuses.
func TestSkipLeavesOutRunsNotNames(t *testing.T) {
	f := newGHFixture(t)
	actions := f.srv.AddApp("github-actions")
	actions.AddInstallation("acme", "widgets")
	mine := f.srv.NewCheckSuiteAs(actions, "acme", "widgets", f.sha)
	other := f.srv.NewCheckSuiteAs(actions, "acme", "widgets", f.sha)
	f.srv.CreateCheckRunInSuiteAs(actions, mine, "build", "in_progress", "")
	f.srv.CreateCheckRunInSuiteAs(actions, other, "build", "", "failure")
	opts := CheckOptions{OwnAppID: f.srv.AppID(), Exclude: OwnCheck,
		Skip: func(cr *github.CheckRun) bool { return cr.GetCheckSuite().GetID() == mine }}
	reqs, err := LoadChecks(t.Context(), f.gh.Checks, f.gh.Repositories, "acme", "widgets", f.sha, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(reqs) != 1 || reqs[0].Name != "build" || reqs[0].State != Failed {
		t.Fatalf("requirements %s; want only the other suite's failed build", strings.Join(brief(reqs), ", "))
	}
}

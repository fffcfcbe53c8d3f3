package githubtest

import (
	"testing"

	"github.com/google/go-github/v60/github"
)

func TestRequiredCheckPasses(t *testing.T) {
	for _, tc := range []struct {
		conclusion string
		want       bool
	}{
		{"success", true}, {"neutral", true}, {"skipped", true},
		{"action_required", false}, {"failure", false}, {"cancelled", false}, {"timed_out", false},
		{"", false}, // still in progress
	} {
		t.Run(tc.conclusion, func(t *testing.T) {
			f := newFixture(t)
			opts := github.CreateCheckRunOptions{Name: "stagegate", HeadSHA: f.sha, Status: github.String("in_progress")}
			if tc.conclusion != "" {
				opts.Conclusion = github.String(tc.conclusion)
				opts.DetailsURL = github.String("https://example.com/why")
			}
			if _, _, err := f.client(t).Checks.CreateCheckRun(ctx(t), "acme", "widgets", opts); err != nil {
				t.Fatal(err)
			}
			if got := f.srv.RequiredCheckPasses("acme", "widgets", f.sha, "stagegate"); got != tc.want {
				t.Errorf("required check concluded %q passes = %v, want %v", tc.conclusion, got, tc.want)
			}
		})
	}
	f := newFixture(t)
	if f.srv.RequiredCheckPasses("acme", "widgets", f.sha, "stagegate") {
		t.Error("a required check that never reported passes")
	}
	f.srv.CreateStatus("acme", "widgets", f.sha, "stagegate", "failure")
	f.srv.CreateCheckRunAs(f.srv.App(), "acme", "widgets", f.sha, "stagegate", "", "success")
	if f.srv.RequiredCheckPasses("acme", "widgets", f.sha, "stagegate") {
		t.Error("a failing status of the same name as a passing check passes")
	}
}

package checks

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"
)

// complaints records what a validator reports.
type complaints []string

func (c *complaints) Helper() {}
func (c *complaints) Errorf(format string, args ...any) {
	*c = append(*c, fmt.Sprintf(format, args...))
}

// TestValidators makes sure the request validators used by every
// reporter test catch the mistakes GitHub answers with a 422.
func TestValidators(t *testing.T) {
	ann := func(start, end, col, endCol int) *github.CheckRunAnnotation {
		a := &github.CheckRunAnnotation{Path: github.String("a.go"), StartLine: github.Int(start), EndLine: github.Int(end),
			AnnotationLevel: github.String("failure"), Message: github.String("m")}
		if col > 0 {
			a.StartColumn, a.EndColumn = github.Int(col), github.Int(endCol)
		}
		return a
	}
	good := func() github.CreateCheckRunOptions {
		return github.CreateCheckRunOptions{Name: "stagegate", HeadSHA: testSHA, Status: github.String("in_progress"),
			Output: &github.CheckRunOutput{Title: github.String("t"), Summary: github.String("s")}}
	}
	for _, tc := range []struct {
		name   string
		change func(o *github.CreateCheckRunOptions)
		want   string
	}{
		{"valid", func(*github.CreateCheckRunOptions) {}, ""},
		{"no name", func(o *github.CreateCheckRunOptions) { o.Name = "" }, "name is required"},
		{"short sha", func(o *github.CreateCheckRunOptions) { o.HeadSHA = "abc" }, "head_sha"},
		{"completed without conclusion", func(o *github.CreateCheckRunOptions) { o.Status = github.String("completed") }, "requires a conclusion"},
		{"conclusion without completed_at", func(o *github.CreateCheckRunOptions) {
			o.Status, o.Conclusion = github.String("completed"), github.String("success")
		}, "without completed_at"},
		{"stale", func(o *github.CreateCheckRunOptions) {
			o.Status, o.Conclusion, o.CompletedAt = nil, github.String("stale"), &github.Timestamp{}
		}, "conclusion \"stale\""},
		{"waiting", func(o *github.CreateCheckRunOptions) { o.Status = github.String("waiting") }, "not one an app may set"},
		{"relative details url", func(o *github.CreateCheckRunOptions) { o.DetailsURL = github.String("/runs/1") }, "details_url"},
		{"no summary", func(o *github.CreateCheckRunOptions) { o.Output.Summary = nil }, "title and a summary"},
		{"summary over 65535 bytes", func(o *github.CreateCheckRunOptions) {
			o.Output.Summary = github.String(strings.Repeat("é", 32768))
		}, "over GitHub's 65535"},
		{"51 annotations", func(o *github.CreateCheckRunOptions) {
			for i := range 51 {
				o.Output.Annotations = append(o.Output.Annotations, ann(i+1, i+1, 0, 0))
			}
		}, "GitHub allows 50"},
		{"columns across lines", func(o *github.CreateCheckRunOptions) {
			o.Output.Annotations = []*github.CheckRunAnnotation{ann(1, 2, 3, 4)}
		}, "columns on a multi-line"},
		{"end before start", func(o *github.CreateCheckRunOptions) {
			o.Output.Annotations = []*github.CheckRunAnnotation{ann(5, 4, 0, 0)}
		}, "lines 5-4"},
		{"absolute path", func(o *github.CreateCheckRunOptions) {
			a := ann(1, 1, 0, 0)
			a.Path = github.String("/work/a.go")
			o.Output.Annotations = []*github.CheckRunAnnotation{a}
		}, "not relative"},
		{"action_required without details_url", func(o *github.CreateCheckRunOptions) {
			o.Status, o.Conclusion, o.CompletedAt = github.String("completed"), github.String("action_required"), &github.Timestamp{}
		}, "requires a details_url"},
		{"long button label", func(o *github.CreateCheckRunOptions) {
			o.Actions = []*github.CheckRunAction{{Label: "Deploy to production now", Identifier: "deploy", Description: "d"}}
		}, "label"},
		{"long button description", func(o *github.CreateCheckRunOptions) {
			o.Actions = []*github.CheckRunAction{{Label: "Deploy", Identifier: "deploy", Description: strings.Repeat("d", 41)}}
		}, "description"},
		{"four buttons", func(o *github.CreateCheckRunOptions) {
			for range 4 {
				o.Actions = append(o.Actions, &github.CheckRunAction{Label: "a", Identifier: "a", Description: "a"})
			}
		}, "GitHub allows 3"},
		{"bad level", func(o *github.CreateCheckRunOptions) {
			a := ann(1, 1, 0, 0)
			a.AnnotationLevel = github.String("error")
			o.Output.Annotations = []*github.CheckRunAnnotation{a}
		}, "annotation_level"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := good()
			tc.change(&o)
			var c complaints
			validateCreate(&c, "octo", "app", o)
			got := strings.Join(c, "\n")
			if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
				t.Errorf("complaints %q, want one about %q", got, tc.want)
			}
		})
	}
	var c complaints
	done := &fakeCheck{name: "stagegate", status: "completed"}
	validateUpdate(&c, "octo", "app", done, github.UpdateCheckRunOptions{Name: "stagegate/x", Status: github.String("in_progress"),
		Output: &github.CheckRunOutput{Title: github.String("t"), Summary: github.String("s")}})
	if got := strings.Join(c, "\n"); !strings.Contains(got, "renames") || !strings.Contains(got, "back to in_progress") {
		t.Errorf("update complaints: %q", got)
	}
	c = nil
	queued := &fakeCheck{name: "stagegate/deploy", status: "queued"}
	validateUpdate(&c, "octo", "app", queued, github.UpdateCheckRunOptions{Name: "stagegate/deploy", Status: github.String("completed"),
		Conclusion: github.String("action_required"), CompletedAt: &github.Timestamp{}})
	if got := strings.Join(c, "\n"); !strings.Contains(got, "requires a details_url") {
		t.Errorf("action_required update complaints: %q", got)
	}
}

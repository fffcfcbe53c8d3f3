package githubtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"
)

func TestCheckRunLifecycle(t *testing.T) {
	f := newFixture(t)
	c := f.client(t)
	cx := ctx(t)

	build, _, err := c.Checks.CreateCheckRun(cx, "acme", "widgets", github.CreateCheckRunOptions{
		Name: "build", HeadSHA: f.sha, ExternalID: ptr("run-1/build"), DetailsURL: ptr("https://ci.example.invalid/1"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if build.GetStatus() != "queued" || build.Conclusion != nil || build.GetApp().GetID() != f.srv.AppID() ||
		build.GetApp().GetSlug() != "stagegate" || build.GetCheckSuite().GetID() == 0 || build.GetHeadSHA() != f.sha ||
		build.GetExternalID() != "run-1/build" || build.GetStartedAt().IsZero() || build.CompletedAt != nil {
		t.Errorf("created = %v", build)
	}

	build, _, err = c.Checks.UpdateCheckRun(cx, "acme", "widgets", build.GetID(), github.UpdateCheckRunOptions{
		Name: "build", Status: ptr("in_progress"),
		Output: &github.CheckRunOutput{Title: ptr("Building"), Summary: ptr("step 1 of 2")},
	})
	if err != nil || build.GetStatus() != "in_progress" || build.GetOutput().GetTitle() != "Building" {
		t.Fatalf("in_progress: %v %v", build, err)
	}
	build, _, err = c.Checks.UpdateCheckRun(cx, "acme", "widgets", build.GetID(), github.UpdateCheckRunOptions{
		Name: "build", Conclusion: ptr("success"),
		Output: &github.CheckRunOutput{Title: ptr("Built"), Summary: ptr("all good"), Text: ptr("log tail")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if build.GetStatus() != "completed" || build.GetConclusion() != "success" || build.GetCompletedAt().IsZero() ||
		build.GetOutput().GetSummary() != "all good" || build.GetOutput().GetText() != "log tail" {
		t.Errorf("completed = %v", build)
	}

	// Same suite for the same App and sha; a re-run is a new check run.
	test, _, err := c.Checks.CreateCheckRun(cx, "acme", "widgets", github.CreateCheckRunOptions{Name: "test", HeadSHA: f.sha, Status: ptr("in_progress")})
	if err != nil {
		t.Fatal(err)
	}
	rerun, _, err := c.Checks.CreateCheckRun(cx, "acme", "widgets", github.CreateCheckRunOptions{Name: "build", HeadSHA: f.sha})
	if err != nil {
		t.Fatal(err)
	}
	if test.GetCheckSuite().GetID() != build.GetCheckSuite().GetID() {
		t.Errorf("suites differ: %d %d", test.GetCheckSuite().GetID(), build.GetCheckSuite().GetID())
	}

	ids := func(opts *github.ListCheckRunsOptions, ref string) string {
		t.Helper()
		res, _, err := c.Checks.ListCheckRunsForRef(cx, "acme", "widgets", ref, opts)
		if err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, r := range res.CheckRuns {
			s = append(s, fmt.Sprintf("%s#%d", r.GetName(), r.GetID()))
		}
		if res.GetTotal() != len(res.CheckRuns) {
			t.Errorf("total_count %d for %d runs", res.GetTotal(), len(res.CheckRuns))
		}
		return strings.Join(s, ",")
	}
	name := func(n string, r *github.CheckRun) string { return fmt.Sprintf("%s#%d", n, r.GetID()) }
	for _, tc := range []struct {
		opts *github.ListCheckRunsOptions
		ref  string
		want string
	}{
		{nil, f.sha, name("build", rerun) + "," + name("test", test)},
		{nil, "main", name("build", rerun) + "," + name("test", test)},
		{&github.ListCheckRunsOptions{Filter: ptr("all")}, f.sha, name("build", rerun) + "," + name("test", test) + "," + name("build", build)},
		{&github.ListCheckRunsOptions{CheckName: ptr("build"), Filter: ptr("all")}, f.sha, name("build", rerun) + "," + name("build", build)},
		{&github.ListCheckRunsOptions{Status: ptr("in_progress")}, f.sha, name("test", test)},
		{&github.ListCheckRunsOptions{Status: ptr("completed")}, f.sha, ""},
		{&github.ListCheckRunsOptions{Status: ptr("completed"), Filter: ptr("all")}, f.sha, name("build", build)},
		{&github.ListCheckRunsOptions{AppID: ptr(f.srv.AppID() + 1)}, f.sha, ""},
		{&github.ListCheckRunsOptions{AppID: ptr(f.srv.AppID())}, f.sha, name("build", rerun) + "," + name("test", test)},
	} {
		if got := ids(tc.opts, tc.ref); got != tc.want {
			t.Errorf("list %+v @%s = %q, want %q", tc.opts, tc.ref, got, tc.want)
		}
	}
	other := f.repo.Commit("main", map[string]string{"x": "1"}, "next")
	if got := ids(nil, other); got != "" {
		t.Errorf("runs on another commit = %q", got)
	}

	got, _, err := c.Checks.GetCheckRun(cx, "acme", "widgets", build.GetID())
	if err != nil || got.GetConclusion() != "success" || got.GetOutput().GetAnnotationsCount() != 0 {
		t.Errorf("get = %v %v", got, err)
	}

	// The stored state, with the history of accepted requests.
	runs := f.srv.CheckRuns("acme", "widgets")
	if len(runs) != 3 {
		t.Fatalf("stored %d runs", len(runs))
	}
	h := runs[0].History
	if len(h) != 3 || h[0].Method != "POST" || h[1].Status != "in_progress" || h[2].Conclusion != "success" ||
		!strings.Contains(string(h[2].Request), `"conclusion":"success"`) {
		t.Errorf("history = %+v", h)
	}
	if runs[0].Output.Title != "Built" || runs[0].DetailsURL != "https://ci.example.invalid/1" || runs[0].InstallationID != f.instID {
		t.Errorf("stored run = %+v", runs[0])
	}
}

func TestAnnotationsAccumulate(t *testing.T) {
	f := newFixture(t)
	c := f.client(t)
	cx := ctx(t)
	anns := func(from, n int) []*github.CheckRunAnnotation {
		var out []*github.CheckRunAnnotation
		for i := from; i < from+n; i++ {
			out = append(out, &github.CheckRunAnnotation{
				Path: ptr("README.md"), StartLine: ptr(i + 1), EndLine: ptr(i + 1), AnnotationLevel: ptr("warning"),
				Message: ptr(fmt.Sprintf("problem %d", i)),
			})
		}
		return out
	}
	cr, _, err := c.Checks.CreateCheckRun(cx, "acme", "widgets", github.CreateCheckRunOptions{
		Name: "lint", HeadSHA: f.sha,
		Output: &github.CheckRunOutput{Title: ptr("Lint"), Summary: ptr("first batch"), Annotations: anns(0, 50)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if cr.GetOutput().GetAnnotationsCount() != 50 {
		t.Errorf("after create: %d", cr.GetOutput().GetAnnotationsCount())
	}
	cr, _, err = c.Checks.UpdateCheckRun(cx, "acme", "widgets", cr.GetID(), github.UpdateCheckRunOptions{
		Name:   "lint",
		Output: &github.CheckRunOutput{Title: ptr("Lint"), Summary: ptr("second batch"), Annotations: anns(50, 30)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if cr.GetOutput().GetAnnotationsCount() != 80 || cr.GetOutput().GetSummary() != "second batch" {
		t.Errorf("after update: %d %q", cr.GetOutput().GetAnnotationsCount(), cr.GetOutput().GetSummary())
	}
	var listed []*github.CheckRunAnnotation
	opts := &github.ListOptions{PerPage: 30}
	for {
		page, resp, err := c.Checks.ListCheckRunAnnotations(cx, "acme", "widgets", cr.GetID(), opts)
		if err != nil {
			t.Fatal(err)
		}
		listed = append(listed, page...)
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	if len(listed) != 80 || listed[0].GetMessage() != "problem 0" || listed[79].GetMessage() != "problem 79" {
		t.Errorf("listed %d annotations", len(listed))
	}
	if stored := f.srv.CheckRuns("acme", "widgets")[0].Output.Annotations; len(stored) != 80 || stored[50].StartLine != 51 {
		t.Errorf("stored %d annotations", len(stored))
	}
}

func TestOnlyCreatingAppMayUpdate(t *testing.T) {
	f := newFixture(t)
	cr, _, err := f.client(t).Checks.CreateCheckRun(ctx(t), "acme", "widgets", github.CreateCheckRunOptions{Name: "build", HeadSHA: f.sha})
	if err != nil {
		t.Fatal(err)
	}
	rival := f.srv.AddApp("rival")
	rivalInst := rival.AddInstallation("acme")
	rc, _ := instClient(t, f.srv, rival, rivalInst)
	_, resp, err := rc.Checks.UpdateCheckRun(ctx(t), "acme", "widgets", cr.GetID(), github.UpdateCheckRunOptions{Name: "build", Conclusion: ptr("failure")})
	var ghErr *github.ErrorResponse
	if !errors.As(err, &ghErr) || resp.StatusCode != 403 || !strings.Contains(ghErr.Message, "can only be modified by the GitHub App that created it") {
		t.Fatalf("rival update: %v", err)
	}
	// The rival may read it, and sees it under the owner's app_id only.
	if got, _, err := rc.Checks.GetCheckRun(ctx(t), "acme", "widgets", cr.GetID()); err != nil || got.GetStatus() != "queued" {
		t.Errorf("rival get: %v %v", got, err)
	}
	if run, _ := f.srv.CheckRun(cr.GetID()); run.Status != "queued" || len(run.History) != 1 {
		t.Errorf("run changed by a rejected update: %+v", run)
	}
	// Each App has its own check suite on the commit.
	rcr, _, err := rc.Checks.CreateCheckRun(ctx(t), "acme", "widgets", github.CreateCheckRunOptions{Name: "build", HeadSHA: f.sha})
	if err != nil || rcr.GetCheckSuite().GetID() == cr.GetCheckSuite().GetID() || rcr.GetApp().GetID() != rival.ID {
		t.Errorf("rival run: %v %v", rcr, err)
	}
	res, _, err := rc.Checks.ListCheckRunsForRef(ctx(t), "acme", "widgets", f.sha, nil)
	if err != nil || res.GetTotal() != 2 {
		t.Errorf("latest per app and name: %v %v", res, err)
	}
}

func TestCheckRunJSONShape(t *testing.T) {
	f := newFixture(t)
	tok := f.token(t)
	r := do(t, "POST", f.repo.APIURL()+"/check-runs", "token "+tok, map[string]any{"name": "build", "head_sha": f.sha})
	if r.status != 201 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	var m map[string]any
	if err := json.Unmarshal(r.raw, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "head_sha", "node_id", "external_id", "url", "html_url", "details_url", "status",
		"conclusion", "started_at", "completed_at", "output", "name", "check_suite", "app", "pull_requests"} {
		if _, ok := m[k]; !ok {
			t.Errorf("missing %q", k)
		}
	}
	if m["conclusion"] != nil || m["completed_at"] != nil || m["external_id"] != "" {
		t.Errorf("nulls: conclusion %v completed_at %v external_id %v", m["conclusion"], m["completed_at"], m["external_id"])
	}
	out := m["output"].(map[string]any)
	if out["title"] != nil || out["annotations_count"] != float64(0) || !strings.HasSuffix(out["annotations_url"].(string), "/annotations") {
		t.Errorf("output = %v", out)
	}
	if _, err := time.Parse(time.RFC3339, m["started_at"].(string)); err != nil || !strings.HasSuffix(m["started_at"].(string), "Z") {
		t.Errorf("started_at = %v", m["started_at"])
	}
	if loc := r.header.Get("Location"); loc != m["url"] {
		t.Errorf("Location %q, url %v", loc, m["url"])
	}
}

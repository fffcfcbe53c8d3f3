package githubtest

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"
)

func TestCreateDeployment(t *testing.T) {
	f := newFixture(t)
	c := f.client(t)
	d, resp, err := c.Repositories.CreateDeployment(ctx(t), "acme", "widgets", &github.DeploymentRequest{
		Ref: ptr("main"), AutoMerge: ptr(false), RequiredContexts: &[]string{},
		Payload: map[string]any{"stage": "deploy", "run": 7}, Description: ptr("ship it"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if code(resp) != 201 || d.GetSHA() != f.sha || d.GetRef() != "main" || d.GetEnvironment() != "production" || d.GetTask() != "deploy" ||
		d.GetDescription() != "ship it" || d.GetCreator().GetLogin() != "stagegate[bot]" || string(d.Payload) != `{"run":7,"stage":"deploy"}` ||
		!strings.HasSuffix(d.GetStatusesURL(), "/statuses") || resp.Header.Get("Location") != d.GetURL() {
		t.Errorf("created %d %+v payload %s", code(resp), d, d.Payload)
	}
	raw := do(t, "GET", d.GetURL(), "token "+f.token(t), nil).object(t)
	if raw["production_environment"] != true || raw["transient_environment"] != false || raw["original_environment"] != "production" {
		t.Errorf("defaults: %v", raw)
	}

	// Every field as given; a payload sent as a JSON string comes back as its object.
	staging, _, err := c.Repositories.CreateDeployment(ctx(t), "acme", "widgets", &github.DeploymentRequest{
		Ref: ptr(f.sha), Task: ptr("deploy:migrate"), Environment: ptr("staging"), AutoMerge: ptr(false), RequiredContexts: &[]string{},
		TransientEnvironment: ptr(true), ProductionEnvironment: ptr(false), Payload: `{"k":"v"}`,
	})
	if err != nil || staging.GetEnvironment() != "staging" || staging.GetTask() != "deploy:migrate" || string(staging.Payload) != `{"k":"v"}` {
		t.Fatalf("staging: %+v %s %v", staging, staging.Payload, err)
	}
	stored := f.srv.Deployments("acme", "widgets")
	if len(stored) != 2 || stored[0].ID != d.GetID() || stored[0].ProductionEnvironment != true || stored[1].TransientEnvironment != true ||
		stored[1].ProductionEnvironment || stored[1].SHA != f.sha || !strings.Contains(string(stored[1].Request), `"auto_merge":false`) ||
		stored[0].AppID != f.srv.AppID() {
		t.Errorf("stored = %+v", stored)
	}

	tok := f.token(t)
	url := f.repo.APIURL() + "/deployments"
	for _, tc := range []struct {
		name   string
		body   any
		status int
		want   string
	}{
		{"missing ref", map[string]any{"environment": "production"}, 422, `"ref" wasn't supplied.`},
		{"unknown ref", map[string]any{"ref": "nope", "required_contexts": []string{}}, 422, "No ref found for: nope"},
		{"ref not a string", map[string]any{"ref": 1}, 422, "For 'properties/ref', 1 is not a string."},
		{"auto_merge not a boolean", map[string]any{"ref": "main", "auto_merge": "false"}, 422, `For 'properties/auto_merge', "false" is not a boolean.`},
		{"required_contexts not strings", map[string]any{"ref": "main", "required_contexts": []any{1}}, 422, "For 'properties/required_contexts/items', 1 is not a string."},
		{"required_contexts not an array", map[string]any{"ref": "main", "required_contexts": "ci"}, 422, `For 'properties/required_contexts', "ci" is not an array.`},
		{"payload a number", map[string]any{"ref": "main", "payload": 3}, 422, "For 'properties/payload', 3 is not an object or a string."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, "POST", url, "token "+tok, tc.body)
			if r.status != tc.status || !strings.Contains(errText(t, r), tc.want) {
				t.Errorf("%d %s", r.status, errText(t, r))
			}
		})
	}
	if n := len(f.srv.Deployments("acme", "widgets")); n != 2 {
		t.Errorf("%d deployments after rejections", n)
	}
	g := newFixture(t, WithPermissions(withoutPerm("deployments")))
	if _, resp, _ := g.client(t).Repositories.CreateDeployment(ctx(t), "acme", "widgets", &github.DeploymentRequest{Ref: ptr("main")}); code(resp) != 403 {
		t.Errorf("without deployments: %d", code(resp))
	}
	if _, resp, _ := g.client(t).Repositories.ListDeployments(ctx(t), "acme", "widgets", nil); code(resp) != 403 {
		t.Errorf("list without deployments: %d", code(resp))
	}
}

// Without required_contexts GitHub verifies every status and check on the
// commit; [] skips that; a list requires just those.
func TestDeploymentRequiredContexts(t *testing.T) {
	f := newFixture(t)
	gha := f.srv.AddApp("github-actions")
	gha.AddInstallation("acme")
	c := f.client(t)
	create := func(required *[]string) (*github.Deployment, *github.Response, error) {
		return c.Repositories.CreateDeployment(ctx(t), "acme", "widgets", &github.DeploymentRequest{
			Ref: ptr(f.sha), AutoMerge: ptr(false), RequiredContexts: required,
		})
	}
	// Nothing reported yet: nothing failed.
	if _, resp, err := create(nil); err != nil || code(resp) != 201 {
		t.Fatalf("no contexts: %d %v", code(resp), err)
	}
	f.srv.CreateStatus("acme", "widgets", f.sha, "ci/lint", "success")
	test := f.srv.CreateCheckRunAs(gha, "acme", "widgets", f.sha, "test", "", "failure")
	f.srv.CreateCheckRunAs(gha, "acme", "widgets", f.sha, "build", "", "success")

	_, resp, err := create(nil)
	e := ghErr(err)
	if code(resp) != 409 || e == nil || e.Message != "Conflict: Commit status checks failed for "+f.sha+"." ||
		len(e.Errors) != 1 || e.Errors[0].Resource != "Deployment" || e.Errors[0].Field != "required_contexts" || e.Errors[0].Code != "invalid" {
		t.Fatalf("failing check: %d %v", code(resp), err)
	}
	// The contexts GitHub lists, with their states.
	r := do(t, "POST", f.repo.APIURL()+"/deployments", "token "+f.token(t), map[string]any{"ref": f.sha, "auto_merge": false})
	var body struct {
		Errors []struct {
			Contexts []struct{ Context, State string }
		}
	}
	if err := json.Unmarshal(r.raw, &body); err != nil || len(body.Errors) != 1 {
		t.Fatalf("409 body %s", r.raw)
	}
	var got []string
	for _, c := range body.Errors[0].Contexts {
		got = append(got, c.Context+":"+c.State)
	}
	if strings.Join(got, ",") != "build:success,ci/lint:success,test:failure" {
		t.Errorf("contexts = %v", got)
	}

	for _, tc := range []struct {
		name     string
		required *[]string
		status   int
	}{
		{"empty list skips the check", &[]string{}, 201},
		{"required ones succeeded", &[]string{"ci/lint", "build"}, 201},
		{"a required one failed", &[]string{"ci/lint", "test"}, 409},
		{"a required one never reported", &[]string{"ci/lint", "security"}, 409},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, resp, err := create(tc.required); code(resp) != tc.status {
				t.Errorf("%d %v", code(resp), err)
			}
		})
	}

	// A re-run that succeeds replaces the failure (latest per App and name).
	f.srv.CreateCheckRunAs(gha, "acme", "widgets", f.sha, "test", "", "success")
	if _, resp, err := create(nil); code(resp) != 201 {
		t.Fatalf("after the re-run passed: %d %v", code(resp), err)
	}
	if run, _ := f.srv.CheckRun(test); run.Conclusion != "failure" {
		t.Error("the old run changed")
	}
	// A check still running counts against the deployment, even the
	// deploying App's own.
	own, _, err := c.Checks.CreateCheckRun(ctx(t), "acme", "widgets", github.CreateCheckRunOptions{Name: "stagegate/deploy", HeadSHA: f.sha, Status: ptr("in_progress")})
	if err != nil {
		t.Fatal(err)
	}
	if _, resp, _ := create(nil); code(resp) != 409 {
		t.Errorf("with an in-progress check: %d", code(resp))
	}
	if _, resp, _ := create(&[]string{"test", "build"}); code(resp) != 201 {
		t.Errorf("naming the contexts: %d", code(resp))
	}
	if _, _, err := c.Checks.UpdateCheckRun(ctx(t), "acme", "widgets", own.GetID(), github.UpdateCheckRunOptions{Name: "stagegate/deploy", Conclusion: ptr("neutral")}); err != nil {
		t.Fatal(err)
	}
	// Pending and error statuses fail the check too.
	for _, state := range []string{"pending", "error"} {
		f.srv.CreateStatus("acme", "widgets", f.sha, "ci/lint", state)
		if _, resp, _ := create(nil); code(resp) != 409 {
			t.Errorf("status %s: %d", state, code(resp))
		}
	}
	f.srv.CreateStatus("acme", "widgets", f.sha, "ci/lint", "success")
	if _, resp, err := create(nil); code(resp) != 201 {
		t.Errorf("all green again (neutral counts as success): %d %v", code(resp), err)
	}
}

// With auto_merge (the default) GitHub merges the default branch into a
// branch that is behind it; the fake answers the conflict.
func TestDeploymentAutoMerge(t *testing.T) {
	f := newFixture(t)
	feature := f.repo.Commit("feature", map[string]string{"f": "f"}, "feature")
	f.repo.Commit("main", map[string]string{"m": "m"}, "main moves on")
	upToDate := f.repo.Commit("fresh", map[string]string{"n": "n"}, "cut from the new main")
	c := f.client(t)
	for _, tc := range []struct {
		name      string
		ref       string
		autoMerge *bool
		status    int
		message   string
	}{
		{"branch behind, auto_merge default", "feature", nil, 409, "Conflict merging main into feature."},
		{"full branch ref behind", "refs/heads/feature", ptr(true), 409, "Conflict merging main into feature."},
		{"branch behind, auto_merge false", "feature", ptr(false), 201, ""},
		{"branch up to date", "fresh", nil, 201, ""},
		{"the default branch", "main", nil, 201, ""},
		{"a sha is never merged", feature, nil, 201, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, resp, err := c.Repositories.CreateDeployment(ctx(t), "acme", "widgets", &github.DeploymentRequest{
				Ref: ptr(tc.ref), AutoMerge: tc.autoMerge, RequiredContexts: &[]string{},
			})
			if code(resp) != tc.status {
				t.Fatalf("%d %v", code(resp), err)
			}
			if tc.message != "" && (ghErr(err) == nil || ghErr(err).Message != tc.message) {
				t.Errorf("error %v", err)
			}
			if tc.status == 201 && d.GetRef() != tc.ref {
				t.Errorf("ref %q", d.GetRef())
			}
		})
	}
	if f.repo.Head("feature") != feature || f.repo.Head("fresh") != upToDate {
		t.Error("a refused auto-merge moved a branch")
	}
}

func TestListAndGetDeployments(t *testing.T) {
	f := newFixture(t)
	second := f.repo.Commit("main", map[string]string{"2": "2"}, "second")
	f.repo.Commit("feature", map[string]string{"x": "x"}, "x")
	c := f.client(t)
	mk := func(ref, env, task string) int64 {
		t.Helper()
		req := &github.DeploymentRequest{Ref: ptr(ref), Environment: ptr(env), AutoMerge: ptr(false), RequiredContexts: &[]string{}}
		if task != "" {
			req.Task = ptr(task)
		}
		d, _, err := c.Repositories.CreateDeployment(ctx(t), "acme", "widgets", req)
		if err != nil {
			t.Fatal(err)
		}
		return d.GetID()
	}
	a := mk(f.sha, "production", "")
	b := mk("main", "staging", "")
	cc := mk("feature", "staging", "deploy:migrate")
	ids := func(opts *github.DeploymentsListOptions) []int64 {
		t.Helper()
		ds, _, err := c.Repositories.ListDeployments(ctx(t), "acme", "widgets", opts)
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, d := range ds {
			out = append(out, d.GetID())
		}
		return out
	}
	for _, tc := range []struct {
		opts *github.DeploymentsListOptions
		want []int64
	}{
		{nil, []int64{cc, b, a}},
		{&github.DeploymentsListOptions{Environment: "staging"}, []int64{cc, b}},
		{&github.DeploymentsListOptions{SHA: second}, []int64{b}},
		{&github.DeploymentsListOptions{Ref: "main"}, []int64{b}},
		{&github.DeploymentsListOptions{Task: "deploy:migrate"}, []int64{cc}},
		{&github.DeploymentsListOptions{Environment: "qa"}, nil},
	} {
		if got := ids(tc.opts); !equalIDs(got, tc.want) {
			t.Errorf("list %+v = %v, want %v", tc.opts, got, tc.want)
		}
	}
	d, _, err := c.Repositories.GetDeployment(ctx(t), "acme", "widgets", b)
	if err != nil || d.GetID() != b || d.GetSHA() != second || d.GetEnvironment() != "staging" {
		t.Errorf("get = %+v %v", d, err)
	}
	if _, resp, _ := c.Repositories.GetDeployment(ctx(t), "acme", "widgets", 424242); code(resp) != 404 {
		t.Errorf("unknown deployment: %d", code(resp))
	}
}

func equalIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

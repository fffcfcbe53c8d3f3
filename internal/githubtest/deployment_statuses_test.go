package githubtest

import (
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"
)

func deploy(t *testing.T, f *fixture, env string, transient, production bool) int64 {
	t.Helper()
	d, _, err := f.client(t).Repositories.CreateDeployment(ctx(t), "acme", "widgets", &github.DeploymentRequest{
		Ref: ptr("main"), Environment: ptr(env), AutoMerge: ptr(false), RequiredContexts: &[]string{},
		TransientEnvironment: ptr(transient), ProductionEnvironment: ptr(production),
	})
	if err != nil {
		t.Fatal(err)
	}
	return d.GetID()
}

func TestDeploymentStatuses(t *testing.T) {
	f := newFixture(t)
	c := f.client(t)
	id := deploy(t, f, "production", false, true)

	for _, state := range deploymentStateEnum {
		st, resp, err := c.Repositories.CreateDeploymentStatus(ctx(t), "acme", "widgets", id, &github.DeploymentStatusRequest{State: ptr(state)})
		if err != nil || code(resp) != 201 || st.GetState() != state || st.GetCreator().GetLogin() != "stagegate[bot]" ||
			!strings.HasSuffix(st.GetDeploymentURL(), "/deployments/"+itoa64(id)) || st.GetEnvironment() != "production" {
			t.Errorf("%s: %d %+v %v", state, code(resp), st, err)
		}
	}
	st, _, err := c.Repositories.CreateDeploymentStatus(ctx(t), "acme", "widgets", id, &github.DeploymentStatusRequest{
		State: ptr("success"), LogURL: ptr("https://ci.example.invalid/run/1"), EnvironmentURL: ptr("https://example.com"),
		Description: ptr(strings.Repeat("é", 140)), Environment: ptr("production-eu"),
	})
	if err != nil || st.GetLogURL() != "https://ci.example.invalid/run/1" || st.GetTargetURL() != st.GetLogURL() ||
		st.GetEnvironmentURL() != "https://example.com" || st.GetEnvironment() != "production-eu" {
		t.Fatalf("full status: %+v %v", st, err)
	}
	// The environment moved the deployment.
	if d, _, err := c.Repositories.GetDeployment(ctx(t), "acme", "widgets", id); err != nil || d.GetEnvironment() != "production-eu" {
		t.Errorf("deployment environment: %v %v", d.GetEnvironment(), err)
	}

	tok := f.token(t)
	url := f.repo.APIURL() + "/deployments/" + itoa64(id) + "/statuses"
	for _, tc := range []struct {
		name string
		body any
		want string
	}{
		{"bad state", map[string]any{"state": "done"}, `For 'properties/state', "done" is not a member of ["error", "failure", "inactive", "in_progress", "queued", "pending", "success"].`},
		{"missing state", map[string]any{"description": "x"}, `"state" wasn't supplied.`},
		{"description over 140 characters", map[string]any{"state": "success", "description": strings.Repeat("x", 141)}, "DeploymentStatus custom description: description is too long (maximum is 140 characters)"},
		{"auto_inactive not a boolean", map[string]any{"state": "success", "auto_inactive": "no"}, `For 'properties/auto_inactive', "no" is not a boolean.`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, "POST", url, "token "+tok, tc.body)
			if r.status != 422 || !strings.Contains(errText(t, r), tc.want) {
				t.Errorf("%d %s", r.status, errText(t, r))
			}
		})
	}
	stored := f.srv.Deployments("acme", "widgets")[0].Statuses
	if len(stored) != len(deploymentStateEnum)+1 || stored[0].State != "error" || stored[len(stored)-1].Environment != "production-eu" ||
		!strings.Contains(string(stored[len(stored)-1].Request), "log_url") {
		t.Errorf("stored statuses = %+v", stored)
	}
	list, _, err := c.Repositories.ListDeploymentStatuses(ctx(t), "acme", "widgets", id, nil)
	if err != nil || len(list) != len(stored) || list[0].GetID() != stored[len(stored)-1].ID || list[len(list)-1].GetState() != "error" {
		t.Errorf("list (newest first) = %d %v", len(list), err)
	}
	if _, resp, _ := c.Repositories.CreateDeploymentStatus(ctx(t), "acme", "widgets", 999999, &github.DeploymentStatusRequest{State: ptr("success")}); code(resp) != 404 {
		t.Errorf("unknown deployment: %d", code(resp))
	}
	if _, resp, _ := c.Repositories.ListDeploymentStatuses(ctx(t), "acme", "widgets", 999999, nil); code(resp) != 404 {
		t.Errorf("list of unknown deployment: %d", code(resp))
	}
}

// auto_inactive, as GitHub documents it: a success marks earlier
// successful, non-transient, non-production deployments to the same
// environment inactive.
func TestDeploymentAutoInactive(t *testing.T) {
	f := newFixture(t)
	c := f.client(t)
	succeed := func(id int64, autoInactive *bool) {
		t.Helper()
		if _, _, err := c.Repositories.CreateDeploymentStatus(ctx(t), "acme", "widgets", id, &github.DeploymentStatusRequest{State: ptr("success"), AutoInactive: autoInactive}); err != nil {
			t.Fatal(err)
		}
	}
	latest := func() map[int64]string {
		m := map[int64]string{}
		for _, d := range f.srv.Deployments("acme", "widgets") {
			m[d.ID] = d.Statuses[len(d.Statuses)-1].State
		}
		return m
	}
	old := deploy(t, f, "staging", false, false)
	succeed(old, nil)
	kept := deploy(t, f, "staging", false, false)
	succeed(kept, ptr(false)) // auto_inactive false: nothing changes
	if got := latest(); got[old] != "success" || got[kept] != "success" {
		t.Fatalf("auto_inactive false changed states: %v", got)
	}
	transient := deploy(t, f, "staging", true, false)
	succeed(transient, ptr(false))
	failed := deploy(t, f, "staging", false, false)
	if _, _, err := c.Repositories.CreateDeploymentStatus(ctx(t), "acme", "widgets", failed, &github.DeploymentStatusRequest{State: ptr("failure")}); err != nil {
		t.Fatal(err)
	}
	otherEnv := deploy(t, f, "qa", false, false)
	succeed(otherEnv, nil)
	prod := deploy(t, f, "production", false, true)
	succeed(prod, nil)
	prod2 := deploy(t, f, "production", false, true)
	succeed(prod2, nil) // production deployments are left alone
	if got := latest(); got[old] != "success" || got[kept] != "success" || got[prod] != "success" {
		t.Fatalf("a success in another environment changed states: %v", got)
	}
	newest := deploy(t, f, "staging", false, false)
	succeed(newest, nil)
	got := latest()
	for id, want := range map[int64]string{old: "inactive", kept: "inactive", failed: "failure", transient: "success",
		otherEnv: "success", prod: "success", prod2: "success", newest: "success"} {
		if got[id] != want {
			t.Errorf("deployment %d: %s, want %s", id, got[id], want)
		}
	}
	for _, d := range f.srv.Deployments("acme", "widgets") {
		if d.ID == old {
			last := d.Statuses[len(d.Statuses)-1]
			if !last.AutoInactive || last.Creator != "stagegate[bot]" || last.Request != nil {
				t.Errorf("added status = %+v", last)
			}
		}
	}
	// The added status shows through the API too.
	list, _, err := c.Repositories.ListDeploymentStatuses(ctx(t), "acme", "widgets", old, nil)
	if err != nil || len(list) != 2 || list[0].GetState() != "inactive" {
		t.Errorf("statuses of the old deployment: %v %v", list, err)
	}
}

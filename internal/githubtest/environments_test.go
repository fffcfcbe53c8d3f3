package githubtest

import (
	"net/http"
	"testing"

	"github.com/google/go-github/v60/github"
)

func TestGetEnvironment(t *testing.T) {
	f := newFixture(t)
	f.srv.AddTeamMember("acme", "release", "bob")
	f.srv.SetEnvironment("acme", "widgets", Environment{
		Name: "Production", WaitTimer: 30, Reviewers: []string{"alice", "@acme/release"}, PreventSelfReview: true,
		BranchPolicy: BranchPolicyCustom, BranchPatterns: []string{"main", "release/*"}, TagPatterns: []string{"v*"},
	})
	f.srv.SetEnvironment("acme", "widgets", Environment{Name: "staging"})
	c := f.client(t)

	// Names are matched without regard to case, as on GitHub.
	e, resp, err := c.Repositories.GetEnvironment(ctx(t), "acme", "widgets", "production")
	if err != nil || code(resp) != 200 {
		t.Fatalf("get: %v %d", err, code(resp))
	}
	if e.GetName() != "Production" || !e.GetCanAdminsBypass() || len(e.ProtectionRules) != 3 {
		t.Fatalf("environment %+v", e)
	}
	types := map[string]*github.ProtectionRule{}
	for _, r := range e.ProtectionRules {
		types[r.GetType()] = r
	}
	if types["wait_timer"].GetWaitTimer() != 30 {
		t.Errorf("wait timer rule %+v", types["wait_timer"])
	}
	rev := types["required_reviewers"]
	if rev == nil || !rev.GetPreventSelfReview() || len(rev.Reviewers) != 2 {
		t.Fatalf("reviewers rule %+v", rev)
	}
	if u, ok := rev.Reviewers[0].Reviewer.(*github.User); !ok || u.GetLogin() != "alice" || rev.Reviewers[0].GetType() != "User" {
		t.Errorf("first reviewer %+v", rev.Reviewers[0])
	}
	if tm, ok := rev.Reviewers[1].Reviewer.(*github.Team); !ok || tm.GetSlug() != "release" || rev.Reviewers[1].GetType() != "Team" {
		t.Errorf("second reviewer %+v", rev.Reviewers[1])
	}
	if p := e.DeploymentBranchPolicy; p == nil || p.GetProtectedBranches() || !p.GetCustomBranchPolicies() || types["branch_policy"] == nil {
		t.Errorf("branch policy %+v", p)
	}

	// An environment without rules has an empty list and a null policy.
	raw := do(t, "GET", f.srv.APIURL()+"repos/acme/widgets/environments/staging", "token "+f.token(t), nil).object(t)
	if rules, ok := raw["protection_rules"].([]any); !ok || len(rules) != 0 || raw["deployment_branch_policy"] != nil {
		t.Errorf("staging = %v", raw)
	}

	if _, resp, err := c.Repositories.GetEnvironment(ctx(t), "acme", "widgets", "nowhere"); err == nil || code(resp) != 404 {
		t.Errorf("a missing environment: %v %d, want 404", err, code(resp))
	}
}

func TestListDeploymentBranchPolicies(t *testing.T) {
	f := newFixture(t)
	f.srv.SetEnvironment("acme", "widgets", Environment{
		Name: "production", BranchPolicy: BranchPolicyCustom, BranchPatterns: []string{"main", "release/*"}, TagPatterns: []string{"v*"},
	})
	c := f.client(t)
	list, _, err := c.Repositories.ListDeploymentBranchPolicies(ctx(t), "acme", "widgets", "production")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range list.BranchPolicies {
		got = append(got, p.GetType()+":"+p.GetName())
	}
	if list.GetTotalCount() != 3 || len(got) != 3 || got[0] != "branch:main" || got[1] != "branch:release/*" || got[2] != "tag:v*" {
		t.Errorf("policies = %v (total %d)", got, list.GetTotalCount())
	}
	if _, resp, err := c.Repositories.ListDeploymentBranchPolicies(ctx(t), "acme", "widgets", "nowhere"); err == nil || code(resp) != 404 {
		t.Errorf("a missing environment's policies: %v %d, want 404", err, code(resp))
	}
}

// An App without the Actions permission cannot read environments, as on
// GitHub, where the endpoints need "actions: read".
func TestEnvironmentsNeedActionsPermission(t *testing.T) {
	perms := DefaultPermissions()
	delete(perms, "actions")
	f := newFixture(t, WithPermissions(perms))
	f.srv.SetEnvironment("acme", "widgets", Environment{Name: "production"})
	_, resp, err := f.client(t).Repositories.GetEnvironment(ctx(t), "acme", "widgets", "production")
	if err == nil || code(resp) != http.StatusForbidden {
		t.Errorf("without actions: %v %d, want 403", err, code(resp))
	}
}

func TestGetBranchProtected(t *testing.T) {
	f := newFixture(t)
	f.repo.Commit("release/1", map[string]string{"a": "1"}, "release")
	f.srv.SetBranchProtected("acme", "widgets", "main", true)
	c := f.client(t)
	b, _, err := c.Repositories.GetBranch(ctx(t), "acme", "widgets", "main", 0)
	if err != nil || !b.GetProtected() || b.GetCommit().GetSHA() != f.sha {
		t.Errorf("main: %+v %v", b, err)
	}
	b, _, err = c.Repositories.GetBranch(ctx(t), "acme", "widgets", "release/1", 0)
	if err != nil || b.GetProtected() || b.GetName() != "release/1" {
		t.Errorf("release/1: %+v %v", b, err)
	}
	if _, resp, err := c.Repositories.GetBranch(ctx(t), "acme", "widgets", "gone", 0); err == nil || code(resp) != 404 {
		t.Errorf("a missing branch: %v %d", err, code(resp))
	}
}

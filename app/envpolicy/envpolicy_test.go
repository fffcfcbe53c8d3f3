package envpolicy

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v60/github"

	"github.com/stagegate/stagegate/internal/githubtest"
	"github.com/stagegate/stagegate/pipeline"
	"github.com/stagegate/stagegate/pipeline/policy"
)

// repos is the installation's repositories API on srv, as the App uses it.
func repos(t *testing.T, srv *githubtest.Server, inst int64) *github.RepositoriesService {
	t.Helper()
	itr, err := ghinstallation.New(http.DefaultTransport, srv.AppID(), inst, srv.PrivateKeyPEM())
	if err != nil {
		t.Fatal(err)
	}
	itr.BaseURL = strings.TrimSuffix(srv.APIURL(), "/")
	gh, err := github.NewClient(&http.Client{Transport: itr}).WithEnterpriseURLs(srv.APIURL(), srv.APIURL())
	if err != nil {
		t.Fatal(err)
	}
	return gh.Repositories
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

const trustedFile = `environments:
  production: { branches: [main, "release/*"], secrets: [PROD_TOKEN] }
stages:
  - { name: deploy, environment: production, approval: manual, actions: [{ name: ship, run: ./ship.sh }] }
`

func setup(t *testing.T, env *githubtest.Environment) (*githubtest.Server, *github.RepositoriesService) {
	t.Helper()
	srv := githubtest.New(t)
	repo := srv.AddRepo("acme", "web")
	repo.Commit("main", map[string]string{pipeline.DefaultFile: trustedFile}, "initial")
	repo.Commit("release/1", map[string]string{"a": "1"}, "release")
	repo.Commit("feature", map[string]string{pipeline.DefaultFile: "stages: [{ name: s, actions: [{ name: a, run: a }] }]\n"}, "branch")
	inst := srv.AddInstallation("acme", "web")
	if env != nil {
		srv.SetEnvironment("acme", "web", *env)
	}
	return srv, repos(t, srv, inst)
}

func TestLoadFromTrustedSources(t *testing.T) {
	srv, api := setup(t, &githubtest.Environment{
		Name: "Production", WaitTimer: 10, Reviewers: []string{"alice"}, PreventSelfReview: true,
		BranchPolicy: githubtest.BranchPolicyCustom, BranchPatterns: []string{"release/*"},
	})
	_ = srv
	l, err := Load(testCtx(t), api, api, Request{Owner: "acme", Repo: "web", Environment: "production", Branch: "main"})
	if err != nil {
		t.Fatal(err)
	}
	p := l.Policy
	if !p.Known() || !p.Manual || !p.PreventSelfReview || p.WaitTimer != 10*time.Minute || len(p.Secrets) != 1 {
		t.Fatalf("policy %+v", p)
	}
	// The file allows main, GitHub's settings only release/*: both must.
	if ok, why := p.AllowsRef(l.Ref); ok || !strings.Contains(why, "GitHub's settings of environment Production") {
		t.Errorf("main: %v %s", ok, why)
	}
	if ok, why := p.AllowsRef(policy.Ref{Branch: "release/1"}); !ok {
		t.Errorf("release/1: %s", why)
	}
	if ok, _, _ := p.MayApprove(policy.Approver{Login: "bob", Writer: true}, "carol"); ok {
		t.Error("a writer who is not GitHub's required reviewer approved")
	}
	if ok, _, _ := p.MayApprove(policy.Approver{Login: "alice", Writer: true}, "alice"); ok {
		t.Error("prevent self-review did not hold")
	}
}

func TestLoadWithoutGitHubEnvironment(t *testing.T) {
	_, api := setup(t, nil)
	commit, err := pipeline.Parse("c.yml", []byte("environments:\n  production: { approval: none, branches: [\"**\"], deployers: [mallory] }\nstages: [{ name: s, actions: [{ name: a, run: a }] }]\n"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := Load(testCtx(t), api, api, Request{Owner: "acme", Repo: "web", Environment: "production", Branch: "feature", Commit: commit})
	if err != nil {
		t.Fatal(err)
	}
	if ok, why := l.Policy.AllowsRef(l.Ref); ok || !strings.Contains(why, ".stagegate.yml on main") {
		t.Errorf("the commit widened the branches: %v %s", ok, why)
	}
	if !l.Policy.Manual {
		t.Error("the commit dropped the approval")
	}
	if l.Trusted.DefaultBranch != "main" || l.Trusted.Repo == nil {
		t.Errorf("trusted %+v", l.Trusted)
	}
	// An environment no trusted source names.
	l, err = Load(testCtx(t), api, api, Request{Owner: "acme", Repo: "web", Environment: "staging", Branch: "main", Commit: commit})
	if err != nil {
		t.Fatal(err)
	}
	if ok, why := l.Policy.AllowsRef(l.Ref); ok || !strings.Contains(why, "not defined") {
		t.Errorf("staging: %v %s", ok, why)
	}
}

func TestProtectedBranchesOnly(t *testing.T) {
	srv, api := setup(t, &githubtest.Environment{Name: "production", BranchPolicy: githubtest.BranchPolicyProtected})
	srv.SetBranchProtected("acme", "web", "main", true)
	for branch, want := range map[string]bool{"main": true, "release/1": false, "gone": false} {
		l, err := Load(testCtx(t), api, api, Request{Owner: "acme", Repo: "web", Environment: "production", Branch: branch})
		if err != nil {
			t.Fatal(err)
		}
		if ok, why := l.Policy.AllowsRef(l.Ref); ok != want {
			t.Errorf("%s: %v %s, want %v", branch, ok, why, want)
		}
	}
	l, err := Load(testCtx(t), api, api, Request{Owner: "acme", Repo: "web", Environment: "production", Tag: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := l.Policy.AllowsRef(l.Ref); ok {
		t.Error("a tag deployed under protected branches only")
	}
}

// Without the Actions permission GitHub's settings cannot be read, and
// the policy cannot be known: an error, never an open gate.
func TestLoadFailsClosedWithoutActionsPermission(t *testing.T) {
	perms := githubtest.DefaultPermissions()
	delete(perms, "actions")
	srv := githubtest.New(t, githubtest.WithPermissions(perms))
	repo := srv.AddRepo("acme", "web")
	repo.Commit("main", map[string]string{pipeline.DefaultFile: trustedFile}, "initial")
	api := repos(t, srv, srv.AddInstallation("acme", "web"))
	_, err := Load(testCtx(t), api, api, Request{Owner: "acme", Repo: "web", Environment: "production", Branch: "main"})
	if err == nil || !strings.Contains(err.Error(), "Actions permission") {
		t.Errorf("err = %v", err)
	}
}

func TestLoadRefusesWhileTheTrustedFileIsInvalid(t *testing.T) {
	srv := githubtest.New(t)
	repo := srv.AddRepo("acme", "web")
	repo.Commit("main", map[string]string{pipeline.DefaultFile: "stages: nope\n"}, "initial")
	api := repos(t, srv, srv.AddInstallation("acme", "web"))
	_, err := Load(testCtx(t), api, api, Request{Owner: "acme", Repo: "web", Environment: "production", Branch: "main"})
	if err == nil || !strings.Contains(err.Error(), "is invalid") {
		t.Errorf("err = %v", err)
	}
}

// The organization's default is a trusted source for every repository:
// a floor the repository's own file cannot lower.
func TestOrgDefaultIsAFloor(t *testing.T) {
	srv := githubtest.New(t)
	org := srv.AddRepo("acme", ".github")
	org.Commit("main", map[string]string{pipeline.DefaultFile: `environments:
  production: { approval: manual, deployers: ["@acme/release"] }
stages: [{ name: s, actions: [{ name: a, run: a }] }]
`}, "org default")
	repo := srv.AddRepo("acme", "web")
	repo.Commit("main", map[string]string{pipeline.DefaultFile: `environments:
  production: { approval: none, deployers: [mallory] }
stages: [{ name: deploy, environment: production, actions: [{ name: a, run: a }] }]
`}, "initial")
	api := repos(t, srv, srv.AddInstallation("acme", "web", ".github"))
	l, err := Load(testCtx(t), api, api, Request{Owner: "acme", Repo: "web", Environment: "production", Branch: "main"})
	if err != nil {
		t.Fatal(err)
	}
	if !l.Policy.Manual || !strings.Contains(strings.Join(l.Policy.ManualBy, ","), "acme/.github") {
		t.Errorf("the organization's approval did not hold: %+v", l.Policy)
	}
	if ok, _, _ := l.Policy.MayApprove(policy.Approver{Login: "mallory"}, ""); ok {
		t.Error("a deployer of the repository's file alone approved against the organization's list")
	}
}

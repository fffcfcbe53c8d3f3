package app_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stagegate/stagegate/internal/githubtest"
)

// TestFetchTokenIsScopedToTheRepository: git fetches with a token that
// reads the run's repository and nothing else, never with the token the
// App writes checks with, which covers every repository of the
// installation with write access.
func TestFetchTokenIsScopedToTheRepository(t *testing.T) {
	h := newHarness(t, map[string]string{".stagegate.yml": "stages:\n  - name: build\n    actions:\n      - { name: env, run: env }\n"})
	// A second repository in the installation, which the fetch token
	// must not reach.
	h.gh.AddRepo("acme", "payroll").Commit("main", map[string]string{"x": "y"}, "x")
	h.gh.AddInstallationRepos(h.inst, "payroll")
	sha := h.push("main", map[string]string{"a.txt": "a\n"})
	got := h.waitChecks(sha, 30*time.Second)
	if c := got["stagegate/build"]; c.Conclusion != "success" {
		t.Fatalf("build: %s", describeChecks(got))
	}
	reqs := h.gh.GitRequests()
	if len(reqs) == 0 {
		t.Fatal("no git request")
	}
	want := githubtest.TokenScope{InstallationID: h.inst, Repos: []string{"acme/web"}, Permissions: map[string]string{"contents": "read"}}
	for _, r := range reqs {
		if !reflect.DeepEqual(r.Scope, want) {
			t.Errorf("git request %s %s with token scope %+v, want %+v", r.Method, r.Path, r.Scope, want)
		}
	}
	// No token of any kind reached the action's environment.
	if leaks := h.gh.TokensIn(got["stagegate/build"].Output.Text); len(leaks) != 0 {
		t.Errorf("the action's environment holds %d installation tokens", len(leaks))
	}
	if !strings.Contains(got["stagegate/build"].Output.Text, "STAGEGATE_SHA=") {
		t.Errorf("the env action's log is missing:\n%s", got["stagegate/build"].Output.Text)
	}
}

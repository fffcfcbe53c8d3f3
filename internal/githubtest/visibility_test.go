package githubtest

import (
	"net/http"
	"testing"
)

// TestRepoOutsideTheSelectionLooksMissing: for a private repository the
// installation was not given, GitHub answers 404 "Not Found", the same as
// for a repository that does not exist (it does not reveal private
// repositories: https://docs.github.com/rest/using-the-rest-api/troubleshooting-the-rest-api#404-not-found-for-an-existing-resource),
// for the repository and for its contents alike.
func TestRepoOutsideTheSelectionLooksMissing(t *testing.T) {
	srv := New(t)
	srv.AddRepo("acme", "web").Commit("main", map[string]string{"README.md": "x"}, "c")
	srv.AddRepo("acme", ".github").Commit("main", map[string]string{".stagegate.yml": "stages: []\n"}, "c")
	gh, _ := instClient(t, srv, srv.app, srv.AddInstallation("acme", "web"))
	for _, repo := range []string{".github", "nothing-here"} {
		_, resp, err := gh.Repositories.Get(ctx(t), "acme", repo)
		if err == nil || resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET /repos/acme/%s = %v, %v; want 404", repo, resp, err)
		}
		_, _, resp, err = gh.Repositories.GetContents(ctx(t), "acme", repo, ".stagegate.yml", nil)
		if err == nil || resp.StatusCode != http.StatusNotFound {
			t.Errorf("contents of acme/%s = %v, %v; want 404", repo, resp, err)
		}
	}
	if _, _, err := gh.Repositories.Get(ctx(t), "acme", "web"); err != nil {
		t.Errorf("the selected repository: %v", err)
	}
}

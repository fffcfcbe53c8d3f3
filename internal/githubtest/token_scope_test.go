package githubtest

import (
	"strconv"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TestScopedTokens holds the fake to GitHub's rules for narrowed
// installation tokens
// (https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app):
// a token asked for one repository and contents:read reaches that
// repository only, over the API and over git, and writes nothing; asking
// for what the installation was not granted is a 422.
func TestScopedTokens(t *testing.T) {
	f := newFixture(t)
	gizmos := f.srv.AddRepo("acme", "gizmos")
	gizmos.Commit("main", map[string]string{"README.md": "# gizmos\n"}, "initial")
	f.srv.AddInstallationRepos(f.instID, "gizmos")
	api := f.srv.APIURL()
	jwtAuth := "Bearer " + signJWT(t, f.srv.App().PrivateKey(), jwt.SigningMethodRS256,
		jwt.MapClaims{"iss": f.srv.AppID(), "iat": time.Now().Unix() - 30, "exp": time.Now().Unix() + 60})
	tokensURL := api + "/app/installations/" + strconv.FormatInt(f.instID, 10) + "/access_tokens"

	r := do(t, "POST", tokensURL, jwtAuth, map[string]any{
		"repositories": []string{"widgets"}, "permissions": map[string]string{"contents": "read"},
	})
	if r.status != 201 {
		t.Fatalf("scoped token: %d %s", r.status, r.raw)
	}
	body := r.object(t)
	tok := body["token"].(string)
	if perms, _ := body["permissions"].(map[string]any); len(perms) != 1 || perms["contents"] != "read" {
		t.Errorf("permissions = %v, want only contents:read", body["permissions"])
	}
	if repos, _ := body["repositories"].([]any); len(repos) != 1 || repos[0].(map[string]any)["full_name"] != "acme/widgets" {
		t.Errorf("repositories = %v, want acme/widgets only", body["repositories"])
	}
	if sc, ok := f.srv.TokenScope(tok); !ok || len(sc.Repos) != 1 || sc.Repos[0] != "acme/widgets" || sc.Permissions["contents"] != "read" {
		t.Errorf("TokenScope = %+v, %v", sc, ok)
	}

	t.Run("git", func(t *testing.T) {
		tests := []struct {
			name, url  string
			wantStatus int
		}{
			{"its repository", f.repo.CloneURL(), 200},
			{"another repository of the installation", gizmos.CloneURL(), 404},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				before := len(f.srv.GitRequests())
				out, err := runGit(t, t.TempDir(), "x-access-token", tok, "clone", "--quiet", tc.url, "c")
				if (err == nil) != (tc.wantStatus == 200) {
					t.Fatalf("clone: %v\n%s", err, out)
				}
				reqs := f.srv.GitRequests()[before:]
				if len(reqs) == 0 || reqs[len(reqs)-1].Status != tc.wantStatus {
					t.Errorf("git requests = %+v, want the last %d", reqs, tc.wantStatus)
				}
			})
		}
	})

	t.Run("api", func(t *testing.T) {
		tests := []struct {
			name, method, path string
			body               any
			status             int
			message            string
		}{
			{"read its contents", "GET", "/repos/acme/widgets/contents/README.md", nil, 200, ""},
			{"read another repository", "GET", "/repos/acme/gizmos/contents/README.md", nil, 404, "Not Found"},
			{"write a check run", "POST", "/repos/acme/widgets/check-runs", map[string]any{"name": "x", "head_sha": f.sha}, 403, msgNotAccessible},
			{"write a status", "POST", "/repos/acme/widgets/statuses/" + f.sha, map[string]any{"state": "success", "context": "x"}, 403, msgNotAccessible},
			{"write to another repository", "POST", "/repos/acme/gizmos/check-runs", map[string]any{"name": "x", "head_sha": f.sha}, 404, "Not Found"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				r := do(t, tc.method, api+tc.path, "token "+tok, tc.body)
				if tc.status == 200 {
					if r.status != 200 {
						t.Fatalf("%d %s", r.status, r.raw)
					}
					return
				}
				wantGitHubError(t, r, tc.status, tc.message)
			})
		}
	})

	t.Run("requests GitHub refuses", func(t *testing.T) {
		tests := []struct {
			name    string
			body    map[string]any
			message string
		}{
			{"more than the installation has", map[string]any{"permissions": map[string]string{"contents": "write"}},
				"The permissions requested are not granted to this installation."},
			{"a repository the installation does not cover", map[string]any{"repositories": []string{"widgets", "secret"}},
				"There is at least one repository that does not exist or is not accessible to the parent installation."},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				before := len(f.srv.IssuedTokens())
				wantGitHubError(t, do(t, "POST", tokensURL, jwtAuth, tc.body), 422, tc.message)
				if n := len(f.srv.IssuedTokens()); n != before {
					t.Errorf("a refused request issued a token (%d tokens, were %d)", n, before)
				}
			})
		}
	})
}

package ghclient

import (
	"testing"
)

func TestRoute(t *testing.T) {
	cases := []struct{ base, path, want string }{
		{"", "/repos/acme/widgets/check-runs/123", "/repos/{owner}/{repo}/check-runs/{id}"},
		{"/api/v3", "/api/v3/repos/acme/widgets/check-runs/123", "/repos/{owner}/{repo}/check-runs/{id}"},
		{"/api/v3/", "/api/v3/repos/acme/widgets/check-runs", "/repos/{owner}/{repo}/check-runs"},
		{"", "/repos/acme/widgets", "/repos/{owner}/{repo}"},
		{"", "/repos/acme/widgets/contents/.stagegate.yml", "/repos/{owner}/{repo}/contents/{path}"},
		{"", "/repos/acme/widgets/contents/a/b/c.go", "/repos/{owner}/{repo}/contents/{path}"},
		{"", "/repos/acme/widgets/compare/main...feature/x", "/repos/{owner}/{repo}/compare/{basehead}"},
		{"", "/repos/acme/widgets/commits/0123abcd/check-runs", "/repos/{owner}/{repo}/commits/{ref}/check-runs"},
		{"", "/repos/acme/widgets/issues/comments/9", "/repos/{owner}/{repo}/issues/comments/{id}"},
		{"", "/repos/acme/widgets/issues/7/comments", "/repos/{owner}/{repo}/issues/{number}/comments"},
		{"", "/repos/acme/widgets/git/ref/heads/feature/x", "/repos/{owner}/{repo}/git/ref/{ref}"},
		{"", "/app/installations/5/access_tokens", "/app/installations/{id}/access_tokens"},
		{"", "/app", "/app"},
		{"", "/", "/"},
		{"", "/orgs/acme/installation", "/orgs/{org}/installation"},
		// Unknown paths keep only known words, so labels stay bounded.
		{"", "/repos/acme/widgets/hooks/3/deliveries", "/repos/{owner}/{repo}/{other}/..."},
		{"", "/repos/acme/widgets/pulls/3/reviews", "/repos/{owner}/{repo}/pulls/..."},
		{"", "/gists/abc123", "/{other}/..."},
		{"", "/users/octocat/repos", "/users/..."},
		// The base path is only stripped at a segment boundary.
		{"/api/v3", "/api/v3x/repos/a/b", "/{other}/..."},
	}
	for _, tc := range cases {
		if got := newRouter(tc.base).route(tc.path); got != tc.want {
			t.Errorf("route(%q, base %q) = %q, want %q", tc.path, tc.base, got, tc.want)
		}
	}
}

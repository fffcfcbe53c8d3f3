package ghclient

import (
	"reflect"
	"testing"
)

// TestFetchTokenIsNarrowed: the token git gets reads one repository and
// does nothing else, and is not the API client's token.
func TestFetchTokenIsNarrowed(t *testing.T) {
	f := newFake(t, 0)
	f.srv.AddRepo("acme", "gizmos").Commit("main", map[string]string{"x": "y"}, "x")
	f.srv.AddInstallationRepos(f.instID, "gizmos")

	apiTok, _, err := f.clients.Token(f.ctx, f.instID)
	if err != nil {
		t.Fatal(err)
	}
	tok, exp, err := f.clients.FetchToken(f.ctx, f.instID, "acme/widgets")
	if err != nil {
		t.Fatal(err)
	}
	if tok == apiTok || exp.IsZero() {
		t.Fatalf("fetch token = the API token (%v) or has no expiry (%v)", tok == apiTok, exp)
	}
	sc, ok := f.srv.TokenScope(tok)
	if !ok {
		t.Fatal("the fetch token was not issued by GitHub")
	}
	if !reflect.DeepEqual(sc.Repos, []string{"acme/widgets"}) || !reflect.DeepEqual(sc.Permissions, map[string]string{"contents": "read"}) {
		t.Errorf("scope = %+v, want acme/widgets with contents:read only", sc)
	}
	// Each fetch gets its own.
	again, _, err := f.clients.FetchToken(f.ctx, f.instID, "acme/widgets")
	if err != nil || again == tok {
		t.Errorf("second fetch token = same %v, %v", again == tok, err)
	}
	f.assertNoTokens(t)

	for _, bad := range []string{"", "widgets", "acme/", "/widgets", "acme/widgets/x"} {
		if _, _, err := f.clients.FetchToken(f.ctx, f.instID, bad); err == nil {
			t.Errorf("FetchToken(%q) = nil error", bad)
		}
	}
	// A repository the installation does not cover: GitHub's 422.
	if _, _, err := f.clients.FetchToken(f.ctx, f.instID, "acme/secret"); err == nil {
		t.Error("a token for a repository outside the installation was minted")
	}
}

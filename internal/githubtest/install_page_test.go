package githubtest

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func getPage(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestPrivateAppInstallsOnlyOnItsOwner: the installation pages of a
// private App offer its owner's account and no other.
func TestPrivateAppInstallsOnlyOnItsOwner(t *testing.T) {
	srv := New(t)
	srv.AddRepo("acme", "widgets")
	srv.AddRepo("octocat", "hello")
	for _, tc := range []struct {
		path, owner, other string
	}{
		{"/organizations/acme/settings/apps/new", "acme", "octocat"},
		{"/settings/apps/new", ManifestUser, "acme"},
	} {
		t.Run(tc.owner, func(t *testing.T) {
			name := "stagegate-" + strings.ToLower(tc.owner)
			resp, body := postManifest(t, srv, tc.path, stagegateManifest(t, func(m map[string]any) { m["name"] = name }), "")
			if resp.StatusCode != http.StatusFound {
				t.Fatalf("register: %d %s", resp.StatusCode, body)
			}
			code, _ := url.Parse(resp.Header.Get("Location"))
			cfg, _, err := enterprise(t, srv, nil).Apps.CompleteAppManifest(ctx(t), code.Query().Get("code"))
			if err != nil {
				t.Fatal(err)
			}
			status, page := getPage(t, cfg.GetHTMLURL()+"/installations/new")
			want := fmt.Sprintf("/installations/new/permissions?target_id=%d", cfg.GetOwner().GetID())
			if status != 200 || !strings.Contains(page, want) || !strings.Contains(page, ">"+tc.owner+"<") {
				t.Errorf("installation page: %d, want a link to %s:\n%s", status, want, page)
			}
			if status, page := getPage(t, cfg.GetHTMLURL()+want); status != 200 ||
				!strings.Contains(page, "on "+tc.owner+"<") {
				t.Errorf("install on the owner: %d\n%s", status, page)
			}
			srv.mu.Lock()
			other := srv.accountIDLocked(tc.other)
			srv.mu.Unlock()
			if status, _ := getPage(t, fmt.Sprintf("%s/installations/new/permissions?target_id=%d", cfg.GetHTMLURL(), other)); status != http.StatusNotFound {
				t.Errorf("install a private App on %s: %d, want 404", tc.other, status)
			}
		})
	}
	if status, _ := getPage(t, srv.URL+"/apps/no-such-app/installations/new"); status != http.StatusNotFound {
		t.Errorf("unknown App: %d, want 404", status)
	}
}

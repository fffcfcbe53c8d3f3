package setup

import (
	"encoding/json"
	"os"
	"reflect"
	"testing"

	"github.com/goccy/go-yaml"
)

// TestCommittedManifestMatches keeps app.yml, for those who create the
// App by hand, the same as the manifest the setup page posts.
func TestCommittedManifestMatches(t *testing.T) {
	raw, err := os.ReadFile("../../app.yml")
	if err != nil {
		t.Fatal(err)
	}
	var committed Manifest
	// Through JSON, so the same field tags decide.
	var generic any
	if err := yaml.Unmarshal(raw, &generic); err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(generic)
	if err := json.Unmarshal(js, &committed); err != nil {
		t.Fatal(err)
	}
	want := NewManifest("stagegate", "https://stagegate.example.com")
	if !reflect.DeepEqual(committed, want) {
		t.Errorf("app.yml = %+v\nwant      %+v", committed, want)
	}
}

// TestWebBaseURL maps each kind of REST root to the web address that
// serves the manifest pages, the App pages and git: github.com's and
// GitHub Enterprise Cloud with data residency's "api." hosts
// (https://docs.github.com/enterprise-cloud@latest/admin/data-residency/network-details-for-ghecom:
// the API of SUBDOMAIN.ghe.com is api.SUBDOMAIN.ghe.com), and GitHub
// Enterprise Server's /api/v3 path.
func TestWebBaseURL(t *testing.T) {
	for _, tc := range []struct{ api, want string }{
		{"https://api.github.com/", "https://github.com"},
		{"https://api.github.com", "https://github.com"},
		{"https://api.octocorp.ghe.com/", "https://octocorp.ghe.com"},
		{"https://api.octocorp.ghe.com", "https://octocorp.ghe.com"},
		{"https://API.Octocorp.GHE.com/", "https://octocorp.ghe.com"},
		{"https://ghe.example.com/api/v3/", "https://ghe.example.com"},
		{"https://ghe.example.com/api/v3", "https://ghe.example.com"},
		{"https://ghe.example.com/", "https://ghe.example.com"},
		{"https://api.example.com/api/v3/", "https://api.example.com"},
		{"http://127.0.0.1:4567/api/v3/", "http://127.0.0.1:4567"},
		{"http://api.localhost:4567/", "http://localhost:4567"},
	} {
		if got := WebBaseURL(tc.api); got != tc.want {
			t.Errorf("WebBaseURL(%q) = %q, want %q", tc.api, got, tc.want)
		}
	}
}

package app

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
	raw, err := os.ReadFile("../app.yml")
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

func TestWebBaseURL(t *testing.T) {
	for api, want := range map[string]string{
		"https://api.github.com/":         "https://github.com",
		"https://ghe.example.com/api/v3/": "https://ghe.example.com",
		"https://ghe.example.com/api/v3":  "https://ghe.example.com",
		"http://127.0.0.1:4567/api/v3/":   "http://127.0.0.1:4567",
	} {
		if got := webBaseURL(api); got != want {
			t.Errorf("webBaseURL(%q) = %q, want %q", api, got, want)
		}
	}
}

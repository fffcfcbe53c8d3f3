package app

import "strings"

// Manifest is the GitHub App manifest stagegate registers itself with:
// exactly the permissions and events it needs, and no more. app.yml in
// the repository holds the same for those who create the App by hand.
type Manifest struct {
	Name           string            `json:"name"`
	URL            string            `json:"url"`
	HookAttributes HookAttributes    `json:"hook_attributes"`
	RedirectURL    string            `json:"redirect_url"`
	Public         bool              `json:"public"`
	Permissions    map[string]string `json:"default_permissions"`
	Events         []string          `json:"default_events"`
}

// HookAttributes is where GitHub sends the App's webhooks.
type HookAttributes struct {
	URL    string `json:"url"`
	Active bool   `json:"active"`
}

// AppPermissions are what stagegate does with each permission:
// checks to report, contents to read the pipeline and fetch the code,
// metadata (mandatory), pull requests to read the head of a /deploy,
// issues to answer comments and react, deployments to record deploys,
// statuses to read other CI for the deploy gate, members to check team
// deployers, actions to read the environments' protection rules.
var AppPermissions = map[string]string{
	"actions":       "read",
	"checks":        "write",
	"contents":      "read",
	"metadata":      "read",
	"pull_requests": "read",
	"issues":        "write",
	"deployments":   "write",
	"statuses":      "read",
	"members":       "read",
}

// AppEvents are the webhooks stagegate acts on.
var AppEvents = []string{"push", "pull_request", "issue_comment", "check_run", "check_suite", "status"}

// NewManifest is the manifest for an App reachable at publicURL.
func NewManifest(name, publicURL string) Manifest {
	base := strings.TrimSuffix(publicURL, "/")
	return Manifest{
		Name:           name,
		URL:            base,
		HookAttributes: HookAttributes{URL: base + "/webhook", Active: true},
		RedirectURL:    base + "/setup/callback",
		Permissions:    AppPermissions,
		Events:         AppEvents,
	}
}

// webBaseURL is GitHub's web address for an API base: github.com for
// api.github.com, and the host itself for GitHub Enterprise Server, whose
// API lives under /api/v3/.
func webBaseURL(apiURL string) string {
	base := strings.TrimSuffix(apiURL, "/")
	switch {
	case base == "https://api.github.com":
		return "https://github.com"
	case strings.HasSuffix(base, "/api/v3"):
		return strings.TrimSuffix(base, "/api/v3")
	}
	return base
}

package setup

import (
	"net/url"
	"strings"
)

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
// deployers, actions to read the environments' protection rules and a
// workflow run that waits on stagegate as a deployment protection rule
// (deployments, write, to answer it).
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
var AppEvents = []string{"push", "pull_request", "issue_comment", "check_run", "check_suite", "status", "deployment_protection_rule", "repository"}

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

// webBaseURL is GitHub's web address for a REST API base, where the
// manifest pages, the App's pages and git are served: the "api." host's
// parent for github.com (api.github.com) and for GitHub Enterprise Cloud
// with data residency (api.SUBDOMAIN.ghe.com serves SUBDOMAIN.ghe.com),
// and the host itself for GitHub Enterprise Server, whose API lives under
// /api/v3. Host names are case-insensitive and come back lower-case.
func webBaseURL(apiURL string) string {
	base := strings.TrimSuffix(apiURL, "/")
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return base
	}
	u.Host = strings.ToLower(u.Host)
	switch {
	case strings.HasSuffix(u.Path, "/api/v3"):
		u.Path = strings.TrimSuffix(u.Path, "/api/v3")
	case u.Path == "" && strings.HasPrefix(u.Host, "api."):
		u.Host = strings.TrimPrefix(u.Host, "api.")
	}
	u.RawPath = ""
	return strings.TrimSuffix(u.String(), "/")
}

package githubtest

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// Manifest is a GitHub App manifest, the JSON a registration form posts in
// its "manifest" field
// (https://docs.github.com/apps/sharing-github-apps/registering-a-github-app-from-a-manifest).
type Manifest struct {
	Name                  string            `json:"name,omitempty"`
	URL                   string            `json:"url"`
	HookAttributes        *ManifestHook     `json:"hook_attributes,omitempty"`
	RedirectURL           string            `json:"redirect_url,omitempty"`
	CallbackURLs          []string          `json:"callback_urls,omitempty"`
	SetupURL              string            `json:"setup_url,omitempty"`
	Description           string            `json:"description,omitempty"`
	Public                bool              `json:"public,omitempty"`
	DefaultEvents         []string          `json:"default_events,omitempty"`
	DefaultPermissions    map[string]string `json:"default_permissions,omitempty"`
	RequestOAuthOnInstall bool              `json:"request_oauth_on_install,omitempty"`
	SetupOnUpdate         bool              `json:"setup_on_update,omitempty"`
}

// ManifestHook is a manifest's hook_attributes.
type ManifestHook struct {
	URL    string `json:"url"`
	Active *bool  `json:"active,omitempty"` // nil: true
}

// HookActive is whether the manifest asks for an active webhook (the
// default).
func (m Manifest) HookActive() bool {
	return m.HookAttributes == nil || m.HookAttributes.Active == nil || *m.HookAttributes.Active
}

// maxAppName is the longest GitHub App name GitHub accepts.
const maxAppName = 34

// repoPermissions are the repository permissions an App can ask for;
// asking for any of them brings metadata:read, which is mandatory.
var repoPermissions = []string{
	"actions", "administration", "checks", "contents", "dependabot_secrets", "deployments",
	"discussions", "environments", "issues", "merge_queues", "metadata", "packages", "pages",
	"pull_requests", "repository_custom_properties", "repository_hooks", "repository_projects",
	"secret_scanning_alerts", "secrets", "security_events", "single_file", "statuses",
	"vulnerability_alerts", "workflows",
}

// otherPermissions are the organization and account permissions.
var otherPermissions = []string{
	"members", "organization_administration", "organization_custom_roles", "organization_hooks",
	"organization_packages", "organization_plan", "organization_projects", "organization_secrets",
	"organization_self_hosted_runners", "organization_user_blocking", "team_discussions",
	"email_addresses", "followers", "git_ssh_keys", "gpg_keys", "interaction_limits", "profile", "starring",
}

// eventPermissions maps the events an App can subscribe to onto the
// permissions (any one, at least read) that make them available — GitHub
// rejects a manifest subscribing to an event its permissions do not
// support. issue_comment needs issues: pull_requests alone is rejected.
var eventPermissions = map[string][]string{
	"branch_protection_rule": {"administration"},
	"check_run":              {"checks"},
	"check_suite":            {"checks"},
	"code_scanning_alert":    {"security_events"},
	"commit_comment":         {"contents"},
	"create":                 {"contents"},
	"delete":                 {"contents"},
	"dependabot_alert":       {"vulnerability_alerts"},
	"deployment":             {"deployments"},
	// https://docs.github.com/webhooks/webhook-events-and-payloads#deployment_protection_rule
	"deployment_protection_rule":  {"deployments"},
	"deployment_status":           {"deployments"},
	"discussion":                  {"discussions"},
	"discussion_comment":          {"discussions"},
	"issue_comment":               {"issues"},
	"issues":                      {"issues"},
	"label":                       {"metadata"},
	"merge_group":                 {"merge_queues"},
	"public":                      {"metadata"},
	"pull_request":                {"pull_requests"},
	"pull_request_review":         {"pull_requests"},
	"pull_request_review_comment": {"pull_requests"},
	"pull_request_review_thread":  {"pull_requests"},
	"push":                        {"contents"},
	"release":                     {"contents"},
	"repository":                  {"metadata"},
	"repository_dispatch":         {"contents"},
	"secret_scanning_alert":       {"secret_scanning_alerts"},
	"star":                        {"metadata"},
	"status":                      {"statuses"},
	"team":                        {"members"},
	"membership":                  {"members"},
	"watch":                       {"metadata"},
	"workflow_job":                {"actions"},
	"workflow_run":                {"actions"},
}

// parseManifest decodes and validates a posted manifest like GitHub's
// registration form. It returns the manifest and GitHub's error lines
// (empty when valid). Name uniqueness is checked when the App is created.
func parseManifest(raw string) (Manifest, []string) {
	var m Manifest
	if strings.TrimSpace(raw) == "" {
		return m, []string{"Manifest can't be blank"}
	}
	if !strings.HasPrefix(strings.TrimSpace(raw), "{") {
		return m, []string{"Manifest is not a JSON object"}
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	if err := dec.Decode(&m); err != nil || dec.More() {
		if err == nil {
			err = fmt.Errorf("data after the JSON object")
		}
		return m, []string{"Manifest is not valid: " + err.Error()}
	}
	var errs []string
	if n := utf8.RuneCountInString(m.Name); n > maxAppName {
		errs = append(errs, fmt.Sprintf("Name is too long (maximum is %d characters)", maxAppName))
	}
	if m.Name != "" && appSlug(m.Name) == "" {
		errs = append(errs, "Name must contain a letter or a digit")
	}
	errs = append(errs, checkURL("Url", m.URL, true)...)
	if m.HookActive() {
		u := ""
		if m.HookAttributes != nil {
			u = m.HookAttributes.URL
		}
		errs = append(errs, checkURL("Hook url", u, true)...)
	} else {
		errs = append(errs, checkURL("Hook url", m.HookAttributes.URL, false)...)
	}
	errs = append(errs, checkURL("Redirect url", m.RedirectURL, false)...)
	errs = append(errs, checkURL("Setup url", m.SetupURL, false)...)
	if len(m.CallbackURLs) > 10 {
		errs = append(errs, "Callback urls is too long (maximum is 10 URLs)")
	}
	for _, u := range m.CallbackURLs {
		errs = append(errs, checkURL("Callback url", u, true)...)
	}
	errs = append(errs, checkPermissions(m.DefaultPermissions)...)
	errs = append(errs, checkEvents(m.DefaultEvents, m.DefaultPermissions)...)
	return m, errs
}

func checkURL(field, raw string, required bool) []string {
	if raw == "" {
		if required {
			return []string{field + " can't be blank"}
		}
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return []string{field + " is not a valid URL"}
	}
	return nil
}

func checkPermissions(perms map[string]string) []string {
	var errs []string
	for _, name := range slices.Sorted(maps.Keys(perms)) {
		level := perms[name]
		switch {
		case !slices.Contains(repoPermissions, name) && !slices.Contains(otherPermissions, name):
			errs = append(errs, fmt.Sprintf("Default permissions: %q is not a permission", name))
		case level != "read" && level != "write":
			errs = append(errs, fmt.Sprintf("Default permissions: %s must be read or write, not %q", name, level))
		case name == "metadata" && level != "read":
			errs = append(errs, "Default permissions: metadata can only be read")
		}
	}
	return errs
}

// checkEvents applies GitHub's two event rules: the event must be one an
// App can subscribe to (installation and installation_repositories are
// delivered anyway and cannot be), and the permissions must support it.
// An unsupported event fails both, as on GitHub.
func checkEvents(events []string, perms map[string]string) []string {
	var unsupported, unpermitted []string
	for _, e := range events {
		need, ok := eventPermissions[e]
		if !ok {
			unsupported = append(unsupported, e)
			unpermitted = append(unpermitted, e)
			continue
		}
		granted := slices.ContainsFunc(need, func(p string) bool { return hasPerm(perms, p, "read") })
		// metadata comes with any repository permission.
		if !granted && slices.Contains(need, "metadata") {
			for p := range perms {
				granted = granted || slices.Contains(repoPermissions, p)
			}
		}
		if !granted {
			unpermitted = append(unpermitted, e)
		}
	}
	var errs []string
	if len(unsupported) > 0 {
		errs = append(errs, "Default events unsupported: "+toSentence(unsupported))
	}
	if len(unpermitted) > 0 {
		errs = append(errs, "Default events are not supported by permissions: "+toSentence(unpermitted))
	}
	return errs
}

// toSentence joins words as Rails' to_sentence does: "a", "a and b",
// "a, b, and c".
func toSentence(words []string) string {
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	case 2:
		return words[0] + " and " + words[1]
	}
	return strings.Join(words[:len(words)-1], ", ") + ", and " + words[len(words)-1]
}

var slugJunk = regexp.MustCompile(`[^a-z0-9]+`)

// appSlug derives an App's slug from its name: lower case, every run of
// other characters a single hyphen, no hyphen at either end.
func appSlug(name string) string {
	return strings.Trim(slugJunk.ReplaceAllString(strings.ToLower(name), "-"), "-")
}

package githubtest

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v60/github"
)

// noRedirect is a browser that stops at redirects, so the 302 can be read.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// postManifest posts the registration form as a browser does: the
// manifest in a form field, state in the query.
func postManifest(t *testing.T, srv *Server, path, manifest, state string) (*http.Response, string) {
	t.Helper()
	u := srv.URL + path
	if state != "" {
		u += "?state=" + url.QueryEscape(state)
	}
	resp, err := noRedirect.PostForm(u, url.Values{"manifest": {manifest}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func manifestJSON(t *testing.T, m map[string]any) string {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// stagegateManifest is a valid manifest like the one stagegate's setup
// posts; edit changes it before encoding.
func stagegateManifest(t *testing.T, edit func(m map[string]any)) string {
	m := map[string]any{
		"name":            "Stagegate Acme",
		"url":             "https://stagegate.example.com",
		"hook_attributes": map[string]any{"url": "https://stagegate.example.com/webhook"},
		"redirect_url":    "https://stagegate.example.com/setup/callback?from=form",
		"public":          false,
		"default_permissions": map[string]any{
			"checks": "write", "contents": "read", "issues": "write", "pull_requests": "write",
			"deployments": "write", "statuses": "write", "members": "read",
		},
		"default_events": []any{"check_run", "check_suite", "issue_comment", "pull_request", "push", "deployment_status"},
	}
	if edit != nil {
		edit(m)
	}
	return manifestJSON(t, m)
}

func TestManifestFlowForOrganization(t *testing.T) {
	srv := New(t)
	srv.AddRepo("acme", "widgets")
	state := "s/t a+t=e&x"
	resp, body := postManifest(t, srv, "/organizations/acme/settings/apps/new", stagegateManifest(t, nil), state)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("status %d, want 302; body %s", resp.StatusCode, body)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	q := loc.Query()
	code := q.Get("code")
	if loc.Host != "stagegate.example.com" || loc.Path != "/setup/callback" || q.Get("from") != "form" ||
		q.Get("state") != state || !regexp.MustCompile(`^[0-9a-f]{40}$`).MatchString(code) {
		t.Fatalf("Location = %s", loc)
	}

	recs := srv.ManifestApps()
	if len(recs) != 1 || recs[0].Owner != "acme" || recs[0].OwnerType != "Organization" || recs[0].State != state ||
		recs[0].Code != code || recs[0].Manifest.Name != "Stagegate Acme" || recs[0].App == nil {
		t.Fatalf("ManifestApps = %+v", recs)
	}
	app := recs[0].App

	// The conversion needs no credentials.
	anon := enterprise(t, srv, nil)
	cfg, resp2, err := anon.Apps.CompleteAppManifest(ctx(t), code)
	if err != nil {
		t.Fatal(err)
	}
	if resp2.StatusCode != http.StatusCreated {
		t.Errorf("conversion status %d, want 201", resp2.StatusCode)
	}
	if cfg.GetID() != app.ID || cfg.GetSlug() != "stagegate-acme" || cfg.GetName() != "Stagegate Acme" ||
		cfg.GetOwner().GetLogin() != "acme" || cfg.GetOwner().GetType() != "Organization" ||
		cfg.GetExternalURL() != "https://stagegate.example.com" || cfg.GetHTMLURL() != srv.URL+"/apps/stagegate-acme" ||
		cfg.GetNodeID() == "" || cfg.GetClientID() != app.ClientID() || cfg.GetClientSecret() != app.ClientSecret() ||
		cfg.GetCreatedAt().IsZero() || cfg.GetUpdatedAt().IsZero() {
		t.Errorf("conversion = %+v", cfg)
	}
	if cfg.GetWebhookSecret() == "" || cfg.GetWebhookSecret() != app.WebhookSecret() ||
		app.WebhookURL() != "https://stagegate.example.com/webhook" {
		t.Errorf("webhook secret %q (app %q), url %q", cfg.GetWebhookSecret(), app.WebhookSecret(), app.WebhookURL())
	}
	if !strings.HasPrefix(cfg.GetPEM(), "-----BEGIN RSA PRIVATE KEY-----") || cfg.GetPEM() == string(srv.PrivateKeyPEM()) {
		t.Errorf("pem is not a new PKCS#1 key")
	}
	r := do(t, "POST", srv.APIURL()+"app-manifests/"+code+"/conversions", "", nil)
	wantGitHubError(t, r, http.StatusNotFound, "Not Found") // single use
	if calls := srv.CallsTo("POST /app-manifests/{code}/conversions"); len(calls) != 2 || calls[0].Cred != CredNone || calls[0].Status != 201 {
		t.Errorf("calls = %+v", calls)
	}

	// The pem is the App's key: JWTs signed with it work, and the App has
	// the manifest's permissions (metadata:read added) and events.
	atr, err := ghinstallation.NewAppsTransport(http.DefaultTransport, cfg.GetID(), []byte(cfg.GetPEM()))
	if err != nil {
		t.Fatal(err)
	}
	atr.BaseURL = srv.URL + "/api/v3"
	ac := enterprise(t, srv, &http.Client{Transport: atr})
	got, _, err := ac.Apps.Get(ctx(t), "")
	if err != nil {
		t.Fatal(err)
	}
	if got.GetID() != app.ID || got.GetOwner().GetLogin() != "acme" || got.GetPermissions().GetMetadata() != "read" ||
		got.GetPermissions().GetIssues() != "write" || got.GetPermissions().GetAdministration() != "" ||
		strings.Join(got.Events, ",") != "check_run,check_suite,issue_comment,pull_request,push,deployment_status" {
		t.Errorf("app = %+v", got)
	}

	// Installed, it gets installation tokens with the App's permissions.
	instID := app.AddInstallation("acme", "widgets")
	ic, _ := instClient(t, srv, app, instID)
	repos, _, err := ic.Apps.ListRepos(ctx(t), nil)
	if err != nil || repos.GetTotalCount() != 1 {
		t.Fatalf("ListRepos = %v, %v", repos, err)
	}
	inst, _, err := ac.Apps.GetInstallation(ctx(t), instID)
	if err != nil || inst.GetPermissions().GetDeployments() != "write" || inst.GetPermissions().GetMetadata() != "read" ||
		inst.GetPermissions().GetActions() != "" {
		t.Errorf("installation = %+v, %v", inst, err)
	}
}

func TestManifestFlowForUserAndDefaults(t *testing.T) {
	srv := New(t)
	m := manifestJSON(t, map[string]any{
		"url": "https://example.com", "hook_attributes": map[string]any{"url": "https://example.com/hook", "active": false},
		"redirect_url": "https://example.com/cb",
	})
	for i, wantName := range []string{"octocat-app", "octocat-app-2"} {
		resp, body := postManifest(t, srv, "/settings/apps/new", m, "")
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if loc.Query().Get("code") == "" || loc.Query().Has("state") {
			t.Errorf("Location = %s", loc)
		}
		rec := srv.ManifestApps()[i]
		if rec.Owner != ManifestUser || rec.OwnerType != "User" || rec.App.Name != wantName || rec.App.Slug != wantName {
			t.Errorf("record %d = %+v, app %+v", i, rec, rec.App)
		}
		// An inactive hook keeps its URL, but nothing is delivered to it.
		if rec.App.WebhookURL() != "https://example.com/hook" || len(rec.App.Permissions()) != 0 || len(rec.App.Events()) != 0 {
			t.Errorf("app %s: url %q perms %v events %v", wantName, rec.App.WebhookURL(), rec.App.Permissions(), rec.App.Events())
		}
	}
	cfg, _, err := enterprise(t, srv, nil).Apps.CompleteAppManifest(ctx(t), srv.ManifestApps()[0].Code)
	if err != nil || cfg.GetOwner().GetType() != "User" || cfg.GetOwner().GetLogin() != ManifestUser {
		t.Fatalf("conversion = %+v, %v", cfg, err)
	}

	// Without a redirect_url the App is registered but the browser lands
	// on its settings page with no code: the flow cannot complete.
	resp, _ := postManifest(t, srv, "/organizations/acme/settings/apps/new",
		stagegateManifest(t, func(m map[string]any) { delete(m, "redirect_url") }), "st")
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != srv.URL+"/organizations/acme/settings/apps/stagegate-acme" {
		t.Errorf("status %d Location %q", resp.StatusCode, loc)
	}
	if rec := srv.ManifestApps()[2]; rec.Code != "" || rec.App.Slug != "stagegate-acme" {
		t.Errorf("record = %+v", rec)
	}

	// Not a browser form post: a page saying what to do.
	get, err := http.Get(srv.URL + "/settings/apps/new")
	if err != nil {
		t.Fatal(err)
	}
	get.Body.Close()
	if get.StatusCode != 200 || !strings.HasPrefix(get.Header.Get("Content-Type"), "text/html") {
		t.Errorf("GET: %d %s", get.StatusCode, get.Header.Get("Content-Type"))
	}
}

func TestManifestValidation(t *testing.T) {
	srv := New(t)
	srv.AddUser("mona", "User")
	with := func(edit func(m map[string]any)) string { return stagegateManifest(t, edit) }
	perms := func(p map[string]any) func(m map[string]any) {
		return func(m map[string]any) { m["default_permissions"] = p; m["default_events"] = []any{} }
	}
	events := func(p map[string]any, e ...any) func(m map[string]any) {
		return func(m map[string]any) { m["default_permissions"] = p; m["default_events"] = e }
	}
	cases := []struct {
		name, path, manifest string
		status               int
		want                 string // in the page (HTML-escaped)
	}{
		{"no manifest", "", "", 422, "Manifest can&#39;t be blank"},
		{"not JSON", "", "{name: x}", 422, "Manifest is not valid"},
		{"array", "", `[{"url":"https://x.example"}]`, 422, "Manifest is not a JSON object"},
		{"wrong type", "", `{"url":"https://x.example","hook_attributes":{"url":"https://x.example/h"},"public":"yes"}`, 422, "Manifest is not valid"},
		{"no url", "", with(func(m map[string]any) { delete(m, "url") }), 422, "Url can&#39;t be blank"},
		{"url not http", "", with(func(m map[string]any) { m["url"] = "ftp://x.example" }), 422, "Url is not a valid URL"},
		{"no hook attributes", "", with(func(m map[string]any) { delete(m, "hook_attributes") }), 422, "Hook url can&#39;t be blank"},
		{"active hook without url", "", with(func(m map[string]any) { m["hook_attributes"] = map[string]any{"active": true} }), 422, "Hook url can&#39;t be blank"},
		{"inactive hook without url", "", with(func(m map[string]any) { m["hook_attributes"] = map[string]any{"active": false}; m["name"] = "ok-1" }), 302, ""},
		{"bad redirect_url", "", with(func(m map[string]any) { m["redirect_url"] = "/relative" }), 422, "Redirect url is not a valid URL"},
		{"11 callback urls", "", with(func(m map[string]any) {
			var cbs []any
			for range 11 {
				cbs = append(cbs, "https://x.example/cb")
			}
			m["callback_urls"] = cbs
		}), 422, "Callback urls is too long"},
		{"permission admin", "", with(perms(map[string]any{"contents": "admin"})), 422, "Default permissions: contents must be read or write, not &#34;admin&#34;"},
		{"unknown permission", "", with(perms(map[string]any{"kittens": "read"})), 422, "Default permissions: &#34;kittens&#34; is not a permission"},
		{"metadata write", "", with(perms(map[string]any{"metadata": "write"})), 422, "Default permissions: metadata can only be read"},
		{"issue_comment with pull_requests only", "", with(events(map[string]any{"pull_requests": "write"}, "issue_comment", "pull_request")), 422,
			"Error: Default events are not supported by permissions: issue_comment</li>"},
		{"three unsupported", "", with(events(map[string]any{"contents": "read"}, "push", "check_run", "status", "deployment")), 422,
			"Default events are not supported by permissions: check_run, status, and deployment"},
		{"installation events", "", with(events(map[string]any{"contents": "read"}, "installation", "installation_repositories")), 422,
			"Default events unsupported: installation and installation_repositories"},
		{"unknown event", "", with(events(map[string]any{"contents": "read"}, "kittens")), 422, "Default events unsupported: kittens"},
		{"name too long", "", with(func(m map[string]any) { m["name"] = strings.Repeat("a", 35) }), 422, "Name is too long (maximum is 34 characters)"},
		{"name taken", "", with(func(m map[string]any) { m["name"] = "StageGate" }), 422, "Name has already been taken"},
		{"name without letters", "", with(func(m map[string]any) { m["name"] = "!!!" }), 422, "Name must contain a letter or a digit"},
		{"issue_comment with issues read", "", with(func(m map[string]any) {
			events(map[string]any{"issues": "read"}, "issue_comment")(m)
			m["name"] = "ok-2"
		}), 302, ""},
		{"label needs only metadata, implied", "", with(func(m map[string]any) {
			events(map[string]any{"contents": "read"}, "label", "push")(m)
			m["name"] = "ok-3"
		}), 302, ""},
		{"user is not an organization", "/organizations/mona/settings/apps/new", with(nil), 404, "Page not found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := len(srv.ManifestApps())
			path := tc.path
			if path == "" {
				path = "/organizations/acme/settings/apps/new"
			}
			resp, body := postManifest(t, srv, path, tc.manifest, "st")
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tc.status, body)
			}
			created := len(srv.ManifestApps()) - before
			if tc.status != 302 {
				if created != 0 || resp.Header.Get("Location") != "" {
					t.Errorf("an App was created (%d) or redirected to %q", created, resp.Header.Get("Location"))
				}
				if !strings.Contains(body, tc.want) || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
					t.Errorf("page lacks %q:\n%s", tc.want, body)
				}
			} else if created != 1 {
				t.Errorf("%d Apps created", created)
			}
		})
	}
}

func TestManifestCodeExpiry(t *testing.T) {
	srv := New(t)
	code := func(name string) string {
		resp, body := postManifest(t, srv, "/organizations/acme/settings/apps/new",
			stagegateManifest(t, func(m map[string]any) { m["name"] = name }), "")
		if resp.StatusCode != 302 {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		loc, _ := url.Parse(resp.Header.Get("Location"))
		return loc.Query().Get("code")
	}
	early, late := code("early"), code("late")
	anon := enterprise(t, srv, nil)
	srv.Advance(59 * time.Minute)
	if _, _, err := anon.Apps.CompleteAppManifest(ctx(t), early); err != nil {
		t.Errorf("59 minutes: %v", err)
	}
	srv.Advance(time.Minute)
	for name, c := range map[string]string{"expired": late, "used": early, "unknown": strings.Repeat("0", 40)} {
		_, resp, err := anon.Apps.CompleteAppManifest(ctx(t), c)
		var ge *github.ErrorResponse
		if !errors.As(err, &ge) || resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s code: %v", name, err)
		}
	}
}

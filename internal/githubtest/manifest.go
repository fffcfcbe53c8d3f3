package githubtest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

const (
	docManifest = "https://docs.github.com/rest/apps/apps#create-a-github-app-from-a-manifest"
	// ManifestUser is the signed-in user of the web UI: the owner of Apps
	// registered through /settings/apps/new.
	ManifestUser = "octocat"
	// manifestCodeTTL is how long a manifest code can be converted.
	manifestCodeTTL = time.Hour
)

// ManifestApp is one App registered through the manifest flow.
type ManifestApp struct {
	Manifest  Manifest // as parsed
	Raw       string   // the "manifest" form field as posted
	Owner     string   // the organization, or ManifestUser
	OwnerType string   // "Organization" or "User"
	State     string   // the state parameter, passed through
	Code      string   // the one-time code; "" without a redirect_url
	App       *App
}

type manifestCode struct {
	app     *App
	expires time.Time
	used    bool
}

func (s *Server) manifestRoutes() {
	s.mux.HandleFunc("GET /settings/apps/new", s.manifestPage)
	s.mux.HandleFunc("GET /organizations/{org}/settings/apps/new", s.manifestPage)
	s.mux.HandleFunc("POST /settings/apps/new", s.postManifest)
	s.mux.HandleFunc("POST /organizations/{org}/settings/apps/new", s.postManifest)
	s.handle("POST /api/v3/app-manifests/{code}/conversions", authAny, s.convertManifest)
	s.installPageRoutes()
}

// ManifestApps returns the Apps registered from manifests, oldest first.
func (s *Server) ManifestApps() []ManifestApp {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.manifestApps)
}

func (s *Server) manifestPage(w http.ResponseWriter, r *http.Request) {
	writeHTML(w, http.StatusOK, "Register new GitHub App",
		"<p>To register a GitHub App from a manifest, POST a form to this page with the manifest JSON in the <code>manifest</code> field and an optional <code>state</code>.</p>")
}

// postManifest is the registration form posted with a manifest, followed
// by the user clicking "Create GitHub App": the App is registered and the
// browser is sent to redirect_url?code=...&state=... (to the App's
// settings page when the manifest has no redirect_url: the flow cannot
// complete then). An invalid manifest gets a 422 page saying why.
func (s *Server) postManifest(w http.ResponseWriter, r *http.Request) {
	org := r.PathValue("org")
	owner, ownerType := ManifestUser, "User"
	if org != "" {
		owner, ownerType = org, "Organization"
		s.mu.Lock()
		_, isUser := s.users[strings.ToLower(org)]
		s.mu.Unlock()
		if !loginRE.MatchString(org) || strings.HasSuffix(org, "[bot]") || isUser {
			writeHTML(w, http.StatusNotFound, "Page not found", "<p>This is not the web page you are looking for.</p>")
			return
		}
	}
	raw := r.PostFormValue("manifest")
	state := r.FormValue("state")
	m, errs := parseManifest(raw)
	if len(errs) > 0 {
		writeManifestErrors(w, errs)
		return
	}

	s.mu.Lock()
	a, err := s.registerManifestAppLocked(m, owner, ownerType)
	if err != "" {
		s.mu.Unlock()
		writeManifestErrors(w, []string{err})
		return
	}
	rec := ManifestApp{Manifest: m, Raw: raw, Owner: owner, OwnerType: ownerType, State: state, App: a}
	settings := s.URL + "/settings/apps/" + a.Slug
	if ownerType == "Organization" {
		settings = s.URL + "/organizations/" + owner + "/settings/apps/" + a.Slug
	}
	location := settings
	if m.RedirectURL != "" {
		rec.Code = randomHex(20)
		s.manifestCodes[rec.Code] = &manifestCode{app: a, expires: s.nowLocked().Add(manifestCodeTTL)}
		u, _ := url.Parse(m.RedirectURL) // validated
		q := u.Query()
		q.Set("code", rec.Code)
		if state != "" {
			q.Set("state", state)
		}
		u.RawQuery = q.Encode()
		location = u.String()
	}
	s.manifestApps = append(s.manifestApps, rec)
	s.mu.Unlock()
	http.Redirect(w, r, location, http.StatusFound)
}

// registerManifestAppLocked creates the App a manifest describes, or
// returns GitHub's error for a name already taken.
func (s *Server) registerManifestAppLocked(m Manifest, owner, ownerType string) (*App, string) {
	taken := func(slug string) bool {
		for _, a := range s.apps {
			if strings.EqualFold(a.Slug, slug) {
				return true
			}
		}
		return false
	}
	name := m.Name
	if name == "" {
		// The user names the App on the form; pick a free name for them.
		base := owner
		if len(base) > maxAppName-len("-app-00") {
			base = base[:maxAppName-len("-app-00")]
		}
		name = base + "-app"
		for n := 2; taken(appSlug(name)); n++ {
			name = fmt.Sprintf("%s-app-%d", base, n)
		}
	} else if taken(appSlug(name)) {
		return nil, "Name has already been taken"
	}
	perms := copyPerms(m.DefaultPermissions)
	for p := range perms {
		if slices.Contains(repoPermissions, p) {
			perms["metadata"] = "read"
			break
		}
	}
	a := s.addAppLocked(appSlug(name))
	a.Name = name
	a.createdAt = s.nowLocked()
	a.owner, a.ownerType = owner, ownerType
	a.description, a.externalURL, a.public = m.Description, m.URL, m.Public
	a.permissions = perms
	a.events = append([]string{}, m.DefaultEvents...)
	a.clientSecret = randomHex(20)
	s.oauth.appLocked(a).callbacks = slices.Clone(m.CallbackURLs)
	a.hook = appHook{id: s.newIDLocked(), secret: randomHex(20), active: m.HookActive()}
	if m.HookAttributes != nil {
		a.hook.url = m.HookAttributes.URL
	}
	return a, ""
}

// convertManifest is POST /app-manifests/{code}/conversions: no
// authentication; the code works once, within an hour. The answer carries
// the App's credentials, pem included.
func (s *Server) convertManifest(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	s.mu.Lock()
	c := s.manifestCodes[r.PathValue("code")]
	if c == nil || c.used || !s.nowLocked().Before(c.expires) {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "Not Found", docManifest)
		return
	}
	c.used = true
	a := c.app
	body := s.appJSONLocked(a)
	body["client_secret"] = a.clientSecret
	body["webhook_secret"] = strOrNil(a.hook.secret)
	body["pem"] = string(a.pem)
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, body)
}

// ClientSecret is the App's OAuth client secret ("" for Apps not
// registered from a manifest).
func (a *App) ClientSecret() string {
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	return a.clientSecret
}

func writeManifestErrors(w http.ResponseWriter, errs []string) {
	var b strings.Builder
	b.WriteString("<p>The configuration does not appear to be a valid GitHub App manifest.</p>\n<ul>\n")
	for _, e := range errs {
		fmt.Fprintf(&b, "<li>Error: %s</li>\n", html.EscapeString(e))
	}
	b.WriteString("</ul>")
	writeHTML(w, http.StatusUnprocessableEntity, "Invalid GitHub App configuration", b.String())
}

func writeHTML(w http.ResponseWriter, status int, title, body string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!DOCTYPE html>\n<html><head><title>%s · GitHub</title></head>\n<body>\n<h1>%s</h1>\n%s\n</body></html>\n",
		html.EscapeString(title), html.EscapeString(title), body)
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

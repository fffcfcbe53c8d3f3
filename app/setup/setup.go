// Package setup creates the GitHub App from a manifest when the server has
// no App credentials, and keeps the credentials GitHub returns.
package setup

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/go-github/v60/github"
	"github.com/rs/zerolog"
)

// Config is what the setup needs of the server's configuration.
type Config struct {
	// PublicURL is where GitHub reaches this server; GitHubURL the REST
	// API's base; DataDir where the credentials are stored.
	PublicURL, GitHubURL, DataDir string
}

// Done hands over the credentials once the App is created.
func (s *Setup) Done() <-chan Credentials { return s.done }

// setupStateTTL is how long the link from the setup page to GitHub and
// back stays valid.
const setupStateTTL = time.Hour

// Setup serves the one-click creation of the GitHub App from a manifest,
// while stagegate has no App credentials. When GitHub sends the browser
// back, it exchanges the code for the App's credentials, stores them, and
// hands them over on done so the same process starts serving webhooks.
//
// Whoever completes the setup decides which App this server serves, so
// the pages need the one-time token printed in the log, and the way back
// from GitHub must come to the browser that left (a cookie holds the
// state).
type Setup struct {
	cfg   Config
	log   zerolog.Logger
	token string
	done  chan Credentials

	mu        sync.Mutex
	states    map[string]time.Time
	completed bool
}

// maxSetupStates bounds the open round trips to GitHub.
const maxSetupStates = 64

// setupCookie carries the state of a round trip through GitHub.
const setupCookie = "stagegate_setup_state"

// New serves the setup at cfg.PublicURL, behind token (a random one
// when empty).
func New(cfg Config, log zerolog.Logger, token string) *Setup {
	if token == "" {
		token = randomHex(16)
	}
	return &Setup{cfg: cfg, log: log, token: token, done: make(chan Credentials, 1), states: map[string]time.Time{}}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// link is the setup page's address with its token, for the log.
func (s *Setup) Link() string {
	return strings.TrimSuffix(s.cfg.PublicURL, "/") + "/setup?token=" + s.token
}

func (s *Setup) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/setup", http.StatusFound)
	})
	mux.HandleFunc("GET /setup", s.page)
	mux.HandleFunc("GET /setup/callback", s.callback)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { writeText(w, http.StatusOK, "ok\n") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		writeText(w, http.StatusServiceUnavailable, "not ready: the GitHub App is not set up yet; open /setup\n")
	})
	mux.HandleFunc("POST /webhook", func(w http.ResponseWriter, _ *http.Request) {
		writeText(w, http.StatusServiceUnavailable, "the GitHub App is not set up yet\n")
	})
	return mux
}

// newState makes a one-time token for the round trip through GitHub.
func (s *Setup) newState() string {
	state := randomHex(16)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	for k, exp := range s.states {
		if now.After(exp) || len(s.states) >= maxSetupStates {
			delete(s.states, k)
		}
	}
	s.states[state] = now.Add(setupStateTTL)
	return state
}

// takeState consumes a token: each is good for one return from GitHub.
func (s *Setup) takeState(state string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.states[state]
	delete(s.states, state)
	return ok && time.Now().Before(exp)
}

var setupPage = template.Must(template.New("setup").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Set up stagegate</title>
<style>body{font-family:system-ui,sans-serif;max-width:42rem;margin:3rem auto;line-height:1.5;padding:0 1rem}
button{font-size:1rem;padding:.6rem 1.2rem;cursor:pointer}code{background:#f3f3f3;padding:0 .2rem}
.error{color:#b00020}</style></head>
<body>
<h1>Set up stagegate</h1>
{{if .Action}}<p>stagegate runs as a GitHub App. This creates the App on GitHub
{{if .Org}}owned by the organisation <strong id="owner">{{.Org}}</strong>{{else}}owned by <strong id="owner">your personal account</strong>{{end}},
with exactly the permissions it needs: checks (write), contents (read), metadata (read), pull requests (read),
issues (write, for comment replies), deployments (write), commit statuses (read), members (read, for team deployers)
and actions (read, to gate GitHub Actions deployments as a deployment protection rule).
GitHub will send its webhooks to <code>{{.WebhookURL}}</code>.</p>
<p>The App is private: it can be installed only on the account that owns it.</p>
<form method="post" action="{{.Action}}">
<input type="hidden" name="manifest" value="{{.Manifest}}">
<button type="submit" id="create">Create GitHub App</button>
</form>
<p><a href="/setup?token={{.Token}}">Choose another owner</a></p>
{{else}}<p>stagegate runs as a GitHub App. A private App can be installed only on the account that owns it,
so first say where it belongs: the organisation whose repositories it will build, or your personal account.</p>
{{if .Error}}<p class="error" id="error">{{.Error}}</p>{{end}}
<form method="get" action="/setup">
<input type="hidden" name="token" value="{{.Token}}">
<p><label><input type="radio" name="owner" value="org" id="owner-org"{{if ne .Owner "user"}} checked{{end}}> The organisation
<input name="org" id="org" placeholder="organisation" value="{{.Org}}" aria-label="organisation"></label></p>
<p><label><input type="radio" name="owner" value="user" id="owner-user"{{if eq .Owner "user"}} checked{{end}}> My personal account</label></p>
<button type="submit" id="choose">Continue</button>
</form>{{end}}
</body></html>`))

var setupDone = template.Must(template.New("done").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>stagegate is set up</title>
<style>body{font-family:system-ui,sans-serif;max-width:42rem;margin:3rem auto;line-height:1.5;padding:0 1rem}</style></head>
<body>
<h1 id="done">The GitHub App {{.Slug}} is created</h1>
<p>stagegate stored its credentials in its data directory and now receives webhooks.</p>
<p><strong>Next:</strong> <a id="install" href="{{.InstallURL}}">install the App on {{if .Org}}your organisation {{.Owner}}{{else}}your account {{.Owner}}{{end}}</a>,
for all repositories or the ones you choose. Repositories with a <code>.stagegate.yml</code>, or covered by the
organisation's default in <code>.github/.stagegate.yml</code>, then run their pipelines on every push and pull request.</p>
</body></html>`))

// loginRE is what GitHub allows in an account name: letters, digits and
// single hyphens, not at either end, at most 39 characters.
var loginRE = regexp.MustCompile(`^[A-Za-z0-9](?:-?[A-Za-z0-9]){0,38}$`)

// page is GET /setup. Without a choice of owner it asks where the App
// belongs; with one (owner=org&org=NAME, or owner=user) it shows the
// button that posts the manifest to GitHub's page for that owner, since
// a private App can only ever be installed on the account that owns it.
// A bare org=NAME, as older links have, means owner=org.
func (s *Setup) page(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if subtle.ConstantTimeCompare([]byte(q.Get("token")), []byte(s.token)) != 1 {
		http.Error(w, "Open the setup link that stagegate printed in its log when it started.", http.StatusForbidden)
		return
	}
	owner, org := q.Get("owner"), strings.TrimSpace(q.Get("org"))
	if owner == "" && org != "" {
		owner = "org"
	}
	view := map[string]any{"Token": s.token, "Owner": owner, "Org": org}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	switch {
	case owner == "user":
		org = ""
		view["Org"] = ""
	case owner == "org" && org == "":
		view["Error"] = "Name the organisation."
		w.WriteHeader(http.StatusBadRequest)
		_ = setupPage.Execute(w, view)
		return
	case owner == "org" && !loginRE.MatchString(org):
		view["Error"] = fmt.Sprintf("%q is not an organisation name: GitHub allows letters, digits and single hyphens, at most 39.", org)
		w.WriteHeader(http.StatusBadRequest)
		_ = setupPage.Execute(w, view)
		return
	case owner != "org":
		_ = setupPage.Execute(w, view)
		return
	}
	manifest, err := json.Marshal(NewManifest(appName(org), s.cfg.PublicURL))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	path := "/settings/apps/new"
	if org != "" {
		path = "/organizations/" + url.PathEscape(org) + "/settings/apps/new"
	}
	state := s.newState()
	http.SetCookie(w, &http.Cookie{Name: setupCookie, Value: state, Path: "/setup", MaxAge: int(setupStateTTL.Seconds()),
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: strings.HasPrefix(s.cfg.PublicURL, "https://")})
	view["Action"] = WebBaseURL(s.cfg.GitHubURL) + path + "?state=" + state
	view["Manifest"] = string(manifest)
	view["WebhookURL"] = NewManifest("", s.cfg.PublicURL).HookAttributes.URL
	_ = setupPage.Execute(w, view)
}

// appName proposes the App's name. GitHub App names are unique across
// GitHub, so a bare "stagegate" is taken; GitHub's page lets the user
// change the name before creating the App.
func appName(org string) string {
	if org != "" {
		return "stagegate-" + org
	}
	return "stagegate-" + randomHex(3)
}

// callback is where GitHub sends the browser back with a code that
// converts into the new App's credentials.
func (s *Setup) callback(w http.ResponseWriter, r *http.Request) {
	state := r.URL.Query().Get("state")
	cookie, err := r.Cookie(setupCookie)
	if err != nil || subtle.ConstantTimeCompare([]byte(cookie.Value), []byte(state)) != 1 || !s.takeState(state) {
		http.Error(w, "This link has expired, or was not made by this server for this browser. Start again at /setup.", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	completed := s.completed
	s.mu.Unlock()
	if completed {
		http.Error(w, "stagegate is set up already.", http.StatusGone)
		return
	}
	code := r.URL.Query().Get("code")
	if code == "" {
		http.Error(w, "GitHub sent no code. Start again at /setup.", http.StatusBadRequest)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	creds, owner, err := s.convert(ctx, code)
	if err != nil {
		s.log.Error().Err(err).Msg("app manifest conversion")
		http.Error(w, "GitHub did not hand over the App's credentials: "+err.Error(), http.StatusBadGateway)
		return
	}
	s.mu.Lock()
	first := !s.completed
	s.completed = true
	s.mu.Unlock()
	if !first {
		http.Error(w, "stagegate is set up already.", http.StatusGone)
		return
	}
	if err := saveCredentials(s.cfg.DataDir, creds); err != nil {
		s.mu.Lock()
		s.completed = false
		s.mu.Unlock()
		s.log.Error().Err(err).Msg("store app credentials")
		http.Error(w, "Could not store the App's credentials: "+err.Error(), http.StatusInternalServerError)
		return
	}
	s.log.Info().Int64("app_id", creds.AppID).Str("slug", creds.Slug).Msg("GitHub App created; serving webhooks")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = setupDone.Execute(w, map[string]any{"Slug": creds.Slug, "Owner": owner.login,
		"Org": owner.org, "InstallURL": installURL(creds.HTMLURL, owner)})
	s.done <- creds
}

// appOwner is the account an App was created for.
type appOwner struct {
	login string
	id    int64
	org   bool
}

// installURL is the page that installs the App on its owner: for an
// organisation, GitHub's page for that target, which skips the choice of
// account (a private App offers no other anyway); for a personal
// account, the App's installation page.
func installURL(appHTMLURL string, owner appOwner) string {
	u := strings.TrimSuffix(appHTMLURL, "/") + "/installations/new"
	if owner.org && owner.id > 0 {
		u += "/permissions?target_id=" + strconv.FormatInt(owner.id, 10)
	}
	return u
}

func (s *Setup) convert(ctx context.Context, code string) (Credentials, appOwner, error) {
	client := github.NewClient(&http.Client{Timeout: 30 * time.Second})
	if WebBaseURL(s.cfg.GitHubURL) != "https://github.com" {
		var err error
		if client, err = client.WithEnterpriseURLs(s.cfg.GitHubURL, s.cfg.GitHubURL); err != nil {
			return Credentials{}, appOwner{}, err
		}
	}
	cfg, _, err := client.Apps.CompleteAppManifest(ctx, code)
	if err != nil {
		return Credentials{}, appOwner{}, fmt.Errorf("convert the manifest code: %w", err)
	}
	owner := appOwner{login: cfg.GetOwner().GetLogin(), id: cfg.GetOwner().GetID(), org: cfg.GetOwner().GetType() == "Organization"}
	return Credentials{
		AppID: cfg.GetID(), Slug: cfg.GetSlug(), HTMLURL: cfg.GetHTMLURL(),
		PrivateKey: cfg.GetPEM(), WebhookSecret: cfg.GetWebhookSecret(), CreatedAt: time.Now().UTC(),
		ClientID: cfg.GetClientID(), ClientSecret: cfg.GetClientSecret(),
	}, owner, nil
}

func writeText(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, text)
}

package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/google/go-github/v60/github"
	"github.com/rs/zerolog"
)

// setupStateTTL is how long the link from the setup page to GitHub and
// back stays valid.
const setupStateTTL = time.Hour

// setup serves the one-click creation of the GitHub App from a manifest,
// while stagegate has no App credentials. When GitHub sends the browser
// back, it exchanges the code for the App's credentials, stores them, and
// hands them over on done so the same process starts serving webhooks.
type setup struct {
	cfg  Config
	log  zerolog.Logger
	done chan Credentials

	mu     sync.Mutex
	states map[string]time.Time
	once   sync.Once
}

func newSetup(cfg Config, log zerolog.Logger) *setup {
	return &setup{cfg: cfg, log: log, done: make(chan Credentials, 1), states: map[string]time.Time{}}
}

func (s *setup) handler() http.Handler {
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
func (s *setup) newState() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	state := hex.EncodeToString(b[:])
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	for k, exp := range s.states {
		if now.After(exp) {
			delete(s.states, k)
		}
	}
	s.states[state] = now.Add(setupStateTTL)
	return state
}

// takeState consumes a token: each is good for one return from GitHub.
func (s *setup) takeState(state string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.states[state]
	delete(s.states, state)
	return ok && time.Now().Before(exp)
}

var setupPage = template.Must(template.New("setup").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Set up stagegate</title>
<style>body{font-family:system-ui,sans-serif;max-width:42rem;margin:3rem auto;line-height:1.5;padding:0 1rem}
button{font-size:1rem;padding:.6rem 1.2rem;cursor:pointer}code{background:#f3f3f3;padding:0 .2rem}</style></head>
<body>
<h1>Set up stagegate</h1>
<p>stagegate runs as a GitHub App. This creates the App on GitHub{{if .Org}} for the organisation <strong>{{.Org}}</strong>{{else}} under your account{{end}},
with exactly the permissions it needs: checks (write), contents (read), metadata (read), pull requests (read),
issues (write, for comment replies), deployments (write), commit statuses (read) and members (read, for team deployers).
GitHub will send its webhooks to <code>{{.WebhookURL}}</code>.</p>
<form method="post" action="{{.Action}}">
<input type="hidden" name="manifest" value="{{.Manifest}}">
<button type="submit" id="create">Create GitHub App</button>
</form>
<form method="get" action="/setup"><p>For an organisation instead:
<input name="org" placeholder="organisation" value="{{.Org}}" aria-label="organisation"> <button type="submit">Use it</button></p></form>
</body></html>`))

var setupDone = template.Must(template.New("done").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>stagegate is set up</title>
<style>body{font-family:system-ui,sans-serif;max-width:42rem;margin:3rem auto;line-height:1.5;padding:0 1rem}</style></head>
<body>
<h1 id="done">The GitHub App {{.Slug}} is created</h1>
<p>stagegate stored its credentials in its data directory and now receives webhooks.</p>
<p><strong>Next:</strong> <a id="install" href="{{.InstallURL}}">install the App on your organisation</a>,
for all repositories or the ones you choose. Repositories with a <code>.stagegate.yml</code>, or covered by the
organisation's default in <code>.github/.stagegate.yml</code>, then run their pipelines on every push and pull request.</p>
</body></html>`))

// page is GET /setup: a button that posts the manifest to GitHub.
func (s *setup) page(w http.ResponseWriter, r *http.Request) {
	org := r.URL.Query().Get("org")
	manifest, err := json.Marshal(NewManifest(appName(org), s.cfg.PublicURL))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	path := "/settings/apps/new"
	if org != "" {
		path = "/organizations/" + url.PathEscape(org) + "/settings/apps/new"
	}
	action := webBaseURL(s.cfg.GitHubURL) + path + "?state=" + s.newState()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = setupPage.Execute(w, map[string]any{
		"Org": org, "Action": action, "Manifest": string(manifest),
		"WebhookURL": NewManifest("", s.cfg.PublicURL).HookAttributes.URL,
	})
}

// appName proposes the App's name. GitHub App names are unique across
// GitHub, so a bare "stagegate" is taken; GitHub's page lets the user
// change the name before creating the App.
func appName(org string) string {
	if org != "" {
		return "stagegate-" + org
	}
	var b [3]byte
	_, _ = rand.Read(b[:])
	return "stagegate-" + hex.EncodeToString(b[:])
}

// callback is where GitHub sends the browser back with a code that
// converts into the new App's credentials.
func (s *setup) callback(w http.ResponseWriter, r *http.Request) {
	if !s.takeState(r.URL.Query().Get("state")) {
		http.Error(w, "This link has expired or was not made by this server. Start again at /setup.", http.StatusBadRequest)
		return
	}
	code := r.URL.Query().Get("code")
	if code == "" {
		http.Error(w, "GitHub sent no code. Start again at /setup.", http.StatusBadRequest)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	creds, err := s.convert(ctx, code)
	if err != nil {
		s.log.Error().Err(err).Msg("app manifest conversion")
		http.Error(w, "GitHub did not hand over the App's credentials: "+err.Error(), http.StatusBadGateway)
		return
	}
	if err := saveCredentials(s.cfg.DataDir, creds); err != nil {
		s.log.Error().Err(err).Msg("store app credentials")
		http.Error(w, "Could not store the App's credentials: "+err.Error(), http.StatusInternalServerError)
		return
	}
	s.log.Info().Int64("app_id", creds.AppID).Str("slug", creds.Slug).Msg("GitHub App created; serving webhooks")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = setupDone.Execute(w, map[string]any{"Slug": creds.Slug, "InstallURL": creds.HTMLURL + "/installations/new"})
	s.once.Do(func() { s.done <- creds })
}

func (s *setup) convert(ctx context.Context, code string) (Credentials, error) {
	client := github.NewClient(&http.Client{Timeout: 30 * time.Second})
	if webBaseURL(s.cfg.GitHubURL) != "https://github.com" {
		var err error
		if client, err = client.WithEnterpriseURLs(s.cfg.GitHubURL, s.cfg.GitHubURL); err != nil {
			return Credentials{}, err
		}
	}
	cfg, _, err := client.Apps.CompleteAppManifest(ctx, code)
	if err != nil {
		return Credentials{}, fmt.Errorf("convert the manifest code: %w", err)
	}
	return Credentials{
		AppID: cfg.GetID(), Slug: cfg.GetSlug(), HTMLURL: cfg.GetHTMLURL(),
		PrivateKey: cfg.GetPEM(), WebhookSecret: cfg.GetWebhookSecret(), CreatedAt: time.Now().UTC(),
	}, nil
}

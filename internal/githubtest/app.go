package githubtest

import (
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"sort"
	"strings"
	"time"
)

// App is a GitHub App registered on the server. The server's main App is
// [Server.App]; [Server.AddApp] registers others (e.g. to prove that one
// App cannot update another's check runs).
type App struct {
	ID   int64
	Slug string
	Name string

	s         *Server
	key       *rsa.PrivateKey
	pem       []byte
	createdAt time.Time

	// Registration details (set by the manifest flow, manifest.go; the
	// zero values mean the defaults of [Server.AddApp]: owned by the
	// "stagegate" organization, installations get the server's
	// permissions). Guarded by s.mu.
	owner, ownerType string
	description      string
	externalURL      string
	permissions      map[string]string // nil: the server's (WithPermissions)
	events           []string          // nil: defaultEvents
	public           bool
	clientSecret     string
	hook             appHook // hookdeliveries.go
}

// defaultEvents are the events of Apps registered with [Server.AddApp].
var defaultEvents = []string{"check_run", "check_suite", "issue_comment", "pull_request", "push"}

// PrivateKeyPEM is the App's private key, PKCS#1 PEM as GitHub issues it.
func (a *App) PrivateKeyPEM() []byte { return append([]byte(nil), a.pem...) }

// PrivateKey is the App's private key.
func (a *App) PrivateKey() *rsa.PrivateKey { return a.key }

// AddApp registers another App with its own id, slug and key.
func (s *Server) AddApp(slug string) *App {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addAppLocked(slug)
}

func (s *Server) addAppLocked(slug string) *App {
	key, pem := pooledKey(len(s.apps))
	a := &App{
		ID:        s.newIDLocked(),
		Slug:      slug,
		Name:      slug,
		s:         s,
		key:       key,
		pem:       pem,
		createdAt: s.nowLocked().Add(-24 * time.Hour),
	}
	s.apps[a.ID] = a
	return a
}

// App is the server's main App (the one stagegate runs as).
func (s *Server) App() *App { return s.app }

// AppID is the main App's id.
func (s *Server) AppID() int64 { return s.app.ID }

// AppSlug is the main App's slug.
func (s *Server) AppSlug() string { return s.app.Slug }

// PrivateKeyPEM is the main App's private key (PKCS#1 PEM).
func (s *Server) PrivateKeyPEM() []byte { return s.app.PrivateKeyPEM() }

// permissionsLocked is what the App asks for: an installation is granted
// these.
func (a *App) permissionsLocked() map[string]string {
	if a.permissions != nil {
		return a.permissions
	}
	return a.s.opts.permissions
}

func (a *App) eventsLocked() []string {
	if a.events != nil {
		return append([]string(nil), a.events...)
	}
	return append([]string(nil), defaultEvents...)
}

// Permissions returns the permissions the App asks for (the manifest's
// default_permissions plus metadata:read, or the server's permissions).
func (a *App) Permissions() map[string]string {
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	return copyPerms(a.permissionsLocked())
}

// Events returns the webhook events the App is subscribed to.
func (a *App) Events() []string {
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	return a.eventsLocked()
}

// installation is an App installed on an account (an organization).
type installation struct {
	id, appID   int64
	account     string
	accountID   int64
	all         bool            // repository_selection "all"
	repos       map[string]bool // lower-case repo names when selected
	permissions map[string]string
	events      []string
	suspended   bool
	suspendedAt time.Time
	deleted     bool
	createdAt   time.Time
}

func (i *installation) coversLocked(r *Repo) bool {
	return !i.deleted && strings.EqualFold(i.account, r.Owner) && (i.all || i.repos[strings.ToLower(r.Name)])
}

// token is an installation access token.
type token struct {
	value          string
	installationID int64
	appID          int64
	issuedAt       time.Time
	expiresAt      time.Time
	permissions    map[string]string
	repos          map[int64]bool // nil: every repository of the installation
}

// AddInstallation installs the main App on account (an organization login)
// for the named repositories ("name" or "account/name"; they need not exist
// yet). With no repos the installation covers all of the account's
// repositories (repository_selection "all"). It returns the installation id.
func (s *Server) AddInstallation(account string, repos ...string) int64 {
	return s.app.AddInstallation(account, repos...)
}

// AddInstallation installs this App on account; see [Server.AddInstallation].
func (a *App) AddInstallation(account string, repos ...string) int64 {
	s := a.s
	s.t.Helper()
	names, err := repoNames(account, repos)
	if err != nil {
		s.t.Fatalf("githubtest: AddInstallation: %v", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	inst := &installation{
		id:          s.newIDLocked(),
		appID:       a.ID,
		account:     account,
		accountID:   s.accountIDLocked(account),
		all:         len(repos) == 0,
		repos:       names,
		permissions: copyPerms(a.permissionsLocked()),
		events:      a.eventsLocked(),
		createdAt:   s.nowLocked(),
	}
	s.installations[inst.id] = inst
	return inst.id
}

// AddInstallationRepos adds repositories to a "selected" installation,
// as installation_repositories "added" reports.
func (s *Server) AddInstallationRepos(id int64, repos ...string) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	inst := s.mustInstallationLocked(id)
	names, err := repoNames(inst.account, repos)
	if err != nil {
		s.t.Fatalf("githubtest: AddInstallationRepos: %v", err)
	}
	for n := range names {
		inst.repos[n] = true
	}
}

// SuspendInstallation suspends an installation: new tokens are refused with
// 403 and existing ones stop working, as on GitHub.
func (s *Server) SuspendInstallation(id int64) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	inst := s.mustInstallationLocked(id)
	inst.suspended, inst.suspendedAt = true, s.nowLocked()
}

// UnsuspendInstallation lifts a suspension.
func (s *Server) UnsuspendInstallation(id int64) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	inst := s.mustInstallationLocked(id)
	inst.suspended, inst.suspendedAt = false, time.Time{}
}

// DeleteInstallation uninstalls: the installation answers 404 and its
// tokens are bad credentials.
func (s *Server) DeleteInstallation(id int64) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustInstallationLocked(id).deleted = true
}

// SetInstallationPermissions replaces an installation's permissions
// (tokens issued before keep the permissions they were issued with).
func (s *Server) SetInstallationPermissions(id int64, perms map[string]string) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustInstallationLocked(id).permissions = copyPerms(perms)
}

// InstallationFor returns the id of the main App's installation covering
// owner/repo, or 0.
func (s *Server) InstallationFor(owner, repo string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repos[repoKey(owner, repo)]
	if r == nil {
		return 0
	}
	if inst := s.installationForLocked(s.app.ID, r); inst != nil {
		return inst.id
	}
	return 0
}

func (s *Server) installationForLocked(appID int64, r *Repo) *installation {
	var ids []int64
	for id, inst := range s.installations {
		if inst.appID == appID && inst.coversLocked(r) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return s.installations[ids[0]]
}

// TokenIssued reports whether tok was ever issued by this server as an
// installation token (expired or not). Tests use it to recognize tokens
// that leaked into logs or argv.
func (s *Server) TokenIssued(tok string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.tokens[tok]
	return ok
}

// TokensIn returns the issued installation tokens that occur in text (a
// log, an argv, a file): a test asserts it is empty to prove no leak.
func (s *Server) TokensIn(text string) []string {
	var found []string
	for _, tok := range s.IssuedTokens() {
		if strings.Contains(text, tok) {
			found = append(found, tok)
		}
	}
	return found
}

// IssuedTokens returns every installation token issued, oldest first.
func (s *Server) IssuedTokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	toks := make([]*token, 0, len(s.tokens))
	for _, t := range s.tokens {
		toks = append(toks, t)
	}
	sort.Slice(toks, func(i, j int) bool { return toks[i].issuedAt.Before(toks[j].issuedAt) })
	out := make([]string, len(toks))
	for i, t := range toks {
		out[i] = t.value
	}
	return out
}

func (s *Server) mustInstallationLocked(id int64) *installation {
	inst := s.installations[id]
	if inst == nil {
		s.t.Fatalf("githubtest: no installation %d", id)
	}
	return inst
}

func repoNames(account string, repos []string) (map[string]bool, error) {
	out := map[string]bool{}
	for _, r := range repos {
		if o, n, ok := strings.Cut(r, "/"); ok {
			if !strings.EqualFold(o, account) {
				return nil, fmt.Errorf("repository %q is not in account %q", r, account)
			}
			r = n
		}
		if r == "" {
			return nil, fmt.Errorf("empty repository name")
		}
		out[strings.ToLower(r)] = true
	}
	return out, nil
}

// nodeID makes a legacy-style GraphQL node id, e.g. "010:Repository42".
func nodeID(kind string, id int64) string { return rawNodeID(fmt.Sprintf("%s%d", kind, id)) }

func rawNodeID(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// accountJSON renders a user/organization the way GitHub embeds it.
func (s *Server) accountJSON(login string, id int64, typ string) map[string]any {
	return map[string]any{
		"login":      login,
		"id":         id,
		"node_id":    nodeID("04:"+typ, id),
		"avatar_url": s.URL + "/avatars/" + login,
		"url":        s.URL + "/api/v3/users/" + login,
		"html_url":   s.URL + "/" + login,
		"repos_url":  s.URL + "/api/v3/users/" + login + "/repos",
		"type":       typ,
		"site_admin": false,
	}
}

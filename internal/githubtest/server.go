package githubtest

import (
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is a test GitHub: REST API under /api/v3/ and git smart HTTP at
// /{owner}/{repo}.git/. Create it with [New]; it is closed by t.Cleanup.
type Server struct {
	// URL is the base URL, e.g. http://127.0.0.1:41234 (no trailing slash).
	URL string

	t       testing.TB
	httpSrv *httptest.Server
	mux     *http.ServeMux
	gitBin  string
	gitRoot string // GIT_PROJECT_ROOT: {gitRoot}/{owner}/{name}.git
	opts    options

	mu            sync.Mutex
	offset        time.Duration // added to time.Now by Advance
	nextID        int64
	app           *App
	apps          map[int64]*App
	installations map[int64]*installation
	tokens        map[string]*token
	repos         map[string]*Repo // key: lower-case "owner/name"
	accountIDs    map[string]int64 // key: lower-case login
	checkRuns     map[int64]*CheckRun
	checkSuites   map[suiteKey]int64
	calls         []Call
	gitRequests   []GitRequest
	gitHolds      []*gitHold // githold.go

	// Collaborators, teams, pull requests, comments, statuses and
	// deployments (users.go, pulls.go, comments.go, statuses.go,
	// deployments.go).
	users       map[string]*user             // key: lower-case login
	repoRoles   map[string]map[string]string // repo key -> lower-case login -> role
	teams       map[string]*team             // key: lower-case "org/slug"
	forks       map[int64]int64              // fork repo id -> parent repo id
	pulls       map[string][]*PullRequest    // repo key -> pull requests by number
	comments    map[int64]*Comment
	reactions   map[int64][]reaction // comment id -> reactions, oldest first
	statuses    []*CommitStatus      // every repository's, oldest first
	deployments map[int64]*Deployment
	timeline    map[string][]*timelineEvent // "owner/name#number" -> push events (timeline.go)

	// Environments' settings and protected branches (environments.go).
	environments      map[string]map[string]*Environment // repo key -> lower-case name
	protectedBranches map[string]map[string]bool         // repo key -> branch

	// Rate limits per credential (ratelimit.go), and outages (outage.go).
	rateBuckets map[string]*rateBucket
	rateLimited int
	outages     []*outage

	// Workflow runs waiting on protection rules, and the reviews posted
	// (protection_rule.go).
	workflowRuns      map[int64]*workflowRun
	protectionAnswers []ProtectionAnswer

	// Webhook deliveries of every App, oldest first (hookdeliveries.go),
	// redeliveries in flight, and the manifest flow (manifest.go).
	hookDeliveries []*HookDelivery
	hookWG         sync.WaitGroup
	manifestCodes  map[string]*manifestCode
	manifestApps   []ManifestApp
	oauth          oauthState // user access tokens (oauth.go)
}

// Option configures a Server.
type Option func(*options)

type options struct {
	tokenTTL    time.Duration
	appSlug     string
	permissions map[string]string
	limits      RateLimits
	// largeContentsForbidden: see WithLargeContentsForbidden (contents.go).
	largeContentsForbidden bool
}

// DefaultPermissions returns the permissions an installation gets unless
// [WithPermissions] says otherwise: what stagegate's App asks for. Deploy
// stages need deployments (write), actions (read) for the environments'
// settings and, for "@org/team" deployers, the organization permission
// members (read).
func DefaultPermissions() map[string]string {
	return map[string]string{
		"actions":       "read",
		"checks":        "write",
		"contents":      "read",
		"deployments":   "write",
		"members":       "read",
		"metadata":      "read",
		"pull_requests": "write",
		"statuses":      "write",
		"issues":        "write",
	}
}

// WithTokenTTL sets the lifetime of installation tokens (GitHub: 1 hour).
// A short TTL lets tests exercise token refresh.
func WithTokenTTL(d time.Duration) Option { return func(o *options) { o.tokenTTL = d } }

// WithAppSlug sets the slug of the server's main App (default "stagegate").
func WithAppSlug(slug string) Option { return func(o *options) { o.appSlug = slug } }

// WithPermissions sets the permissions of installations created afterwards
// (default [DefaultPermissions]).
func WithPermissions(p map[string]string) Option {
	return func(o *options) { o.permissions = copyPerms(p) }
}

// New starts a test GitHub and registers its shutdown with t.Cleanup.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	gitBin, err := exec.LookPath("git")
	if err != nil {
		t.Fatalf("githubtest: git is required: %v", err)
	}
	s := &Server{
		t:                 t,
		mux:               http.NewServeMux(),
		gitBin:            gitBin,
		gitRoot:           t.TempDir(),
		nextID:            1000,
		apps:              map[int64]*App{},
		installations:     map[int64]*installation{},
		tokens:            map[string]*token{},
		repos:             map[string]*Repo{},
		accountIDs:        map[string]int64{},
		checkRuns:         map[int64]*CheckRun{},
		checkSuites:       map[suiteKey]int64{},
		users:             map[string]*user{},
		repoRoles:         map[string]map[string]string{},
		teams:             map[string]*team{},
		forks:             map[int64]int64{},
		pulls:             map[string][]*PullRequest{},
		comments:          map[int64]*Comment{},
		reactions:         map[int64][]reaction{},
		deployments:       map[int64]*Deployment{},
		environments:      map[string]map[string]*Environment{},
		protectedBranches: map[string]map[string]bool{},
		rateBuckets:       map[string]*rateBucket{},
		workflowRuns:      map[int64]*workflowRun{},
		manifestCodes:     map[string]*manifestCode{},
		opts: options{
			tokenTTL:    time.Hour,
			appSlug:     "stagegate",
			permissions: DefaultPermissions(),
		},
	}
	for _, o := range opts {
		o(&s.opts)
	}
	s.routes()
	s.httpSrv = httptest.NewServer(s.mux)
	s.URL = s.httpSrv.URL
	t.Cleanup(s.httpSrv.Close)
	t.Cleanup(s.WaitDeliveries) // runs first: redeliveries may still call the API
	s.app = s.AddApp(s.opts.appSlug)
	return s
}

// APIURL is the REST base URL with a trailing slash (srv.URL+"/api/v3/"),
// as go-github's WithEnterpriseURLs wants it.
func (s *Server) APIURL() string { return s.URL + "/api/v3/" }

// Client returns the underlying httptest client.
func (s *Server) Client() *http.Client { return s.httpSrv.Client() }

// Advance moves the server's clock forward: tokens and JWTs are judged
// against time.Now()+total advance. Use it to expire tokens without
// sleeping. JWTs signed with the real clock afterwards look expired too (as
// on GitHub when the App's clock lags); sign them from [Server.Now].
func (s *Server) Advance(d time.Duration) {
	s.mu.Lock()
	s.offset += d
	s.mu.Unlock()
}

// Now is the server's clock (time.Now plus any [Server.Advance]).
func (s *Server) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nowLocked()
}

func (s *Server) nowLocked() time.Time { return time.Now().Add(s.offset).UTC() }

// newIDLocked hands out server-wide unique ids (GitHub's ids are global too).
func (s *Server) newIDLocked() int64 {
	s.nextID++
	return s.nextID
}

func (s *Server) accountIDLocked(login string) int64 {
	k := strings.ToLower(login)
	if id, ok := s.accountIDs[k]; ok {
		return id
	}
	id := s.newIDLocked()
	s.accountIDs[k] = id
	return id
}

// routes registers every endpoint. Each area adds its own in its file.
func (s *Server) routes() {
	s.appRoutes()
	s.repoRoutes()
	s.checkRoutes()
	s.userRoutes()
	s.pullRoutes()
	s.commentRoutes()
	s.statusRoutes()
	s.deploymentRoutes()
	s.environmentRoutes()
	s.hookRoutes()
	s.manifestRoutes()
	s.protectionRoutes()
	s.oauthRoutes()
	// Anything else under the API is GitHub's 404, and is logged so a test
	// can see that the code under test called an endpoint the fake lacks.
	s.handle("/api/v3/", authAny, func(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
		rc.route = "(unmatched)"
		writeNotFound(w)
	})
	s.mux.HandleFunc("/", s.serveGit)
}

func copyPerms(p map[string]string) map[string]string {
	out := make(map[string]string, len(p))
	for k, v := range p {
		out[k] = v
	}
	return out
}

func iso(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

func isoOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return iso(t)
}

func strOrNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}

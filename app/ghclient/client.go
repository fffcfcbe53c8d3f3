// Package ghclient makes the GitHub clients of stagegate's App: one
// JWT-authenticated client for the App itself and one cached client per
// installation, with installation tokens shared with git.
//
// Every client's HTTP stack is a chain of small round-tripper middlewares.
// For an installation, outermost first:
//
//	retry                5xx and transport errors, with backoff and jitter
//	rate limit           waits for Retry-After / x-ratelimit-reset
//	budget               one write at a time per installation, paced to
//	                     the rate limits, progress updates last
//	auth                 the installation token (minted via the App client)
//	metrics, logging     once per request that reaches the network
//
// The App client has retry, rate limit, the JWT (ghinstallation's
// AppsTransport), metrics and logging.
//
// go-githubapp's ClientCreator would build much the same, but it does not
// fit: its installation clients hide their ghinstallation.Transport, so
// git could not get the client's token and each installation would hold
// two; and the token refreshes of that transport skip the middlewares
// (no retry, no metrics). Hence ghinstallation directly, for the JWT, and
// a small token cache of our own (token.go says why not its Transport).
package ghclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v60/github"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// DefaultBaseURL is github.com's REST API.
const DefaultBaseURL = "https://api.github.com/"

// Config configures New. BaseURL, Registry, Logger and the fields after
// them are optional.
type Config struct {
	// BaseURL is the REST API root: DefaultBaseURL, or a GitHub
	// Enterprise Server's "https://ghe.example.com/api/v3/" ("/api/v3/"
	// is added to a bare GHES host, as go-github does).
	BaseURL    string
	AppID      int64
	PrivateKey []byte // the App's private key, PEM (PKCS#1 or PKCS#8)
	// Registry receives the metrics; nil leaves them unregistered.
	Registry prometheus.Registerer
	// Logger logs requests whose context carries no zerolog logger; the
	// zero value logs nothing.
	Logger zerolog.Logger

	// Transport is the network transport (default: a clone of
	// http.DefaultTransport that gives up on a response header after
	// 30s, so that a hung read is retried).
	Transport http.RoundTripper
	Retry     RetryPolicy
	RateLimit RateLimitPolicy
	// Limits paces each installation's requests to GitHub's limits.
	Limits Limits
	// TokenMargin is how long an installation token must still be valid
	// to be reused (default 5m): enough for a git fetch that starts
	// with it to finish before it expires.
	TokenMargin time.Duration
	// UserAgent defaults to "stagegate".
	UserAgent string
}

// Clients makes and caches the App's GitHub clients. It is safe for
// concurrent use.
type Clients struct {
	api, upload *url.URL
	enterprise  bool
	router      *router
	metrics     *metrics
	logger      zerolog.Logger
	base        http.RoundTripper
	retry       RetryPolicy
	rateLimit   RateLimitPolicy
	limits      Limits
	margin      time.Duration
	userAgent   string
	clock       clock
	app         *github.Client

	mu            sync.Mutex
	installations map[int64]*installation
}

// installation is what is cached per installation: the client and the
// token source it shares with git. The map grows with the number of
// installations, which is small and changes rarely.
type installation struct {
	client *github.Client
	tokens *tokenSource
	budget *budget
}

// New checks cfg and builds the App client; installation clients are
// built on first use. It makes no request.
func New(cfg Config) (*Clients, error) {
	if cfg.AppID <= 0 {
		return nil, errors.New("ghclient: AppID is required")
	}
	api, upload, enterprise, err := apiURLs(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg.Registry)
	if err != nil {
		return nil, err
	}
	c := &Clients{
		api:           api,
		upload:        upload,
		enterprise:    enterprise,
		router:        newRouter(api.Path),
		metrics:       m,
		logger:        cfg.Logger,
		base:          cfg.Transport,
		retry:         cfg.Retry,
		rateLimit:     cfg.RateLimit,
		limits:        cfg.Limits,
		margin:        cfg.TokenMargin,
		userAgent:     cfg.UserAgent,
		clock:         realClock{},
		installations: map[int64]*installation{},
	}
	if c.base == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.ResponseHeaderTimeout = 30 * time.Second
		c.base = t
	}
	if c.margin <= 0 {
		c.margin = 5 * time.Minute
	}
	if c.userAgent == "" {
		c.userAgent = "stagegate"
	}

	observed := chain(c.base, m.middleware(c.router, appLabel), newLogging(c.router, 0, c.logger))
	jwt, err := ghinstallation.NewAppsTransport(observed, cfg.AppID, cfg.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("ghclient: app private key: %w", err)
	}
	// AppsTransport only uses BaseURL when refreshing installation
	// tokens, which is done here instead; set for consistency.
	jwt.BaseURL = strings.TrimSuffix(api.String(), "/")
	c.app, err = c.newGitHubClient(chain(jwt,
		newRetry(c.retry, c.clock),
		newRateLimit(c.rateLimit, c.clock),
	))
	if err != nil {
		return nil, err
	}
	return c, nil
}

// App returns the client authenticated as the App itself (a JWT signed
// per request), for the /app endpoints.
func (c *Clients) App() (*github.Client, error) {
	return c.app, nil
}

// Installation returns the client of an installation, made on first use
// and cached: calls share one token and one write serializer.
func (c *Clients) Installation(ctx context.Context, installationID int64) (*github.Client, error) {
	inst, err := c.installation(ctx, installationID)
	if err != nil {
		return nil, err
	}
	return inst.client, nil
}

// ProgressInterval is the least time between two progress updates of
// one check that the installation's rate limits afford now: base while
// the budget is ample, longer as it shrinks.
func (c *Clients) ProgressInterval(ctx context.Context, installationID int64, base time.Duration) time.Duration {
	inst, err := c.installation(ctx, installationID)
	if err != nil {
		return base
	}
	return inst.budget.progressInterval(base)
}

// Token returns an installation token valid for at least the configured
// margin, and its expiry, for git. It is the token the installation's
// client uses. Callers must keep it out of logs, argv and URLs.
func (c *Clients) Token(ctx context.Context, installationID int64) (string, time.Time, error) {
	inst, err := c.installation(ctx, installationID)
	if err != nil {
		return "", time.Time{}, err
	}
	return inst.tokens.get(ctx)
}

func (c *Clients) installation(ctx context.Context, id int64) (*installation, error) {
	if id <= 0 {
		return nil, fmt.Errorf("ghclient: invalid installation id %d", id)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if inst, ok := c.installations[id]; ok {
		return inst, nil
	}
	tokens := newTokenSource(id, c.mint, c.margin, c.clock)
	b := newBudget(c.limits, c.rateLimit.withDefaults().MaxWait, c.clock)
	client, err := c.newGitHubClient(chain(c.base,
		newRetry(c.retry, c.clock),
		newRateLimit(c.rateLimit, c.clock),
		b.middleware,
		newAuth(tokens),
		c.metrics.middleware(c.router, strconv.FormatInt(id, 10)),
		newLogging(c.router, id, c.logger),
	))
	if err != nil {
		return nil, err
	}
	inst := &installation{client: client, tokens: tokens, budget: b}
	c.installations[id] = inst
	zerolog.Ctx(ctx).Debug().Int64(keyInstallation, id).Msg("github installation client created")
	return inst, nil
}

// mint creates an installation token through the App client. Minting is
// marked idempotent: a repeated POST only yields another valid token.
func (c *Clients) mint(ctx context.Context, id int64) (string, time.Time, error) {
	tok, _, err := c.app.Apps.CreateInstallationToken(WithIdempotentWrite(ctx), id, nil)
	if err != nil {
		return "", time.Time{}, err
	}
	return tok.GetToken(), tok.GetExpiresAt().Time, nil
}

func (c *Clients) newGitHubClient(rt http.RoundTripper) (*github.Client, error) {
	gh := github.NewClient(&http.Client{Transport: rt})
	if c.enterprise {
		var err error
		if gh, err = gh.WithEnterpriseURLs(c.api.String(), c.upload.String()); err != nil {
			return nil, fmt.Errorf("ghclient: base URL: %w", err)
		}
	} else {
		// WithEnterpriseURLs would append /api/uploads/ to an uploads.
		// host, so github.com-style roots are set as they are.
		u, up := *c.api, *c.upload
		gh.BaseURL, gh.UploadURL = &u, &up
	}
	gh.UserAgent = c.userAgent
	return gh, nil
}

// apiURLs resolves the REST and upload roots as go-github's
// WithEnterpriseURLs would, so that the client, the JWT and the route
// templates agree on the REST root. github.com's REST root is its "api."
// host, as is GitHub Enterprise Cloud's with data residency
// (api.SUBDOMAIN.ghe.com), with uploads on the "uploads." host; GitHub
// Enterprise Server's is /api/v3/ with uploads at /api/uploads/.
func apiURLs(raw string) (api, upload *url.URL, enterprise bool, err error) {
	if raw == "" {
		raw = DefaultBaseURL
	}
	api, err = url.Parse(raw)
	if err != nil {
		return nil, nil, false, fmt.Errorf("ghclient: base URL: %w", err)
	}
	if (api.Scheme != "https" && api.Scheme != "http") || api.Host == "" {
		return nil, nil, false, fmt.Errorf("ghclient: base URL %q: want an http(s) URL", raw)
	}
	if api.User != nil || api.RawQuery != "" || api.Fragment != "" {
		return nil, nil, false, fmt.Errorf("ghclient: base URL %q: want no credentials, query or fragment", raw)
	}
	api.RawPath = ""
	if !strings.HasSuffix(api.Path, "/") {
		api.Path += "/"
	}
	if rest, ok := strings.CutPrefix(api.Host, "api."); ok {
		return api, &url.URL{Scheme: api.Scheme, Host: "uploads." + rest, Path: "/"}, false, nil
	}
	if !strings.HasSuffix(api.Path, "/api/v3/") {
		api.Path += "api/v3/"
	}
	upload = &url.URL{Scheme: api.Scheme, Host: api.Host, Path: strings.TrimSuffix(api.Path, "v3/") + "uploads/"}
	return api, upload, true, nil
}

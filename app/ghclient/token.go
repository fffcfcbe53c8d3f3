package ghclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"
)

// tokenError is a failure to obtain an installation token. It is not
// retried by the installation client: minting already went through the
// App client's own retries.
type tokenError struct {
	installationID int64
	err            error
}

func (e *tokenError) Error() string {
	return fmt.Sprintf("ghclient: installation %d: token: %v", e.installationID, e.err)
}

func (e *tokenError) Unwrap() error { return e.err }

// mintFunc creates a new installation token.
type mintFunc func(ctx context.Context, installationID int64) (token string, expires time.Time, err error)

// tokenSource caches one installation's token, shared by its API client
// and by git, and mints a new one when the cached one has less than
// margin left.
//
// ghinstallation.Transport also caches and refreshes tokens (one minute
// before expiry), but it is not used for installations: its Expiry reads
// the token without its lock while a concurrent refresh decodes into the
// same struct (a data race), one minute is too little for a token handed
// to git, and its refresh requests bypass the middlewares. Here minting
// is an ordinary App-client call, retried, logged and counted.
type tokenSource struct {
	installationID int64
	mint           mintFunc
	margin         time.Duration
	clock          clock

	// lock is a one-slot semaphore rather than a sync.Mutex so that a
	// caller waiting behind a slow refresh can give up with its context.
	// It also makes refreshes single-flight.
	lock    chan struct{}
	token   string
	expires time.Time
}

func newTokenSource(id int64, mint mintFunc, margin time.Duration, clk clock) *tokenSource {
	return &tokenSource{installationID: id, mint: mint, margin: margin, clock: clk, lock: make(chan struct{}, 1)}
}

func (s *tokenSource) acquire(ctx context.Context) error {
	select {
	case s.lock <- struct{}{}:
		return nil
	case <-ctx.Done():
		return &tokenError{installationID: s.installationID, err: ctx.Err()}
	}
}

func (s *tokenSource) release() { <-s.lock }

// get returns a token valid for at least margin (unless GitHub issues
// shorter-lived ones) and its expiry.
func (s *tokenSource) get(ctx context.Context) (string, time.Time, error) {
	if err := s.acquire(ctx); err != nil {
		return "", time.Time{}, err
	}
	defer s.release()
	if s.token != "" && s.clock.Now().Add(s.margin).Before(s.expires) {
		return s.token, s.expires, nil
	}
	tok, exp, err := s.mint(ctx, s.installationID)
	if err != nil {
		return "", time.Time{}, &tokenError{installationID: s.installationID, err: err}
	}
	if tok == "" {
		return "", time.Time{}, &tokenError{installationID: s.installationID, err: fmt.Errorf("GitHub returned an empty token")}
	}
	s.token, s.expires = tok, exp
	return tok, exp, nil
}

// invalidate forgets tok if it is still the cached token, so that the
// next get mints a new one; a token already replaced is left alone.
func (s *tokenSource) invalidate(ctx context.Context, tok string) {
	if s.acquire(ctx) != nil {
		return
	}
	defer s.release()
	if s.token == tok {
		s.token, s.expires = "", time.Time{}
	}
}

// newAuth sets the installation token on each request. A 401 for a token
// believed valid means it was revoked or the clocks disagree about its
// expiry: the token is dropped and the request sent once more with a new
// one. That is safe for writes too, since GitHub refused the request
// before acting on it.
func newAuth(ts *tokenSource) middleware {
	return func(next http.RoundTripper) http.RoundTripper {
		return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
			ctx := req.Context()
			for n := 1; ; n++ {
				tok, _, err := ts.get(ctx)
				if err != nil {
					if n == 1 {
						closeBody(req)
					}
					return nil, err
				}
				r, ok := attemptRequest(req, n)
				if !ok {
					return nil, errReplay
				}
				r.Header.Set("Authorization", "token "+tok)
				resp, err := next.RoundTrip(r)
				if err != nil || resp.StatusCode != http.StatusUnauthorized || n > 1 || !replayable(req) {
					return resp, err
				}
				ts.invalidate(ctx, tok)
				discard(resp)
			}
		})
	}
}

// FetchToken mints a token for git that can read the contents of one
// repository, "owner/name", and nothing else: not the installation's
// other repositories, and no write of any kind
// (https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app,
// "repositories" and "permissions"). It is apart from the installation's
// API token, which can write checks and deployments to every repository
// of the installation, and it is minted for each fetch and never cached:
// a fetch of one run never holds a token another run could use.
func (c *Clients) FetchToken(ctx context.Context, installationID int64, repo string) (string, time.Time, error) {
	owner, name, ok := strings.Cut(repo, "/")
	if installationID <= 0 || !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return "", time.Time{}, fmt.Errorf("ghclient: fetch token for installation %d, repository %q: want owner/name", installationID, repo)
	}
	read := "read"
	tok, _, err := c.app.Apps.CreateInstallationToken(WithIdempotentWrite(ctx), installationID, &github.InstallationTokenOptions{
		Repositories: []string{name},
		Permissions:  &github.InstallationPermissions{Contents: &read},
	})
	if err != nil {
		return "", time.Time{}, &tokenError{installationID: installationID, err: err}
	}
	if tok.GetToken() == "" {
		return "", time.Time{}, &tokenError{installationID: installationID, err: errors.New("GitHub returned an empty token")}
	}
	return tok.GetToken(), tok.GetExpiresAt().Time, nil
}

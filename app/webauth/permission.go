package webauth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ErrSignedOut is returned by Permission when GitHub no longer accepts
// the user's token (revoked, or the App's authorization withdrawn): the
// user must sign in again.
var ErrSignedOut = errors.New("webauth: GitHub no longer accepts this sign-in")

// nameRE is what a repository owner or name may be; anything else never
// reaches a URL path.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,100}$`)

// Permission is the signed-in user's permission on owner/repo, read with
// the user's own token from GET /repos/{owner}/{repo}: its "permissions"
// say what the user may do, and a repository the user (or the App)
// cannot see is a 404. The answer is "admin", "maintain", "write",
// "triage", "read", or "" (not signed in, or no access). Answers are
// reused for PermissionTTL per user and repository.
func (a *Authenticator) Permission(ctx context.Context, r *http.Request, owner, repo string) (string, error) {
	s, ok := a.current(r)
	if !ok {
		return "", nil
	}
	if !nameRE.MatchString(owner) || !nameRE.MatchString(repo) || repo == "." || repo == ".." {
		return "", nil
	}
	key := strconv.FormatInt(s.ID, 10) + ":" + strings.ToLower(owner+"/"+repo)
	now := a.cfg.Now()
	if p, ok := a.perms.get(key, now); ok {
		return p, nil
	}
	gh, err := a.client(s.Token)
	if err != nil {
		return "", err
	}
	rp, resp, err := gh.Repositories.Get(ctx, owner, repo)
	switch {
	case err == nil:
	case resp != nil && resp.StatusCode == http.StatusNotFound:
		a.perms.put(key, "", now.Add(a.cfg.PermissionTTL))
		return "", nil
	case resp != nil && resp.StatusCode == http.StatusUnauthorized:
		// Revoked at GitHub (signed out elsewhere, or the user withdrew
		// the App's authorization): this session is over.
		a.revoked.add(s.Token, time.Unix(s.Exp, 0), now)
		return "", ErrSignedOut
	default:
		return "", fmt.Errorf("read %s/%s as %s: %w", owner, repo, s.Login, err)
	}
	p := strongest(rp.GetPermissions())
	a.perms.put(key, p, now.Add(a.cfg.PermissionTTL))
	return p, nil
}

// strongest maps GitHub's permission flags to the strongest role.
func strongest(flags map[string]bool) string {
	for _, f := range []struct{ flag, role string }{
		{"admin", "admin"}, {"maintain", "maintain"}, {"push", "write"}, {"triage", "triage"}, {"pull", "read"},
	} {
		if flags[f.flag] {
			return f.role
		}
	}
	return ""
}

// permCache holds answers until they expire, at most max of them: when
// full, expired answers go first, then arbitrary ones (an answer dropped
// early is only asked again).
type permCache struct {
	mu  sync.Mutex
	max int
	m   map[string]permEntry
}

type permEntry struct {
	perm string
	exp  time.Time
}

func newPermCache(max int) *permCache { return &permCache{max: max, m: map[string]permEntry{}} }

func (c *permCache) get(key string, now time.Time) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok || !now.Before(e.exp) {
		delete(c.m, key)
		return "", false
	}
	return e.perm, true
}

func (c *permCache) put(key, perm string, exp time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[key]; !ok && len(c.m) >= c.max {
		now := exp // anything expiring before this one's birth is stale
		for k, e := range c.m {
			if e.exp.Before(now) {
				delete(c.m, k)
			}
		}
		for k := range c.m {
			if len(c.m) < c.max {
				break
			}
			delete(c.m, k)
		}
	}
	c.m[key] = permEntry{perm: perm, exp: exp}
}

func (c *permCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// CSRFToken is the session's CSRF token, for the "csrf" field of forms;
// "" when nobody is signed in.
func (a *Authenticator) CSRFToken(r *http.Request) string {
	s, ok := a.current(r)
	if !ok {
		return ""
	}
	return s.CSRF
}

// VerifyCSRF reports whether a POST carries this session's CSRF token
// (form field "csrf", or header X-CSRF-Token) and, when the browser says
// where it comes from, comes from this site.
func (a *Authenticator) VerifyCSRF(r *http.Request) bool {
	s, ok := a.current(r)
	if !ok || s.CSRF == "" {
		return false
	}
	if o := r.Header.Get("Origin"); o != "" && o != a.origin {
		return false
	}
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		return false
	}
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		got = r.PostFormValue("csrf")
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(s.CSRF)) == 1
}

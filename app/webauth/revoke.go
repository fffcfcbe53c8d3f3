package webauth

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/go-github/v60/github"
)

// revoked remembers the tokens of sessions that ended before their
// cookie did: signed out here, or refused by GitHub. A session cookie is
// self-contained, so a copy taken before sign-out would otherwise live
// on until it expires; the token is also revoked at GitHub on sign-out,
// which ends such a copy on every replica at its next GitHub call.
type revoked struct {
	mu  sync.Mutex
	max int
	m   map[[32]byte]time.Time // token hash -> when the session would have ended
}

func newRevoked(max int) *revoked { return &revoked{max: max, m: map[[32]byte]time.Time{}} }

func (v *revoked) add(token string, until, now time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.m) >= v.max {
		for k, t := range v.m {
			if !now.Before(t) {
				delete(v.m, k)
			}
		}
		// Still full: forget the oldest-ending ones' share at random;
		// GitHub's revocation still holds for them.
		for k := range v.m {
			if len(v.m) < v.max {
				break
			}
			delete(v.m, k)
		}
	}
	v.m[sha256.Sum256([]byte(token))] = until
}

func (v *revoked) has(token string) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	_, ok := v.m[sha256.Sum256([]byte(token))]
	return ok
}

// revokeAtGitHub deletes the user's token at GitHub (DELETE
// /applications/{client_id}/token, Basic auth with the client's id and
// secret), so the token in any copy of the cookie stops working. It is
// best effort: sign-out succeeds here whatever GitHub answers.
func (a *Authenticator) revokeAtGitHub(ctx context.Context, token string) error {
	hc := &http.Client{
		Transport: &github.BasicAuthTransport{Username: a.cfg.ClientID, Password: a.cfg.ClientSecret, Transport: a.cfg.HTTPClient.Transport},
		Timeout:   10 * time.Second,
	}
	c := github.NewClient(hc)
	if strings.TrimSuffix(a.cfg.APIURL, "/") != "https://api.github.com" {
		var err error
		if c, err = c.WithEnterpriseURLs(a.cfg.APIURL, a.cfg.APIURL); err != nil {
			return err
		}
	}
	resp, err := c.Authorizations.Revoke(ctx, a.cfg.ClientID, token)
	if err != nil {
		return fmt.Errorf("revoke the token at GitHub: %w", err)
	}
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("revoke the token at GitHub: %s", resp.Status)
	}
	return nil
}

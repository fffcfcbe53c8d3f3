package webauth

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// refresher renews expired user tokens. A refresh token works once, so
// requests that arrive together with the same expired session share one
// renewal, and its result is kept briefly for those that come just after
// (their browser may still send the old cookie).
type refresher struct {
	a  *Authenticator
	mu sync.Mutex
	m  map[[32]byte]*refreshCall
}

type refreshCall struct {
	done chan struct{}
	s    session
	err  error
	at   time.Time
}

const (
	refreshKeep = 2 * time.Minute
	maxRefresh  = 4096
)

func newRefresher(a *Authenticator) *refresher {
	return &refresher{a: a, m: map[[32]byte]*refreshCall{}}
}

func (f *refresher) do(ctx context.Context, s session) (session, error) {
	if s.Refresh == "" {
		return session{}, errors.New("webauth: the token expired and there is no refresh token")
	}
	key := sha256.Sum256([]byte(s.Refresh))
	now := f.a.cfg.Now()
	f.mu.Lock()
	for k, c := range f.m {
		if len(f.m) < maxRefresh/2 {
			break
		}
		if now.Sub(c.at) > refreshKeep {
			delete(f.m, k)
		}
	}
	c := f.m[key]
	if c != nil && now.Sub(c.at) > refreshKeep {
		// A cookie that old was replaced long ago: it does not ride on
		// the renewal; renewing again fails, as the refresh token is spent.
		delete(f.m, key)
		c = nil
	}
	if c == nil && len(f.m) >= maxRefresh {
		f.mu.Unlock()
		return session{}, errors.New("webauth: too many renewals at once")
	}
	if c == nil {
		c = &refreshCall{done: make(chan struct{}), at: now}
		f.m[key] = c
		f.mu.Unlock()
		c.s, c.err = f.renew(s)
		close(c.done)
	} else {
		f.mu.Unlock()
	}
	select {
	case <-c.done:
		return c.s, c.err
	case <-ctx.Done():
		return session{}, ctx.Err()
	}
}

// renew runs on its own deadline, not the request's: a browser that gives
// up must not waste the single-use refresh token for the others.
func (f *refresher) renew(s session) (session, error) {
	ctx, cancel := context.WithTimeout(context.WithValue(context.Background(), oauth2.HTTPClient, f.a.cfg.HTTPClient), 30*time.Second)
	defer cancel()
	tok, err := f.a.oauth.TokenSource(ctx, &oauth2.Token{RefreshToken: s.Refresh, Expiry: time.Unix(1, 0)}).Token()
	if err != nil {
		return session{}, fmt.Errorf("webauth: renew %s's token: %s", s.Login, oauthError(err))
	}
	s.Token, s.Refresh, s.TokenExp = tok.AccessToken, tok.RefreshToken, 0
	if !tok.Expiry.IsZero() {
		s.TokenExp = f.a.tokenExpiry(tok)
	}
	return s, nil
}

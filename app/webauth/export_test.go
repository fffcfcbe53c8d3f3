package webauth

import "time"

// CacheLen is how many permission answers a holds.
func CacheLen(a *Authenticator) int { return a.perms.len() }

// SealSession seals a session for login under key, as a forger holding
// key would.
func SealSession(key []byte, login string, id int64, token string, until time.Time) (string, error) {
	s, err := newSealer(key)
	if err != nil {
		return "", err
	}
	return s.seal(sessionCookie, session{Login: login, ID: id, Token: token, Exp: until.Unix(), CSRF: "x"})
}

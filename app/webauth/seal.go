package webauth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// maxCookie bounds a cookie's value: browsers keep about 4096 bytes per
// cookie, and a larger value is refused before it is decoded.
const maxCookie = 3800

var errCookie = errors.New("cookie not made by this server")

// sealer encrypts and authenticates cookie values with AES-256-GCM. The
// cookie's purpose is the additional data, so a value sealed for one
// purpose (the login state) never opens as another (the session).
type sealer struct{ aead cipher.AEAD }

func newSealer(key []byte) (*sealer, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("session key: %d bytes, want %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("session key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("session key: %w", err)
	}
	return &sealer{aead: aead}, nil
}

func (s *sealer) seal(purpose string, v any) (string, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	out := base64.RawURLEncoding.EncodeToString(s.aead.Seal(nonce, nonce, plain, []byte(purpose)))
	if len(out) > maxCookie {
		return "", fmt.Errorf("%s cookie would be %d bytes, more than %d", purpose, len(out), maxCookie)
	}
	return out, nil
}

func (s *sealer) open(purpose, value string, v any) error {
	if len(value) > maxCookie {
		return errCookie
	}
	raw, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil || len(raw) < s.aead.NonceSize()+s.aead.Overhead() {
		return errCookie
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, raw[:n], raw[n:], []byte(purpose))
	if err != nil {
		return errCookie
	}
	if err := json.Unmarshal(plain, v); err != nil {
		return errCookie
	}
	return nil
}

// cookieJar names and writes the cookies. With an https public URL they
// are Secure and carry the __Host- prefix (the browser then refuses them
// from any other host or path); a plain http public URL is allowed only
// on a loopback address, for development, where cookies cannot be Secure.
type cookieJar struct {
	secure bool
	prefix string
}

func (j cookieJar) name(base string) string { return j.prefix + base }

func (j cookieJar) set(w http.ResponseWriter, base, value string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{
		Name: j.name(base), Value: value, Path: "/", MaxAge: int(maxAge.Seconds()),
		HttpOnly: true, Secure: j.secure, SameSite: http.SameSiteLaxMode,
	})
}

func (j cookieJar) clear(w http.ResponseWriter, base string) {
	http.SetCookie(w, &http.Cookie{Name: j.name(base), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: j.secure, SameSite: http.SameSiteLaxMode})
}

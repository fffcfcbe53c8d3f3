// Package oidc makes stagegate an OpenID Connect issuer, as GitHub
// Actions is one: it serves the discovery document and the public keys,
// and signs short-lived tokens that describe a run, which a cloud's
// identity service (AWS STS's AssumeRoleWithWebIdentity) exchanges for
// credentials under a trust policy that names the token's claims.
package oidc

import (
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// AudienceAWS is the audience AWS STS expects in a web identity token.
const AudienceAWS = "sts.amazonaws.com"

// Paths of the documents the issuer serves under its URL.
const (
	DiscoveryPath = "/.well-known/openid-configuration"
	JWKSPath      = "/.well-known/jwks"
)

// Issuer signs tokens for runs.
type Issuer struct {
	url string
	key *rsa.PrivateKey
	kid string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// New is the issuer at url (stagegate's public URL) signing with key.
func New(url string, key *rsa.PrivateKey) (*Issuer, error) {
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("OIDC key id: %w", err)
	}
	sum := sha256.Sum256(der)
	return &Issuer{
		url: strings.TrimSuffix(url, "/"),
		key: key,
		// The key's own hash: a new key gets a new id, so relying parties
		// that cache the JWKS fetch it again.
		kid: base64.RawURLEncoding.EncodeToString(sum[:16]),
	}, nil
}

// URL is the issuer identifier, the tokens' iss.
func (i *Issuer) URL() string { return i.url }

// Run describes the run a token is for.
type Run struct {
	// Repository is OWNER/REPO.
	Repository string
	// Ref is refs/heads/BRANCH, refs/tags/TAG or refs/pull/N/merge.
	Ref string
	SHA string
	// Event is push or pull_request.
	Event string
	// Environment is the deploy stage's environment; empty elsewhere.
	Environment string
	RunID       string
	Stage       string
	Action      string
	// Trusted is whether the run's code came from someone with write
	// access (not a fork's pull request).
	Trusted bool
}

// Subject is the token's sub, in the form of GitHub Actions' so that
// trust policies read the same:
//
//	repo:OWNER/REPO:environment:NAME      a deploy stage
//	repo:OWNER/REPO:ref:refs/heads/BRANCH a push to a branch
//	repo:OWNER/REPO:ref:refs/tags/TAG     a push of a tag
//	repo:OWNER/REPO:pull_request          a pull request
func Subject(r Run) string {
	switch {
	case r.Environment != "":
		return "repo:" + r.Repository + ":environment:" + r.Environment
	case r.Event == "pull_request":
		return "repo:" + r.Repository + ":pull_request"
	default:
		return "repo:" + r.Repository + ":ref:" + r.Ref
	}
}

// Claims are a token's claims.
type Claims struct {
	jwt.RegisteredClaims
	Repository  string `json:"repository"`
	RepoOwner   string `json:"repository_owner"`
	Ref         string `json:"ref"`
	SHA         string `json:"sha"`
	Event       string `json:"event_name"`
	Environment string `json:"environment,omitempty"`
	RunID       string `json:"run_id"`
	Stage       string `json:"stage,omitempty"`
	Action      string `json:"action,omitempty"`
	Trusted     bool   `json:"trusted"`
}

// Token signs a token for r, for audience, valid for ttl.
func (i *Issuer) Token(r Run, audience string, ttl time.Duration) (string, error) {
	now := time.Now
	if i.Now != nil {
		now = i.Now
	}
	t := now()
	owner, _, _ := strings.Cut(r.Repository, "/")
	c := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    i.url,
			Subject:   Subject(r),
			Audience:  jwt.ClaimStrings{audience},
			IssuedAt:  jwt.NewNumericDate(t),
			NotBefore: jwt.NewNumericDate(t.Add(-5 * time.Second)),
			ExpiresAt: jwt.NewNumericDate(t.Add(ttl)),
			ID:        r.RunID + "/" + r.Stage + "/" + r.Action + "/" + fmt.Sprint(t.UnixNano()),
		},
		Repository: r.Repository, RepoOwner: owner, Ref: r.Ref, SHA: r.SHA, Event: r.Event,
		Environment: r.Environment, RunID: r.RunID, Stage: r.Stage, Action: r.Action, Trusted: r.Trusted,
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	tok.Header["kid"] = i.kid
	s, err := tok.SignedString(i.key)
	if err != nil {
		return "", fmt.Errorf("sign OIDC token: %w", err)
	}
	return s, nil
}

// Handler serves the discovery document and the JWKS. Mount it at the
// root of the issuer URL's path.
func (i *Issuer) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+DiscoveryPath, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, map[string]any{
			"issuer":                                i.url,
			"jwks_uri":                              i.url + JWKSPath,
			"response_types_supported":              []string{"id_token"},
			"subject_types_supported":               []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
			"claims_supported": []string{"sub", "aud", "exp", "iat", "iss", "jti", "nbf",
				"repository", "repository_owner", "ref", "sha", "event_name", "environment", "run_id", "stage", "action", "trusted"},
			"scopes_supported": []string{"openid"},
		})
	})
	mux.HandleFunc("GET "+JWKSPath, func(w http.ResponseWriter, _ *http.Request) {
		pub := i.key.PublicKey
		writeJSON(w, map[string]any{"keys": []map[string]string{{
			"kty": "RSA", "use": "sig", "alg": "RS256", "kid": i.kid,
			"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
		}}})
	})
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	// Relying parties fetch these often; the key changes rarely.
	w.Header().Set("Cache-Control", "public, max-age=300")
	_ = json.NewEncoder(w).Encode(v)
}

package oidc_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"

	"github.com/stagegate/stagegate/oidc"
)

// serve starts the issuer's documents at an httptest URL, which is its
// issuer URL, as stagegate serves them at its public URL.
func serve(t *testing.T, key *rsa.PrivateKey) *oidc.Issuer {
	t.Helper()
	srv := httptest.NewServer(nil)
	t.Cleanup(srv.Close)
	iss, err := oidc.New(srv.URL, key)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = iss.Handler()
	return iss
}

func newKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := oidc.LoadOrCreateKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// verifier is go-oidc's, reading the served discovery document and JWKS.
func verifier(t *testing.T, iss *oidc.Issuer, audience string) *gooidc.IDTokenVerifier {
	t.Helper()
	p, err := gooidc.NewProvider(context.Background(), iss.URL())
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	return p.Verifier(&gooidc.Config{ClientID: audience})
}

func TestTokensVerifyAgainstServedDocuments(t *testing.T) {
	iss := serve(t, newKey(t))
	v := verifier(t, iss, oidc.AudienceAWS)
	tests := []struct {
		name    string
		run     oidc.Run
		wantSub string
	}{
		{"deploy", oidc.Run{Repository: "acme/web", Ref: "refs/heads/main", SHA: "abc", Event: "push", Environment: "production", RunID: "42", Stage: "prod", Action: "ship", Trusted: true},
			"repo:acme/web:environment:production"},
		{"branch", oidc.Run{Repository: "acme/web", Ref: "refs/heads/main", SHA: "abc", Event: "push", RunID: "43", Trusted: true},
			"repo:acme/web:ref:refs/heads/main"},
		{"tag", oidc.Run{Repository: "acme/web", Ref: "refs/tags/v1", SHA: "abc", Event: "push", RunID: "44", Trusted: true},
			"repo:acme/web:ref:refs/tags/v1"},
		{"pull request", oidc.Run{Repository: "acme/web", Ref: "refs/pull/7/merge", SHA: "def", Event: "pull_request", RunID: "45"},
			"repo:acme/web:pull_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := iss.Token(tt.run, oidc.AudienceAWS, 5*time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			tok, err := v.Verify(context.Background(), raw)
			if err != nil {
				t.Fatalf("go-oidc refuses the token: %v", err)
			}
			if tok.Subject != tt.wantSub || tok.Issuer != iss.URL() {
				t.Errorf("sub %q iss %q, want %q %q", tok.Subject, tok.Issuer, tt.wantSub, iss.URL())
			}
			var c oidc.Claims
			if err := tok.Claims(&c); err != nil {
				t.Fatal(err)
			}
			if c.Repository != "acme/web" || c.RepoOwner != "acme" || c.Ref != tt.run.Ref || c.SHA != tt.run.SHA ||
				c.Event != tt.run.Event || c.Environment != tt.run.Environment || c.RunID != tt.run.RunID || c.Trusted != tt.run.Trusted {
				t.Errorf("claims %+v for run %+v", c, tt.run)
			}
		})
	}
}

func TestVerifierRefuses(t *testing.T) {
	key := newKey(t)
	iss := serve(t, key)
	run := oidc.Run{Repository: "acme/web", Ref: "refs/heads/main", Event: "push", RunID: "1"}

	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	// A token signed by another key under the same issuer URL.
	forger, err := oidc.New(iss.URL(), other)
	if err != nil {
		t.Fatal(err)
	}
	forged, _ := forger.Token(run, oidc.AudienceAWS, time.Minute)
	old, _ := oidc.New(iss.URL(), key)
	old.Now = func() time.Time { return time.Now().Add(-time.Hour) }
	expired, _ := old.Token(run, oidc.AudienceAWS, 5*time.Minute)
	wrongAud, _ := iss.Token(run, "api://somewhere-else", time.Minute)

	v := verifier(t, iss, oidc.AudienceAWS)
	for name, tok := range map[string]string{"forged": forged, "expired": expired, "wrong audience": wrongAud} {
		if _, err := v.Verify(context.Background(), tok); err == nil {
			t.Errorf("%s token verified", name)
		}
	}
}

func TestSigningKeyKeptInDataDir(t *testing.T) {
	dir := t.TempDir()
	k1, err := oidc.LoadOrCreateKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, oidc.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	k2, err := oidc.LoadOrCreateKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !k1.Equal(k2) {
		t.Error("a second start made a new key; tokens signed before would no longer verify")
	}
	if err := os.WriteFile(filepath.Join(dir, oidc.KeyFile), []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := oidc.LoadOrCreateKey(dir); err == nil || !strings.Contains(err.Error(), "no PEM block") {
		t.Errorf("corrupt key: %v, want an error naming it", err)
	}
}

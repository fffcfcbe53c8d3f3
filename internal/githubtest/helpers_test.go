package githubtest

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-github/v60/github"
)

// fixture is a server with one org, one repo holding a first commit, and
// the main App installed on it.
type fixture struct {
	srv    *Server
	repo   *Repo
	instID int64
	sha    string // first commit on main
}

func newFixture(t *testing.T, opts ...Option) *fixture {
	t.Helper()
	srv := New(t, opts...)
	repo := srv.AddRepo("acme", "widgets")
	sha := repo.Commit("main", map[string]string{"README.md": "# widgets\n"}, "initial commit")
	inst := srv.AddInstallation("acme", "widgets")
	return &fixture{srv: srv, repo: repo, instID: inst, sha: sha}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

func enterprise(t *testing.T, srv *Server, hc *http.Client) *github.Client {
	t.Helper()
	c, err := github.NewClient(hc).WithEnterpriseURLs(srv.APIURL(), srv.APIURL())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// appClient authenticates as app with real JWTs (ghinstallation).
func appClient(t *testing.T, srv *Server, app *App) *github.Client {
	t.Helper()
	atr, err := ghinstallation.NewAppsTransport(http.DefaultTransport, app.ID, app.PrivateKeyPEM())
	if err != nil {
		t.Fatal(err)
	}
	atr.BaseURL = srv.URL + "/api/v3"
	return enterprise(t, srv, &http.Client{Transport: atr})
}

// instClient authenticates as an installation of app: ghinstallation gets
// tokens from POST /app/installations/{id}/access_tokens with a JWT.
func instClient(t *testing.T, srv *Server, app *App, instID int64) (*github.Client, *ghinstallation.Transport) {
	t.Helper()
	itr, err := ghinstallation.New(http.DefaultTransport, app.ID, instID, app.PrivateKeyPEM())
	if err != nil {
		t.Fatal(err)
	}
	itr.BaseURL = srv.URL + "/api/v3"
	return enterprise(t, srv, &http.Client{Transport: itr}), itr
}

func (f *fixture) client(t *testing.T) *github.Client {
	c, _ := instClient(t, f.srv, f.srv.App(), f.instID)
	return c
}

// token gets an installation token the way ghinstallation does.
func (f *fixture) token(t *testing.T) string {
	t.Helper()
	_, itr := instClient(t, f.srv, f.srv.App(), f.instID)
	tok, err := itr.Token(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// signJWT signs claims with key using golang-jwt, independently of the
// server's verifier.
func signJWT(t *testing.T, key *rsa.PrivateKey, method jwt.SigningMethod, claims jwt.MapClaims) string {
	t.Helper()
	var signKey any = key
	if method == jwt.SigningMethodHS256 {
		signKey = []byte("not-the-app-key")
	}
	s, err := jwt.NewWithClaims(method, claims).SignedString(signKey)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type response struct {
	status int
	header http.Header
	raw    []byte
}

// object decodes the body as a JSON object.
func (r response) object(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.raw, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, r.raw)
	}
	return m
}

// do sends a raw request; body may be nil, []byte/string (sent as is) or a
// value to JSON-encode.
func do(t *testing.T, method, url, auth string, body any) response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, raw: raw}
}

// wantGitHubError checks GitHub's error body shape and message.
func wantGitHubError(t *testing.T, r response, status int, message string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body %s", r.status, status, r.raw)
	}
	m := r.object(t)
	if m["message"] != message {
		t.Errorf("message = %q, want %q", m["message"], message)
	}
	if u, _ := m["documentation_url"].(string); !strings.HasPrefix(u, "https://docs.github.com/rest") {
		t.Errorf("documentation_url = %q", u)
	}
}

func ptr[T any](v T) *T { return &v }

package ghclient

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/stagegate/stagegate/internal/githubtest"
)

// syncBuffer is a log sink safe for the concurrent writes of a client.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type fake struct {
	srv     *githubtest.Server
	clients *Clients
	instID  int64
	logs    *syncBuffer
	ctx     context.Context
}

func newFake(t *testing.T, margin time.Duration, opts ...githubtest.Option) *fake {
	t.Helper()
	srv := githubtest.New(t, opts...)
	repo := srv.AddRepo("acme", "widgets")
	repo.Commit("main", map[string]string{"README.md": "# widgets\n"}, "initial commit")
	inst := srv.AddInstallation("acme", "widgets")
	logs := &syncBuffer{}
	clients, err := New(Config{
		BaseURL:     srv.APIURL(),
		AppID:       srv.AppID(),
		PrivateKey:  srv.PrivateKeyPEM(),
		Registry:    prometheus.NewRegistry(),
		Logger:      zerolog.New(logs).Level(zerolog.DebugLevel),
		TokenMargin: margin,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return &fake{srv: srv, clients: clients, instID: inst, logs: logs, ctx: ctx}
}

// assertNoTokens fails if any token the server issued is in the logs.
func (f *fake) assertNoTokens(t *testing.T) {
	t.Helper()
	toks := f.srv.IssuedTokens()
	if len(toks) == 0 {
		t.Fatal("setup: no token was issued")
	}
	logs := f.logs.String()
	if !strings.Contains(logs, `"route":"/app/installations/{id}/access_tokens"`) {
		t.Fatalf("setup: expected debug logs of the token request, got:\n%s", logs)
	}
	for _, tok := range toks {
		if strings.Contains(logs, tok) {
			t.Errorf("token %q... leaked into the logs", tok[:8])
		}
	}
}

func TestInstallationClientAgainstFakeGitHub(t *testing.T) {
	f := newFake(t, 0)
	gh, err := f.clients.Installation(f.ctx, f.instID)
	if err != nil {
		t.Fatal(err)
	}
	if gh.BaseURL.String() != f.srv.URL+"/api/v3/" {
		t.Errorf("BaseURL = %s, want the /api/v3/ root", gh.BaseURL)
	}
	repo, _, err := gh.Repositories.Get(f.ctx, "acme", "widgets")
	if err != nil {
		t.Fatal(err)
	}
	if repo.GetFullName() != "acme/widgets" {
		t.Errorf("repo = %s", repo.GetFullName())
	}
	again, _ := f.clients.Installation(f.ctx, f.instID)
	if again != gh {
		t.Error("Installation returned a new client for a cached installation")
	}

	mint := f.srv.CallsTo("POST /app/installations/{installation_id}/access_tokens")
	if len(mint) != 1 || mint[0].Cred != githubtest.CredAppJWT || !mint[0].Authenticated {
		t.Errorf("token requests = %+v, want one accepted app JWT", mint)
	}
	get := f.srv.CallsTo("GET /repos/{owner}/{repo}")
	if len(get) != 1 || get[0].Cred != githubtest.CredInstallationToken || !get[0].Authenticated || get[0].InstallationID != f.instID {
		t.Errorf("repo requests = %+v, want one accepted installation token", get)
	}

	// Token hands git the very token the client uses.
	tok, exp, err := f.clients.Token(f.ctx, f.instID)
	if err != nil {
		t.Fatal(err)
	}
	if issued := f.srv.IssuedTokens(); len(issued) != 1 || issued[0] != tok {
		t.Errorf("Token minted another token: issued %d", len(issued))
	}
	if time.Until(exp) < 50*time.Minute {
		t.Errorf("expiry %v, want about an hour away", exp)
	}
	f.assertNoTokens(t)
}

func TestAppClientUsesJWT(t *testing.T) {
	f := newFake(t, 0)
	app, err := f.clients.App()
	if err != nil {
		t.Fatal(err)
	}
	inst, _, err := app.Apps.GetInstallation(f.ctx, f.instID)
	if err != nil {
		t.Fatal(err)
	}
	if inst.GetID() != f.instID {
		t.Errorf("installation = %d", inst.GetID())
	}
	calls := f.srv.CallsTo("GET /app/installations/{installation_id}")
	if len(calls) != 1 || calls[0].Cred != githubtest.CredAppJWT || !calls[0].Authenticated {
		t.Errorf("calls = %+v", calls)
	}
}

func TestTokensRefreshBeforeExpiry(t *testing.T) {
	// Tokens live 4s (expires_at is in whole seconds, so 3 to 4s as the
	// client reads it) and are replaced when less than 2s is left: the
	// first is reused for at least a second and replaced after 2s, while
	// the server would still accept it.
	f := newFake(t, 2*time.Second, githubtest.WithTokenTTL(4*time.Second))
	gh, err := f.clients.Installation(f.ctx, f.instID)
	if err != nil {
		t.Fatal(err)
	}
	get := func() {
		t.Helper()
		if _, _, err := gh.Repositories.Get(f.ctx, "acme", "widgets"); err != nil {
			t.Fatal(err)
		}
	}
	get()
	tok1, _, err := f.clients.Token(f.ctx, f.instID)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(f.srv.IssuedTokens()); n != 1 {
		t.Fatalf("issued %d tokens, want the first reused", n)
	}
	time.Sleep(2100 * time.Millisecond)
	get() // under 2s left: refreshed before the request
	issued := f.srv.IssuedTokens()
	if len(issued) != 2 {
		t.Fatalf("issued %d tokens, want a refresh before expiry", len(issued))
	}
	tok2, exp2, err := f.clients.Token(f.ctx, f.instID)
	if err != nil {
		t.Fatal(err)
	}
	if tok2 == tok1 || tok2 != issued[1] || !exp2.After(time.Now()) {
		t.Errorf("after refresh Token gave the old or an unknown token (exp %v)", exp2)
	}
	// Every API call was accepted: no request went out with a dead token.
	for _, c := range f.srv.Calls() {
		if !c.Authenticated {
			t.Errorf("call %s %s rejected (%d)", c.Method, c.Path, c.Status)
		}
	}
	f.assertNoTokens(t)
}

func TestUnknownInstallation(t *testing.T) {
	f := newFake(t, 0)
	gh, err := f.clients.Installation(f.ctx, 999999)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = gh.Repositories.Get(f.ctx, "acme", "widgets")
	var er *github.ErrorResponse
	if err == nil || !strings.Contains(err.Error(), "installation 999999") {
		t.Errorf("err = %v, want a token error naming the installation", err)
	} else if !errors.As(err, &er) || er.Response.StatusCode != 404 {
		t.Errorf("err = %v, want GitHub's 404 wrapped", err)
	}
	if _, err := f.clients.Installation(f.ctx, 0); err == nil {
		t.Error("installation 0 accepted")
	}
}

func TestNewValidates(t *testing.T) {
	key := githubtest.New(t).PrivateKeyPEM()
	for name, cfg := range map[string]Config{
		"no app id":   {PrivateKey: key},
		"bad key":     {AppID: 1, PrivateKey: []byte("not a key")},
		"bad url":     {AppID: 1, PrivateKey: key, BaseURL: "ftp://ghe.example.com/"},
		"credentials": {AppID: 1, PrivateKey: key, BaseURL: "https://user:pw@ghe.example.com/api/v3/"},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New accepted %+v", name, cfg.BaseURL)
		}
	}
}

func TestAPIURLs(t *testing.T) {
	cases := []struct{ in, api, upload string }{
		{"", "https://api.github.com/", "https://uploads.github.com/"},
		{"https://api.github.com", "https://api.github.com/", "https://uploads.github.com/"},
		{"https://ghe.example.com/api/v3/", "https://ghe.example.com/api/v3/", "https://ghe.example.com/api/uploads/"},
		{"https://ghe.example.com/api/v3", "https://ghe.example.com/api/v3/", "https://ghe.example.com/api/uploads/"},
		{"https://ghe.example.com", "https://ghe.example.com/api/v3/", "https://ghe.example.com/api/uploads/"},
		{"https://api.acme.ghe.com/", "https://api.acme.ghe.com/", "https://uploads.acme.ghe.com/"},
	}
	key := githubtest.New(t).PrivateKeyPEM()
	for _, tc := range cases {
		c, err := New(Config{BaseURL: tc.in, AppID: 1, PrivateKey: key})
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		app, _ := c.App()
		if app.BaseURL.String() != tc.api || app.UploadURL.String() != tc.upload {
			t.Errorf("%q: client URLs %s %s, want %s %s", tc.in, app.BaseURL, app.UploadURL, tc.api, tc.upload)
		}
	}
}

package web_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stagegate/stagegate/app/store"
	"github.com/stagegate/stagegate/app/web"
)

// fakeAuth signs in whoever the request's X-Test-User header names, with
// the permissions of perms, and takes the CSRF token "good".
type fakeAuth struct {
	perms map[string]string // login → permission
}

func (f fakeAuth) CurrentLogin(r *http.Request) (string, bool) {
	u := r.Header.Get("X-Test-User")
	return u, u != ""
}

func (f fakeAuth) LoginRedirect(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
}

func (f fakeAuth) Permission(_ context.Context, r *http.Request, _, _ string) (string, error) {
	return f.perms[r.Header.Get("X-Test-User")], nil
}

func (f fakeAuth) CSRFToken(*http.Request) string  { return "good" }
func (f fakeAuth) VerifyCSRF(r *http.Request) bool { return r.PostFormValue("csrf") == "good" }

// fakeActions records the buttons pressed.
type fakeActions struct {
	mu    sync.Mutex
	calls []string
}

func (f *fakeActions) record(s string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, s)
	return nil
}

func (f *fakeActions) Rerun(_ context.Context, login, repo, runID string) error {
	return f.record("rerun " + login + " " + repo + " " + runID)
}

func (f *fakeActions) Cancel(_ context.Context, login, repo, runID string) error {
	return f.record("cancel " + login + " " + repo + " " + runID)
}

func (f *fakeActions) Deploy(_ context.Context, login, repo, runID, env string) error {
	return f.record("deploy " + login + " " + repo + " " + runID + " " + env)
}

const pipelineFile = `stages:
  - name: build
    actions:
      - name: compile
        run: make
      - name: lint
        run: make lint
  - name: production
    environment: production
    approval: manual
    actions:
      - name: ship
        run: ./ship
`

type fixture struct {
	db      *store.DB
	srv     *httptest.Server
	actions *fakeActions
	hub     *web.Hub
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "stagegate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db, actions: &fakeActions{}, hub: web.NewHub()}
	s, err := web.New(web.Config{Store: db, Auth: fakeAuth{perms: map[string]string{"writer": "write", "reader": "read"}},
		Actions: f.actions, Hub: f.hub, PollEvery: 200 * time.Millisecond, StreamFor: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	s.Routes(mux)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func newServer(t testing.TB, h http.Handler) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// addRun stores a run of repo on branch whose build stage ran: compile
// printed lines and failed.
func (f *fixture) addRun(t testing.TB, repo, branch string, lines []string) store.Run {
	t.Helper()
	ctx := context.Background()
	run, err := f.db.CreateRun(ctx, store.Run{Repo: repo, SHA: "0123456789abcdef0123456789abcdef01234567", Event: "push",
		Branch: branch, Actor: "alice", Pipeline: pipelineFile, PipelinePath: ".stagegate.yml"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.db.SetRunStatus(ctx, run.ID, store.StatusInProgress); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	must(t, f.db.UpsertStage(ctx, store.Stage{RunID: run.ID, Name: "build", Status: store.StatusInProgress, StartedAt: now}))
	must(t, f.db.RecordAction(ctx, store.Action{RunID: run.ID, Stage: "build", Name: "compile", Attempt: 1, Status: "in_progress", Started: now}))
	f.appendLines(t, run.ID, "build", "compile", lines)
	return run
}

func (f *fixture) appendLines(t testing.TB, runID, stage, action string, lines []string) {
	t.Helper()
	for len(lines) > 0 {
		n := min(len(lines), 5000)
		batch := make([]store.LogLine, n)
		for i, text := range lines[:n] {
			batch[i] = store.LogLine{RunID: runID, Stage: stage, Action: action, Stream: "stdout", Text: text}
		}
		must(t, f.db.AppendLogLines(context.Background(), batch))
		lines = lines[n:]
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) get(t *testing.T, path, user string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, f.srv.URL+path, nil)
	must(t, err)
	if user != "" {
		req.Header.Set("X-Test-User", user)
	}
	resp, err := noRedirect.Do(req)
	must(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	must(t, err)
	return resp, string(b)
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func TestAccess(t *testing.T) {
	f := newFixture(t)
	pub := f.addRun(t, "acme/open", "main", []string{"hello"})
	priv := f.addRun(t, "acme/secret", "main", []string{"classified"})
	unknown := f.addRun(t, "acme/unseen", "main", []string{"never described"})
	ctx := context.Background()
	must(t, f.db.SetRepoPrivate(ctx, "acme/open", false))
	must(t, f.db.SetRepoPrivate(ctx, "acme/secret", true))

	tests := []struct {
		name, path, user string
		want             int
		location         string
	}{
		{"public run, signed out", "/acme/open/runs/" + pub.ID, "", http.StatusOK, ""},
		{"public repo page", "/acme/open", "", http.StatusOK, ""},
		{"public badge", "/acme/open/badge.svg?branch=main", "", http.StatusOK, ""},
		{"private run, signed out", "/acme/secret/runs/" + priv.ID, "", http.StatusSeeOther, "/login?next="},
		{"private repo, signed out", "/acme/secret", "", http.StatusSeeOther, "/login?next="},
		{"private badge, signed out", "/acme/secret/badge.svg?branch=main", "", http.StatusSeeOther, "/login?next="},
		{"private raw log, signed out", "/acme/secret/runs/" + priv.ID + "/log.txt?stage=build&action=compile", "", http.StatusSeeOther, "/login?next="},
		{"private events, signed out", "/acme/secret/runs/" + priv.ID + "/events", "", http.StatusSeeOther, "/login?next="},
		{"private run, non-reader", "/acme/secret/runs/" + priv.ID, "stranger", http.StatusNotFound, ""},
		{"private raw log, non-reader", "/acme/secret/runs/" + priv.ID + "/log.txt?stage=build&action=compile", "stranger", http.StatusNotFound, ""},
		{"private run, reader", "/acme/secret/runs/" + priv.ID, "reader", http.StatusOK, ""},
		{"private repo, reader", "/acme/secret", "reader", http.StatusOK, ""},
		{"never described is private", "/acme/unseen/runs/" + unknown.ID, "", http.StatusSeeOther, "/login?next="},
		{"run under another repo", "/acme/open/runs/" + priv.ID, "reader", http.StatusNotFound, ""},
		{"bad owner", "/acme%3Cx/open", "", http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := f.get(t, tt.path, tt.user)
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d: %.200s", resp.StatusCode, tt.want, body)
			}
			if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, tt.location) {
				t.Errorf("Location %q, want prefix %q", loc, tt.location)
			}
			if strings.Contains(body, "classified") && tt.user != "reader" {
				t.Errorf("the private log leaked: %.300s", body)
			}
		})
	}
	// The organisation's page lists only what the asker may see.
	_, body := f.get(t, "/acme", "")
	if !strings.Contains(body, "open") || strings.Contains(body, "secret") || strings.Contains(body, "unseen") {
		t.Errorf("organisation page signed out lists the wrong repositories:\n%s", body)
	}
	_, body = f.get(t, "/acme", "reader")
	if !strings.Contains(body, "secret") {
		t.Errorf("organisation page hides a private repository from its reader:\n%s", body)
	}
}

func TestSecurityHeaders(t *testing.T) {
	f := newFixture(t)
	run := f.addRun(t, "acme/open", "main", []string{"hello"})
	must(t, f.db.SetRepoPrivate(context.Background(), "acme/open", false))
	resp, _ := f.get(t, "/acme/open/runs/"+run.ID, "")
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'", "default-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP allows inline script or style: %q", csp)
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("X-Content-Type-Options %q", resp.Header.Get("X-Content-Type-Options"))
	}
}

func TestButtons(t *testing.T) {
	f := newFixture(t)
	run := f.addRun(t, "acme/open", "main", []string{"hello"})
	must(t, f.db.SetRepoPrivate(context.Background(), "acme/open", false))
	path := "/acme/open/runs/" + run.ID

	// Only a writer sees the buttons.
	if _, body := f.get(t, path, "reader"); strings.Contains(body, "/cancel") {
		t.Error("a reader is shown the Cancel button")
	}
	if _, body := f.get(t, path, ""); strings.Contains(body, "/cancel") {
		t.Error("a signed-out visitor is shown the Cancel button")
	}
	if _, body := f.get(t, path, "writer"); !strings.Contains(body, `action="`+path+`/cancel"`) || !strings.Contains(body, `name="csrf" value="good"`) {
		t.Errorf("a writer is not shown the Cancel button with its CSRF token:\n%s", body)
	}

	post := func(user, button string, form url.Values) *http.Response {
		req, err := http.NewRequest(http.MethodPost, f.srv.URL+path+"/"+button, strings.NewReader(form.Encode()))
		must(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if user != "" {
			req.Header.Set("X-Test-User", user)
		}
		resp, err := noRedirect.Do(req)
		must(t, err)
		resp.Body.Close()
		return resp
	}
	tests := []struct {
		name, user, button string
		form               url.Values
		want               int
	}{
		{"no CSRF token", "writer", "cancel", url.Values{}, http.StatusForbidden},
		{"wrong CSRF token", "writer", "cancel", url.Values{"csrf": {"forged"}}, http.StatusForbidden},
		{"reader", "reader", "cancel", url.Values{"csrf": {"good"}}, http.StatusForbidden},
		{"signed out", "", "cancel", url.Values{"csrf": {"good"}}, http.StatusSeeOther},
		{"unknown button", "writer", "explode", url.Values{"csrf": {"good"}}, http.StatusNotFound},
		{"cancel", "writer", "cancel", url.Values{"csrf": {"good"}}, http.StatusSeeOther},
		{"deploy", "writer", "deploy", url.Values{"csrf": {"good"}, "environment": {"production"}}, http.StatusSeeOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if resp := post(tt.user, tt.button, tt.form); resp.StatusCode != tt.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
	want := []string{"cancel writer acme/open " + run.ID, "deploy writer acme/open " + run.ID + " production"}
	if fmt.Sprint(f.actions.calls) != fmt.Sprint(want) {
		t.Errorf("actions called %q, want %q", f.actions.calls, want)
	}
}

func TestHostileContentIsEscaped(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	evilBranch := `"><script>alert(1)</script>`
	run := f.addRun(t, "acme/open", evilBranch, []string{
		`<script>alert("log")</script>`,
		"\x1b[31m<img src=x onerror=alert(2)>\x1b[0m plain",
		"\x1b]8;;javascript:alert(3)\x07link\x1b]8;;\x07",
	})
	must(t, f.db.SetRepoPrivate(ctx, "acme/open", false))
	// Names the pipeline file never allows, written to the store directly.
	evilAction := `x"><svg onload=alert(4)>`
	must(t, f.db.RecordAction(ctx, store.Action{RunID: run.ID, Stage: "build", Name: evilAction, Attempt: 1, Status: "failure", Started: time.Now()}))
	f.appendLines(t, run.ID, "build", evilAction, []string{"from the evil action"})

	for _, path := range []string{
		"/acme/open/runs/" + run.ID,
		"/acme/open/runs/" + run.ID + "?stage=build&action=" + url.QueryEscape(evilAction),
		"/acme/open/runs/" + run.ID + "?stage=build&action=compile&q=" + url.QueryEscape("<script>"),
		"/acme/open",
		"/acme",
	} {
		resp, body := f.get(t, path, "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d", path, resp.StatusCode)
		}
		for _, bad := range []string{"<script>alert", "<img src=x", "<svg onload", "javascript:alert", "\x1b"} {
			if strings.Contains(body, bad) {
				t.Errorf("%s: the page contains %q unescaped", path, bad)
			}
		}
	}
	_, body := f.get(t, "/acme/open/runs/"+run.ID+"?stage=build&action=compile", "")
	for _, want := range []string{`&lt;script&gt;alert(&#34;log&#34;)&lt;/script&gt;`, `<span class="f2">&lt;img src=x onerror=alert(2)&gt;</span> plain`, ">link<"} {
		if !strings.Contains(body, want) {
			t.Errorf("the log does not show %q", want)
		}
	}
	// The raw log is plain text, never sniffed as HTML.
	resp, raw := f.get(t, "/acme/open/runs/"+run.ID+"/log.txt?stage=build&action=compile", "")
	if ct := resp.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("raw log served as %q, nosniff %q", ct, resp.Header.Get("X-Content-Type-Options"))
	}
	if !strings.HasPrefix(raw, `<script>alert("log")</script>`+"\n") {
		t.Errorf("raw log is not the log as stored: %q", raw)
	}
}

func TestLargeLogIsPaged(t *testing.T) {
	f := newFixture(t)
	lines := make([]string, 5500)
	for i := range lines {
		lines[i] = fmt.Sprintf("line %d of the build %s", i+1, strings.Repeat("x", 60))
	}
	run := f.addRun(t, "acme/open", "main", lines)
	must(t, f.db.SetRepoPrivate(context.Background(), "acme/open", false))
	base := "/acme/open/runs/" + run.ID

	// The page shows the tail, not the whole log.
	_, body := f.get(t, base+"?stage=build&action=compile", "")
	if !strings.Contains(body, `id="L5500"`) || !strings.Contains(body, `id="L4501"`) || strings.Contains(body, `id="L4500"`) {
		t.Error("the page does not show exactly the last 1000 lines")
	}
	if len(body) > 300<<10 {
		t.Errorf("the page of a 500 KB log is %d bytes", len(body))
	}
	// ?from= pages by line number; a line's link names its page.
	_, body = f.get(t, base+"?stage=build&action=compile&from=2001", "")
	if !strings.Contains(body, "line 2001 of the build") || !strings.Contains(body, `id="L3000"`) || strings.Contains(body, `id="L3001"`) {
		t.Error("?from=2001 does not show lines 2001-3000")
	}
	if !strings.Contains(body, `href="?stage=build&amp;action=compile&amp;from=2001#L2345"`) {
		t.Error("a line's link does not name its page and anchor")
	}
	// A search finds a line far before the tail, with its number.
	_, body = f.get(t, base+"?stage=build&action=compile&q="+url.QueryEscape("line 77 of"), "")
	if !strings.Contains(body, "from=1#L77") {
		t.Error("search does not link the match at line 77")
	}
	// The raw log is every line, in order.
	resp, err := http.Get(f.srv.URL + base + "/log.txt?stage=build&action=compile")
	must(t, err)
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	n := 0
	for sc.Scan() {
		if sc.Text() != lines[n] {
			t.Fatalf("raw line %d is %q, want %q", n+1, sc.Text(), lines[n])
		}
		n++
	}
	if n != len(lines) {
		t.Errorf("raw log has %d lines, want %d", n, len(lines))
	}
}

func TestRunPageSize(t *testing.T) {
	f := newFixture(t)
	run := f.addRun(t, "acme/open", "main", nil)
	must(t, f.db.SetRepoPrivate(context.Background(), "acme/open", false))
	_, body := f.get(t, "/acme/open/runs/"+run.ID, "writer")
	if len(body) > 50<<10 {
		t.Errorf("run page without logs is %d bytes, want at most 50 KB", len(body))
	}
	for _, want := range []string{"build", "compile", "lint", "production", "ship", "running", "pending"} {
		if !strings.Contains(body, want) {
			t.Errorf("run page lacks %q", want)
		}
	}
}

func TestBadge(t *testing.T) {
	f := newFixture(t)
	run := f.addRun(t, "acme/open", "main", nil)
	ctx := context.Background()
	must(t, f.db.SetRepoPrivate(ctx, "acme/open", false))
	must(t, f.db.FinishRun(ctx, run.ID, "failure", "compile failed"))
	tests := []struct{ branch, word string }{{"main", "failed"}, {"nope", "no runs"}, {"<x>", "no runs"}}
	for _, tt := range tests {
		resp, body := f.get(t, "/acme/open/badge.svg?branch="+url.QueryEscape(tt.branch), "")
		if resp.Header.Get("Content-Type") != "image/svg+xml" || !strings.HasPrefix(resp.Header.Get("Cache-Control"), "public, max-age=30") {
			t.Errorf("badge headers: %v", resp.Header)
		}
		if !strings.HasPrefix(body, "<svg") || !strings.Contains(body, ">"+tt.word+"</text>") {
			t.Errorf("badge of %q: %s", tt.branch, body)
		}
	}
	// A private repository's badge, shown to its reader, is no shared
	// cache's to keep.
	f.addRun(t, "acme/secret", "main", nil)
	must(t, f.db.SetRepoPrivate(ctx, "acme/secret", true))
	resp, _ := f.get(t, "/acme/secret/badge.svg?branch=main", "reader")
	if cc := resp.Header.Get("Cache-Control"); !strings.HasPrefix(cc, "private") {
		t.Errorf("private badge Cache-Control %q", cc)
	}
}

package githubtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-github/v60/github"
)

// receiver is a webhook endpoint that records what it gets.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	status int
	got    []*http.Request
	bodies [][]byte
}

func newReceiver(t *testing.T, status int) *receiver {
	rv := &receiver{status: status}
	rv.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rv.mu.Lock()
		rv.got, rv.bodies = append(rv.got, r), append(rv.bodies, b)
		status := rv.status
		rv.mu.Unlock()
		w.Header().Set("X-Receiver", "yes")
		w.WriteHeader(status)
		fmt.Fprint(w, "received")
	}))
	t.Cleanup(rv.Close)
	return rv
}

func (rv *receiver) last(t *testing.T) (*http.Request, []byte) {
	t.Helper()
	rv.mu.Lock()
	defer rv.mu.Unlock()
	if len(rv.got) == 0 {
		t.Fatal("receiver got nothing")
	}
	return rv.got[len(rv.got)-1], rv.bodies[len(rv.bodies)-1]
}

func TestDeliverAsHookshot(t *testing.T) {
	f := newFixture(t)
	rv := newReceiver(t, http.StatusAccepted)
	app := f.srv.App()
	app.SetWebhook(rv.URL+"/webhook", "s3cret")
	body := f.repo.Webhook("check_run.rerequested", nil)
	guid, status := f.srv.Deliver(app, "check_run", "", body)
	if status != http.StatusAccepted || guid == "" {
		t.Fatalf("Deliver = %q, %d", guid, status)
	}
	req, got := rv.last(t)
	h := req.Header
	if string(got) != string(body) || req.URL.Path != "/webhook" || h.Get("X-GitHub-Event") != "check_run" ||
		h.Get("X-GitHub-Delivery") != guid || h.Get("X-GitHub-Hook-ID") == "" ||
		h.Get("X-GitHub-Hook-Installation-Target-ID") != fmt.Sprint(app.ID) ||
		h.Get("X-GitHub-Hook-Installation-Target-Type") != "integration" ||
		h.Get("X-Hub-Signature-256") != Sign([]byte("s3cret"), body) || h.Get("X-Hub-Signature") != SignSHA1([]byte("s3cret"), body) ||
		!strings.HasPrefix(h.Get("User-Agent"), "GitHub-Hookshot/") || h.Get("Content-Type") != "application/json" {
		t.Errorf("request %s %v", req.URL, h)
	}

	ds := f.srv.HookDeliveries(app)
	if len(ds) != 1 {
		t.Fatalf("deliveries = %+v", ds)
	}
	d := ds[0]
	if d.GUID != guid || d.Event != "check_run" || d.Action != "rerequested" || d.InstallationID != f.instID ||
		d.RepositoryID != f.repo.ID || d.StatusCode != 202 || d.Status != "OK" || d.Redelivery || d.ResponseBody != "received" {
		t.Errorf("delivery = %+v", d)
	}

	c := appClient(t, f.srv, app)
	full, _, err := c.Apps.GetHookDelivery(ctx(t), d.ID)
	if err != nil {
		t.Fatal(err)
	}
	var payload, resp any
	if err := json.Unmarshal(*full.Request.RawPayload, &payload); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(*full.Response.RawPayload, &resp); err != nil {
		t.Fatal(err)
	}
	if full.GetGUID() != guid || full.GetStatusCode() != 202 || full.GetInstallationID() != f.instID ||
		full.GetRepositoryID() != f.repo.ID || full.Request.Headers["X-GitHub-Delivery"] != guid ||
		full.Request.Headers["X-Hub-Signature-256"] != h.Get("X-Hub-Signature-256") ||
		GetPath(payload.(map[string]any), "action") != "rerequested" || resp != "received" ||
		full.Response.Headers["X-Receiver"] != "yes" {
		t.Errorf("detail = %+v", full)
	}

	// A secretless hook sends no signatures.
	app.SetWebhook(rv.URL, "")
	f.srv.Deliver(app, "ping", "", []byte(`{"zen":"Keep it logically awesome."}`))
	if req, _ := rv.last(t); req.Header.Get("X-Hub-Signature-256") != "" || req.Header.Get("X-Hub-Signature") != "" {
		t.Errorf("unsigned delivery has signatures: %v", req.Header)
	}
}

func TestDeliverFailures(t *testing.T) {
	f := newFixture(t)
	app := f.srv.App()
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	app.SetWebhook(down.URL, "s")
	body := f.repo.Webhook("push", nil)
	guid, status := f.srv.Deliver(app, "push", "", body)
	if status != 0 {
		t.Errorf("status = %d, want 0", status)
	}
	rv := newReceiver(t, http.StatusInternalServerError)
	app.SetWebhook(rv.URL, "s")
	f.srv.Deliver(app, "push", "", body)
	redirect := httptest.NewServer(http.RedirectHandler(rv.URL, http.StatusFound))
	defer redirect.Close()
	app.SetWebhook(redirect.URL, "s")
	f.srv.Deliver(app, "push", "", body)
	failed := f.srv.RecordFailedDelivery(app, "pull_request", "opened", f.repo.Webhook("pull_request.opened", nil))

	list, _, err := appClient(t, f.srv, app).Apps.ListHookDeliveries(ctx(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		guid   string
		code   int
		status string
	}{
		{failed, 502, "Invalid HTTP Response: 502"},
		{"", 302, "Invalid HTTP Response: 302"}, // redirects are not followed
		{"", 500, "Invalid HTTP Response: 500"},
		{guid, 0, "failed to connect to host"},
	}
	if len(list) != len(want) {
		t.Fatalf("list = %v", list)
	}
	for i, w := range want {
		d := list[i]
		if (w.guid != "" && d.GetGUID() != w.guid) || d.GetStatusCode() != w.code || d.GetStatus() != w.status || d.StatusCode == nil {
			t.Errorf("delivery %d = %v, want %+v", i, d, w)
		}
	}
	if list[0].GetAction() != "opened" || list[0].GetEvent() != "pull_request" || list[0].GetRepositoryID() != f.repo.ID {
		t.Errorf("recorded failure = %v", list[0])
	}
	if calls := rv.got; len(calls) != 1 {
		t.Errorf("receiver got %d requests, want 1 (no redirect followed, nothing sent for the recorded failure)", len(calls))
	}
}

func TestListHookDeliveriesCursorPaging(t *testing.T) {
	f := newFixture(t)
	app := f.srv.App()
	rv := newReceiver(t, 200)
	app.SetWebhook(rv.URL, "s")
	var guids []string
	for i := range 7 {
		if i%3 == 0 {
			guids = append(guids, f.srv.RecordFailedDelivery(app, "push", "", f.repo.Webhook("push", nil)))
		} else {
			g, _ := f.srv.Deliver(app, "push", "", f.repo.Webhook("push", nil))
			guids = append(guids, g)
		}
	}
	other := f.srv.AddApp("other") // other Apps' deliveries are not listed
	other.SetWebhook(rv.URL, "x")
	f.srv.RecordFailedDelivery(other, "push", "", []byte(`{}`))
	c := appClient(t, f.srv, app)

	opts := &github.ListCursorOptions{PerPage: 3}
	var sizes []int
	var got []string
	lastID := int64(1 << 62)
	for {
		page, resp, err := c.Apps.ListHookDeliveries(ctx(t), opts)
		if err != nil {
			t.Fatal(err)
		}
		if link := resp.Header.Get("Link"); link != "" && (!strings.Contains(link, "cursor=") || strings.Contains(link, "?page=") || strings.Contains(link, "&page=") ||
			!strings.Contains(link, `rel="next"`)) {
			t.Errorf("Link = %s", link)
		}
		sizes = append(sizes, len(page))
		for _, d := range page {
			if d.GetID() >= lastID {
				t.Errorf("not newest first: %d after %d", d.GetID(), lastID)
			}
			lastID = d.GetID()
			got = append(got, d.GetGUID())
		}
		if resp.Cursor == "" {
			break
		}
		opts.Cursor = resp.Cursor
	}
	if fmt.Sprint(sizes) != "[3 3 1]" {
		t.Errorf("page sizes = %v", sizes)
	}
	for i, g := range got {
		if g != guids[len(guids)-1-i] {
			t.Errorf("item %d = %s, want %s", i, g, guids[len(guids)-1-i])
		}
	}

	// status filter, default and maximum per_page.
	fails, _, err := c.Apps.ListHookDeliveries(ctx(t), nil)
	if err != nil || len(fails) != 7 {
		t.Fatalf("all: %d, %v", len(fails), err)
	}
	r := do(t, "GET", f.srv.APIURL()+"app/hook/deliveries?status=failure", "Bearer "+appJWT(t, f.srv, app), nil)
	var failures []map[string]any
	if err := json.Unmarshal(r.raw, &failures); err != nil || len(failures) != 3 || failures[0]["status_code"] != 502.0 {
		t.Errorf("status=failure: %s", r.raw)
	}
	r = do(t, "GET", f.srv.APIURL()+"app/hook/deliveries?status=success&per_page=2", "Bearer "+appJWT(t, f.srv, app), nil)
	if err := json.Unmarshal(r.raw, &failures); err != nil || len(failures) != 2 || failures[0]["status"] != "OK" ||
		!strings.Contains(r.header.Get("Link"), "status=success") {
		t.Errorf("status=success: %s %v", r.raw, r.header)
	}
	r = do(t, "GET", f.srv.APIURL()+"app/hook/deliveries?status=bogus", "Bearer "+appJWT(t, f.srv, app), nil)
	if r.status != 422 {
		t.Errorf("status=bogus: %d", r.status)
	}
	r = do(t, "GET", f.srv.APIURL()+"app/hook/deliveries?cursor=nonsense", "Bearer "+appJWT(t, f.srv, app), nil)
	if r.status != 400 {
		t.Errorf("bad cursor: %d", r.status)
	}
	for range 94 {
		f.srv.RecordFailedDelivery(app, "push", "", []byte(`{}`))
	}
	for _, tc := range []struct {
		per  int
		want int
	}{{0, 30}, {150, 100}} {
		list, resp, err := c.Apps.ListHookDeliveries(ctx(t), &github.ListCursorOptions{PerPage: tc.per})
		if err != nil || len(list) != tc.want || resp.Cursor == "" {
			t.Errorf("per_page %d: %d items, cursor %q, %v", tc.per, len(list), resp.Cursor, err)
		}
	}
}

func appJWT(t *testing.T, srv *Server, app *App) string {
	now := srv.Now().Unix()
	return signJWT(t, app.PrivateKey(), jwt.SigningMethodRS256, jwt.MapClaims{"iss": app.ID, "iat": now - 30, "exp": now + 300})
}

func TestRedeliverKeepsGUID(t *testing.T) {
	f := newFixture(t)
	app := f.srv.App()
	app.SetWebhook("http://127.0.0.1:1/old", "old-secret")
	body := f.repo.Webhook("issue_comment.created", nil)
	guid := f.srv.RecordFailedDelivery(app, "issue_comment", "created", body)
	orig := f.srv.HookDeliveries(app)[0]

	// The App moved: redeliveries go to the current URL, signed with the
	// current secret.
	rv := newReceiver(t, 200)
	app.SetWebhook(rv.URL+"/hook", "new-secret")
	c := appClient(t, f.srv, app)
	_, resp, err := c.Apps.RedeliverHookDelivery(ctx(t), orig.ID)
	var accepted *github.AcceptedError
	if !errors.As(err, &accepted) || resp.StatusCode != http.StatusAccepted || strings.TrimSpace(string(accepted.Raw)) != "{}" {
		t.Fatalf("redeliver: %v (status %v)", err, resp)
	}
	f.srv.WaitDeliveries()
	req, got := rv.last(t)
	if req.Header.Get("X-GitHub-Delivery") != guid || string(got) != string(body) || req.URL.Path != "/hook" ||
		req.Header.Get("X-Hub-Signature-256") != Sign([]byte("new-secret"), body) || req.Header.Get("X-GitHub-Event") != "issue_comment" {
		t.Errorf("redelivery request: %v", req.Header)
	}
	ds := f.srv.HookDeliveries(app)
	if len(ds) != 2 {
		t.Fatalf("deliveries = %d", len(ds))
	}
	re := ds[1]
	if re.GUID != guid || re.ID == orig.ID || !re.Redelivery || re.StatusCode != 200 || re.Action != "created" ||
		re.InstallationID != f.instID || re.URL != rv.URL+"/hook" {
		t.Errorf("redelivery = %+v", re)
	}
	list, _, err := c.Apps.ListHookDeliveries(ctx(t), nil)
	if err != nil || len(list) != 2 || list[0].GetID() != re.ID || !list[0].GetRedelivery() || list[1].GetRedelivery() {
		t.Errorf("list = %v, %v", list, err)
	}

	// Unknown ids, other Apps' deliveries and deliveries older than 3 days
	// are 404; an inactive hook cannot be redelivered to.
	other := f.srv.AddApp("other")
	other.SetWebhook(rv.URL, "x")
	f.srv.RecordFailedDelivery(other, "push", "", []byte(`{}`))
	theirs := f.srv.HookDeliveries(other)[0].ID
	for _, id := range []int64{999999, theirs} {
		if _, resp, err := c.Apps.RedeliverHookDelivery(ctx(t), id); err == nil || resp.StatusCode != 404 {
			t.Errorf("redeliver %d: %v", id, err)
		}
		if _, resp, err := c.Apps.GetHookDelivery(ctx(t), id); err == nil || resp.StatusCode != 404 {
			t.Errorf("get %d: %v", id, err)
		}
	}
	app.SetWebhook("", "")
	if _, resp, err := c.Apps.RedeliverHookDelivery(ctx(t), re.ID); err == nil || resp.StatusCode != 422 {
		t.Errorf("redeliver to inactive hook: %v", err)
	}
	f.srv.Advance(3*24*time.Hour + time.Minute)
	// ghinstallation signs with the real clock: sign from the server's.
	c2 := enterprise(t, f.srv, &http.Client{Transport: bearer(appJWT(t, f.srv, app))})
	if list, _, err := c2.Apps.ListHookDeliveries(ctx(t), nil); err != nil || len(list) != 0 {
		t.Errorf("after 3 days: %v, %v", list, err)
	}
	if _, resp, err := c2.Apps.GetHookDelivery(ctx(t), re.ID); err == nil || resp.StatusCode != 404 {
		t.Errorf("get after 3 days: %v", err)
	}
}

// bearer is a transport adding a fixed Authorization header.
type bearer string

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+string(b))
	return http.DefaultTransport.RoundTrip(r)
}

func TestHookEndpointsNeedAppJWT(t *testing.T) {
	f := newFixture(t)
	f.srv.App().SetWebhook("http://127.0.0.1:1/", "s")
	f.srv.RecordFailedDelivery(f.srv.App(), "push", "", []byte(`{}`))
	id := f.srv.HookDeliveries(f.srv.App())[0].ID
	tok := f.token(t)
	expired := signJWT(t, f.srv.App().PrivateKey(), jwt.SigningMethodRS256, jwt.MapClaims{"iss": f.srv.AppID(), "iat": time.Now().Unix() - 700, "exp": time.Now().Unix() - 100})
	for _, ep := range []struct{ method, path string }{
		{"GET", "app/hook/deliveries"},
		{"GET", fmt.Sprintf("app/hook/deliveries/%d", id)},
		{"POST", fmt.Sprintf("app/hook/deliveries/%d/attempts", id)},
	} {
		for _, a := range []struct{ name, auth, msg string }{
			{"none", "", msgJWTUndecodable},
			{"installation token", "token " + tok, msgJWTUndecodable},
			{"expired JWT", "Bearer " + expired, msgJWTExp},
		} {
			t.Run(ep.method+" "+ep.path+" "+a.name, func(t *testing.T) {
				wantGitHubError(t, do(t, ep.method, f.srv.APIURL()+ep.path, a.auth, nil), http.StatusUnauthorized, a.msg)
			})
		}
	}
	if n := len(f.srv.HookDeliveries(f.srv.App())); n != 1 {
		t.Errorf("rejected redelivery still delivered: %d deliveries", n)
	}
}

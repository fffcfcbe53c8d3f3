package githubtest

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-github/v60/github"
)

// fatalTB records Fatalf instead of failing the test.
type fatalTB struct {
	testing.TB
	mu  sync.Mutex
	msg string
}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.mu.Lock()
	f.msg = fmt.Sprintf(format, args...)
	f.mu.Unlock()
	runtime.Goexit()
}

func (f *fatalTB) Helper() {}

func TestDeliverRefusesWhatGitHubWouldNotSend(t *testing.T) {
	tb := &fatalTB{TB: t}
	srv := New(tb)
	resp, body := postManifest(t, srv, "/organizations/acme/settings/apps/new", stagegateManifest(t, func(m map[string]any) {
		m["default_events"] = []any{"push"}
	}), "")
	if resp.StatusCode != 302 {
		t.Fatalf("manifest: %d %s", resp.StatusCode, body)
	}
	mapp := srv.ManifestApps()[0].App
	rv := newReceiver(t, 200)
	mapp.SetWebhook(rv.URL, "s")
	cases := []struct {
		name    string
		app     *App
		event   string
		payload string
		want    string
	}{
		{"not subscribed", mapp, "check_run", `{"action":"created"}`, `not subscribed to "check_run"`},
		{"no webhook", srv.App(), "push", `{}`, "has no active webhook"},
		{"not JSON", mapp, "push", `[1]`, "not a JSON object"},
		{"subscribed", mapp, "push", `{}`, ""},
		{"installation always sent", mapp, "installation", `{"action":"created"}`, ""},
	}
	for _, tc := range cases {
		tb.msg = ""
		done := make(chan struct{})
		go func() {
			defer close(done)
			srv.Deliver(tc.app, tc.event, "", []byte(tc.payload))
		}()
		<-done
		if (tc.want == "" && tb.msg != "") || !strings.Contains(tb.msg, tc.want) {
			t.Errorf("%s: Fatalf(%q), want %q", tc.name, tb.msg, tc.want)
		}
	}
	if n := len(rv.got); n != 2 {
		t.Errorf("receiver got %d deliveries, want 2", n)
	}
}

func TestListInstallationsPagingAndState(t *testing.T) {
	srv := New(t)
	var ids []int64
	for _, org := range []string{"acme", "globex", "initech", "umbrella"} {
		ids = append(ids, srv.AddInstallation(org))
	}
	srv.SuspendInstallation(ids[1])
	srv.DeleteInstallation(ids[2])
	srv.AddApp("other").AddInstallation("hooli")
	c := appClient(t, srv, srv.App())
	first, resp, err := c.Apps.ListInstallations(ctx(t), &github.ListOptions{PerPage: 2})
	if err != nil {
		t.Fatal(err)
	}
	if resp.NextPage != 2 || resp.LastPage != 2 || len(first) != 2 {
		t.Fatalf("page 1: %d items, next %d last %d", len(first), resp.NextPage, resp.LastPage)
	}
	second, resp, err := c.Apps.ListInstallations(ctx(t), &github.ListOptions{PerPage: 2, Page: 2})
	if err != nil || resp.NextPage != 0 || resp.PrevPage != 1 || len(second) != 1 {
		t.Fatalf("page 2: %v next %d, %v", second, resp.NextPage, err)
	}
	all := append(first, second...)
	wantLogin := []string{"acme", "globex", "umbrella"}
	for i, inst := range all {
		if inst.GetAccount().GetLogin() != wantLogin[i] || inst.GetAccount().GetType() != "Organization" || inst.GetAppID() != srv.AppID() {
			t.Errorf("installation %d = %v", i, inst)
		}
		if suspended := inst.SuspendedAt != nil; suspended != (inst.GetID() == ids[1]) || (suspended && inst.SuspendedBy == nil) {
			t.Errorf("installation %d: suspended_at %v", inst.GetID(), inst.SuspendedAt)
		}
	}
}

package githubtest

import (
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"
)

func TestCallLog(t *testing.T) {
	f := newFixture(t)
	c := f.client(t)
	cr, _, err := c.Checks.CreateCheckRun(ctx(t), "acme", "widgets", github.CreateCheckRunOptions{Name: "build", HeadSHA: f.sha})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Checks.UpdateCheckRun(ctx(t), "acme", "widgets", cr.GetID(), github.UpdateCheckRunOptions{Name: "build", Conclusion: ptr("success")}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Checks.ListCheckRunsForRef(ctx(t), "acme", "widgets", "feature/with/slashes", nil); err == nil {
		t.Error("listing for a missing ref should fail")
	}
	_, _, _ = c.Issues.Get(ctx(t), "acme", "widgets", 1) // an endpoint the fake does not serve

	type row struct {
		route  string
		status int
		cred   CredentialKind
		authn  bool
	}
	var got []row
	for _, call := range f.srv.Calls() {
		got = append(got, row{call.Route, call.Status, call.Cred, call.Authenticated})
		if call.Cred == CredInstallationToken && call.InstallationID != f.instID {
			t.Errorf("%s: installation %d", call.Route, call.InstallationID)
		}
		if strings.HasPrefix(call.Path, "/api/v3") {
			t.Errorf("path keeps the prefix: %s", call.Path)
		}
	}
	want := []row{
		{"POST /app/installations/{installation_id}/access_tokens", 201, CredAppJWT, true},
		{"POST /repos/{owner}/{repo}/check-runs", 201, CredInstallationToken, true},
		{"PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}", 200, CredInstallationToken, true},
		{"GET /repos/{owner}/{repo}/commits/{ref}/check-runs", 422, CredInstallationToken, true},
		{"(unmatched)", 404, CredInstallationToken, true},
	}
	if len(got) != len(want) {
		t.Fatalf("calls:\n%v\nwant\n%v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("call %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if calls := f.srv.Calls(); calls[2].Path != "/repos/acme/widgets/check-runs/"+strconv.FormatInt(cr.GetID(), 10) || calls[2].Method != "PATCH" {
		t.Errorf("PATCH call = %+v", calls[2])
	}

	f.srv.ResetCalls()
	if n := len(f.srv.Calls()); n != 0 {
		t.Fatalf("%d calls after reset", n)
	}
	if _, _, err := c.Checks.GetCheckRun(ctx(t), "acme", "widgets", cr.GetID()); err != nil {
		t.Fatal(err)
	}
	if calls := f.srv.CallsTo("GET /repos/{owner}/{repo}/check-runs/{check_run_id}"); len(calls) != 1 || len(f.srv.Calls()) != 1 {
		t.Errorf("after reset: %+v", f.srv.Calls())
	}
}

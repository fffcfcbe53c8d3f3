package githubtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
)

// TestProtectionRuleCallback: the payload names a callback on the
// workflow run; only the protecting App's installation token may answer,
// with environment_name and a state of approved or rejected, once.
func TestProtectionRuleCallback(t *testing.T) {
	f := newFixture(t)
	actions := f.srv.AddApp("github-actions")
	actions.AddInstallation("acme", "widgets")
	other := f.srv.AddApp("other-rule")
	otherInst := other.AddInstallation("acme", "widgets")
	runID, body := f.repo.RequestDeploymentProtection(actions, f.srv.App(), f.sha, "deploy", "production")
	var p map[string]any
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	callback, _ := p["deployment_callback_url"].(string)
	if want := fmt.Sprintf("%s/api/v3/repos/acme/widgets/actions/runs/%d/deployment_protection_rule", f.srv.URL, runID); callback != want ||
		p["environment"] != "production" || p["action"] != "requested" || GetPath(p, "deployment.sha") != f.sha {
		t.Fatalf("payload: %s", body)
	}
	tok := f.token(t)
	otherTok := func() string {
		_, itr := instClient(t, f.srv, other, otherInst)
		s, err := itr.Token(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}()
	for _, tc := range []struct {
		name, auth string
		body       any
		status     int
	}{
		{"no state", "token " + tok, map[string]any{"environment_name": "production"}, 422},
		{"unknown state", "token " + tok, map[string]any{"environment_name": "production", "state": "approve"}, 422},
		{"no environment", "token " + tok, map[string]any{"state": "approved"}, 422},
		{"another environment", "token " + tok, map[string]any{"environment_name": "staging", "state": "approved"}, 422},
		{"another app's token", "token " + otherTok, map[string]any{"environment_name": "production", "state": "approved"}, 422},
		{"no token", "", map[string]any{"environment_name": "production", "state": "approved"}, 401},
		{"approved", "token " + tok, map[string]any{"environment_name": "production", "state": "approved", "comment": "all green"}, 204},
		{"answered twice", "token " + tok, map[string]any{"environment_name": "production", "state": "rejected"}, 422},
	} {
		r := do(t, http.MethodPost, callback, tc.auth, tc.body)
		if r.status != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.name, r.status, r.raw, tc.status)
		}
	}
	got := f.srv.ProtectionAnswers()
	if len(got) != 1 || got[0].State != "approved" || got[0].Comment != "all green" || got[0].RunID != runID || got[0].AppID != f.srv.App().ID {
		t.Errorf("answers = %+v", got)
	}
	r := do(t, http.MethodGet, fmt.Sprintf("%srepos/acme/widgets/actions/runs/%d", f.srv.APIURL(), runID), "token "+tok, nil)
	if m := r.object(t); r.status != 200 || m["head_sha"] != f.sha || m["check_suite_id"] == nil {
		t.Errorf("workflow run: %d %s", r.status, r.raw)
	}
}

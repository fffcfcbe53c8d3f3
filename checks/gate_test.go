package checks

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"
)

const (
	ownApp     = 1
	actionsApp = 15368 // GitHub Actions
	otherApp   = 99
)

func checkRun(id int64, app int64, name, status, conclusion string) *github.CheckRun {
	cr := &github.CheckRun{ID: github.Int64(id), Name: github.String(name), Status: github.String(status),
		App:     &github.App{ID: github.Int64(app)},
		HTMLURL: github.String(fmt.Sprintf("https://github.com/octo/app/runs/%d", id))}
	if conclusion != "" {
		cr.Conclusion = github.String(conclusion)
	}
	return cr
}

func done(id int64, name, conclusion string) *github.CheckRun {
	return checkRun(id, actionsApp, name, "completed", conclusion)
}

func commitStatus(id int64, context, state string) *github.RepoStatus {
	return &github.RepoStatus{ID: github.Int64(id), Context: github.String(context), State: github.String(state),
		TargetURL: github.String("https://ci.example.com/" + context)}
}

func combined(s ...*github.RepoStatus) *github.CombinedStatus {
	return &github.CombinedStatus{Statuses: s}
}

// brief is a requirement as "kind name state".
func brief(reqs []Requirement) []string {
	var out []string
	for _, r := range reqs {
		out = append(out, strings.TrimSpace(r.Kind+" "+r.Name+" "+string(r.State)))
	}
	return out
}

func TestEvaluateChecks(t *testing.T) {
	own := CheckOptions{OwnAppID: ownApp, Exclude: OwnCheck}
	for _, tc := range []struct {
		name     string
		runs     []*github.CheckRun
		statuses *github.CombinedStatus
		opts     CheckOptions
		want     []string
	}{
		{"empty repo", nil, nil, own, nil},
		{"passing conclusions", []*github.CheckRun{done(1, "a", "success"), done(2, "b", "neutral"), done(3, "c", "skipped")}, nil, own,
			[]string{"check a met", "check b met", "check c met"}},
		{"failing conclusions", []*github.CheckRun{
			done(1, "a", "failure"), done(2, "b", "cancelled"), done(3, "c", "timed_out"), done(4, "d", "action_required"),
			done(5, "e", "stale"), done(6, "f", "startup_failure"), done(7, "g", ""), done(8, "h", "something_new"),
		}, nil, own, []string{"check a failed", "check b failed", "check c failed", "check d failed", "check e failed",
			"check f failed", "check g failed", "check h failed"}},
		{"still running waits", []*github.CheckRun{
			checkRun(1, actionsApp, "a", "queued", ""), checkRun(2, actionsApp, "b", "in_progress", ""),
			checkRun(3, actionsApp, "c", "waiting", ""), checkRun(4, actionsApp, "d", "requested", ""),
			checkRun(5, actionsApp, "e", "pending", ""), checkRun(6, otherApp, "f", "", ""),
		}, nil, own, []string{"check a waiting", "check b waiting", "check c waiting", "check d waiting", "check e waiting", "check f waiting"}},
		{"latest run per name wins", []*github.CheckRun{done(9, "unit", "success"), done(3, "unit", "failure"), done(4, "lint", "failure"), done(10, "lint", "success")}, nil, own,
			[]string{"check lint met", "check unit met"}},
		{"a re-run in progress waits", []*github.CheckRun{done(3, "unit", "success"), checkRun(9, actionsApp, "unit", "queued", "")}, nil, own,
			[]string{"check unit waiting"}},
		{"another app's run of the same name counts too", []*github.CheckRun{done(3, "test", "success"), checkRun(4, otherApp, "test", "completed", "failure")}, nil, own,
			[]string{"check test met", "check test failed"}},
		{"own checks are excluded", []*github.CheckRun{
			checkRun(1, ownApp, "stagegate", "in_progress", ""), checkRun(2, ownApp, "stagegate/deploy", "queued", ""),
			checkRun(3, ownApp, "stagegate/deploy-old", "completed", "failure"), done(4, "lint", "success"),
		}, nil, own, []string{"check lint met"}},
		{"another app cannot hide behind stagegate's names", []*github.CheckRun{checkRun(1, otherApp, "stagegate/deploy", "completed", "failure")}, nil, own,
			[]string{"check stagegate/deploy failed"}},
		{"exclude without an app excludes every app's", []*github.CheckRun{checkRun(1, otherApp, "stagegate", "completed", "failure")}, nil,
			CheckOptions{Exclude: OwnCheck}, nil},
		{"statuses", nil, combined(commitStatus(1, "ci/a", "success"), commitStatus(2, "ci/b", "pending"), commitStatus(3, "ci/c", "failure"),
			commitStatus(4, "ci/d", "error"), commitStatus(5, "ci/e", "weird")), own,
			[]string{"status ci/a met", "status ci/b waiting", "status ci/c failed", "status ci/d failed", "status ci/e failed"}},
		{"latest status per context", nil, combined(commitStatus(7, "ci", "success"), commitStatus(3, "ci", "failure")), own,
			[]string{"status ci met"}},
		{"checks and statuses sorted by name", []*github.CheckRun{done(1, "zeta", "success"), done(2, "alpha", "success")},
			combined(commitStatus(3, "beta", "success")), own, []string{"check alpha met", "status beta met", "check zeta met"}},
		{"require counts only those, in order", []*github.CheckRun{done(1, "lint", "failure"), done(2, "unit", "success"), checkRun(3, actionsApp, "e2e", "queued", "")},
			combined(commitStatus(4, "ci/legacy", "success"), commitStatus(5, "ci/other", "failure")),
			CheckOptions{OwnAppID: ownApp, Exclude: OwnCheck, Require: []string{"unit", "ci/legacy"}},
			[]string{"check unit met", "status ci/legacy met"}},
		{"a required name not reported yet waits", []*github.CheckRun{done(1, "unit", "success")}, nil,
			CheckOptions{Require: []string{"unit", "lint", "lint"}}, []string{"check unit met", "check lint waiting"}},
		{"a required own check is not waited for", nil, nil,
			CheckOptions{OwnAppID: ownApp, Exclude: OwnCheck, Require: []string{"stagegate/build"}}, nil},
		{"a required name fails from any app", []*github.CheckRun{done(1, "unit", "success"), checkRun(2, otherApp, "unit", "completed", "failure")}, nil,
			CheckOptions{Require: []string{"unit"}}, []string{"check unit met", "check unit failed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := brief(EvaluateChecks(tc.runs, tc.statuses, tc.opts))
			if !slices.Equal(got, tc.want) {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestEvaluateChecksDetails(t *testing.T) {
	failing := done(7, "lint", "timed_out")
	failing.Output = &github.CheckRunOutput{Title: github.String("3   errors\nfound")}
	st := commitStatus(8, "ci/legacy", "pending")
	st.Description = github.String("Build #12 running")
	reqs := EvaluateChecks([]*github.CheckRun{failing, checkRun(9, actionsApp, "unit", "in_progress", "")}, combined(st), CheckOptions{})
	want := []Requirement{
		{Kind: KindStatus, Name: "ci/legacy", State: Waiting, Detail: "pending: Build #12 running", URL: "https://ci.example.com/ci/legacy"},
		{Kind: KindCheck, Name: "lint", State: Failed, Detail: "timed out: 3 errors found", URL: "https://github.com/octo/app/runs/7"},
		{Kind: KindCheck, Name: "unit", State: Waiting, Detail: "in progress", URL: "https://github.com/octo/app/runs/9"},
	}
	if !slices.Equal(reqs, want) {
		t.Errorf("got  %+v\nwant %+v", reqs, want)
	}
	missing := EvaluateChecks(nil, nil, CheckOptions{Require: []string{"lint"}})
	if len(missing) != 1 || !strings.Contains(missing[0].Detail, "has not reported yet") {
		t.Errorf("missing required check: %+v", missing)
	}
}

func req(kind, name string, s ReqState, detail string) Requirement {
	return Requirement{Kind: kind, Name: name, State: s, Detail: detail}
}

func TestGateDecide(t *testing.T) {
	sha := "abc1234def5678abc1234def5678abc1234def56"
	met := req(KindCheck, "build", Met, "success")
	for _, tc := range []struct {
		name     string
		reqs     []Requirement
		want     Decision
		headline string
		refusal  string
	}{
		{"nothing to wait for", nil, Proceed, "cleared to deploy", ""},
		{"all met", []Requirement{met, req(KindApproval, "", Met, "approved by @alice for abc1234")}, Proceed, "cleared to deploy", ""},
		{"checks running", []Requirement{met, req(KindCheck, "lint", Waiting, "in progress"), req(KindStatus, "ci", Waiting, "pending")},
			Wait, "waiting for 2 checks", ""},
		{"only approval", []Requirement{met, req(KindApproval, "", Waiting, "")}, NeedsApproval, "waiting for approval", ""},
		{"approval and a check", []Requirement{req(KindCheck, "lint", Waiting, ""), req(KindApproval, "", Waiting, "")},
			Wait, "waiting for 1 check and approval", ""},
		{"environment busy", []Requirement{met, req(KindEnvironment, "production", Waiting, "deploy of run r-7 in progress")},
			Wait, "waiting for environment production", ""},
		{"everything", []Requirement{req(KindStages, "", Waiting, ""), req(KindChecks, "", Waiting, "could not read the checks"),
			req(KindApproval, "", Waiting, ""), req(KindEnvironment, "prod", Waiting, "")},
			Wait, "waiting for earlier stages, checks, approval and environment prod", ""},
		{"failing checks refuse", []Requirement{req(KindCheck, "lint", Failed, "failure"), met, req(KindStatus, "unit", Failed, "error"),
			req(KindCheck, "lint", Failed, "failure"), req(KindApproval, "", Waiting, "")},
			Refuse, "checks failing on abc1234: lint, unit", "checks failing on abc1234: lint, unit"},
		{"failure wins over waiting", []Requirement{req(KindCheck, "e2e", Waiting, ""), req(KindCheck, "lint", Failed, "")},
			Refuse, "checks failing on abc1234: lint", "checks failing on abc1234: lint"},
		{"other refusals", []Requirement{req(KindApproval, "", Failed, "@mallory may not deploy"), req(KindCheck, "lint", Failed, ""),
			req(KindEnvironment, "production", Failed, "locked")},
			Refuse, "", "checks failing on abc1234: lint; approval refused: @mallory may not deploy; environment production: locked"},
		{"an unknown state fails", []Requirement{{Kind: KindCheck, Name: "x", State: "maybe"}}, Refuse, "", "checks failing on abc1234: x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := Gate{Stage: "deploy", Environment: "production", SHA: sha, Requirements: tc.reqs}
			if got := g.Decide(); got != tc.want {
				t.Errorf("Decide = %v, want %v", got, tc.want)
			}
			if tc.headline != "" && g.headline() != tc.headline {
				t.Errorf("headline = %q, want %q", g.headline(), tc.headline)
			}
			if got := g.Refusal(); got != tc.refusal {
				t.Errorf("Refusal = %q, want %q", got, tc.refusal)
			}
		})
	}
	var zero Decision
	if zero == Proceed || zero.String() == "proceed" {
		t.Error("the zero Decision reads as Proceed")
	}
}

func TestRenderGate(t *testing.T) {
	reqs := []Requirement{
		{Kind: KindStages, State: Met, Detail: "build and test succeeded"},
		{Kind: KindCheck, Name: "lint", State: Failed, Detail: "failure: 3 <errors>", URL: "https://github.com/octo/app/runs/7"},
		{Kind: KindStatus, Name: "ci/legacy", State: Waiting, Detail: "pending", URL: "https://ci.example.com/builds/12 (x)"},
		{Kind: KindCheck, Name: "odd`name", State: Met, Detail: "success", URL: "javascript:alert(1)"},
		{Kind: KindApproval, State: Waiting, Detail: "a writer or a deployer must approve"},
		{Kind: KindEnvironment, Name: "production", State: Met, Detail: "free"},
	}
	g := Gate{Stage: "deploy", Environment: "production", SHA: testSHA}
	for _, tc := range []struct {
		name string
		reqs []Requirement
	}{
		{"gate_waiting", append([]Requirement{reqs[0]}, reqs[2:]...)},
		{"gate_approval", []Requirement{reqs[0], reqs[3], reqs[4], reqs[5]}},
		{"gate_empty", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g.Requirements = tc.reqs
			golden(t, tc.name, show(renderGate(g)))
		})
	}
	g.Requirements = reqs
	refused := stageView{Name: "deploy", State: "failure", Reason: g.Refusal(), Gate: &g}
	golden(t, "stage_refused", show(renderStage(refused)))
}

func TestReqLabel(t *testing.T) {
	for _, tc := range []struct {
		r    Requirement
		want string
	}{
		{Requirement{Kind: KindApproval, Name: "approval"}, "approval"},
		{Requirement{Kind: KindStages, Name: "earlier stages"}, "earlier stages"},
		{Requirement{Kind: KindEnvironment, Name: "production"}, "environment `production`"},
		{Requirement{Kind: KindCheck, Name: "lint", URL: "https://x.example/1"}, "check [`lint`](https://x.example/1)"},
		{Requirement{Kind: KindChecks, URL: "ftp://x"}, "checks"},
	} {
		if got := reqLabel(tc.r); got != tc.want {
			t.Errorf("reqLabel(%+v) = %q, want %q", tc.r, got, tc.want)
		}
	}
}

package githubtest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"
)

func TestCommitStatuses(t *testing.T) {
	f := newFixture(t)
	c := f.client(t)
	made, resp, err := c.Repositories.CreateStatus(ctx(t), "acme", "widgets", f.sha, &github.RepoStatus{
		State: ptr("pending"), Context: ptr("stagegate/deploy"), Description: ptr("waiting"), TargetURL: ptr("https://ci.example.invalid/1"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if code(resp) != 201 || made.GetState() != "pending" || made.GetContext() != "stagegate/deploy" || made.GetCreator().GetLogin() != "stagegate[bot]" ||
		made.GetDescription() != "waiting" || made.GetTargetURL() != "https://ci.example.invalid/1" || made.GetID() == 0 {
		t.Errorf("created = %+v", made)
	}
	// Without a context GitHub uses "default".
	def, _, err := c.Repositories.CreateStatus(ctx(t), "acme", "widgets", f.sha, &github.RepoStatus{State: ptr("success")})
	if err != nil || def.GetContext() != "default" || def.TargetURL != nil {
		t.Errorf("default context: %+v %v", def, err)
	}
	stored := f.srv.Statuses("acme", "widgets")
	if len(stored) != 2 || stored[0].AppID != f.srv.AppID() || stored[0].Creator != "stagegate[bot]" || stored[1].Context != "default" {
		t.Errorf("stored = %+v", stored)
	}

	tok := f.token(t)
	url := f.repo.APIURL() + "/statuses/" + f.sha
	for _, tc := range []struct {
		name, url string
		body      any
		want      string
	}{
		{"bad state", url, map[string]any{"state": "ok"}, `For 'properties/state', "ok" is not a member of ["error", "failure", "pending", "success"].`},
		{"missing state", url, map[string]any{"context": "x"}, `"state" wasn't supplied.`},
		{"context not a string", url, map[string]any{"state": "success", "context": 1}, "For 'properties/context', 1 is not a string."},
		{"unknown sha", f.repo.APIURL() + "/statuses/" + strings.Repeat("1", 40), map[string]any{"state": "success"}, "No commit found for SHA: " + strings.Repeat("1", 40)},
		{"a branch is not a sha", f.repo.APIURL() + "/statuses/main", map[string]any{"state": "success"}, "No commit found for SHA: main"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, "POST", tc.url, "token "+tok, tc.body)
			if r.status != 422 || !strings.Contains(errText(t, r), tc.want) {
				t.Errorf("%d %s", r.status, errText(t, r))
			}
		})
	}
	if n := len(f.srv.Statuses("acme", "widgets")); n != 2 {
		t.Errorf("%d statuses after rejections", n)
	}
	g := newFixture(t, WithPermissions(withoutPerm("statuses")))
	if _, resp, _ := g.client(t).Repositories.CreateStatus(ctx(t), "acme", "widgets", g.sha, &github.RepoStatus{State: ptr("success")}); code(resp) != 403 {
		t.Errorf("without statuses: %d", code(resp))
	}
	if _, resp, _ := g.client(t).Repositories.GetCombinedStatus(ctx(t), "acme", "widgets", g.sha, nil); code(resp) != 403 {
		t.Errorf("combined without statuses: %d", code(resp))
	}
}

func TestCombinedStatus(t *testing.T) {
	type st struct{ context, state string }
	for _, tc := range []struct {
		name     string
		statuses []st
		want     string
		contexts string
	}{
		{"none", nil, "pending", ""},
		{"all success", []st{{"a", "success"}, {"b", "success"}}, "success", "b:success,a:success"},
		{"one pending", []st{{"a", "success"}, {"b", "pending"}}, "pending", "b:pending,a:success"},
		{"one failure", []st{{"a", "pending"}, {"b", "failure"}}, "failure", "b:failure,a:pending"},
		{"one error", []st{{"a", "success"}, {"b", "error"}}, "failure", "b:error,a:success"},
		{"latest per context wins", []st{{"a", "failure"}, {"a", "success"}}, "success", "a:success"},
		{"a later failure wins too", []st{{"a", "success"}, {"a", "error"}, {"b", "success"}}, "failure", "b:success,a:error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			for _, s := range tc.statuses {
				f.srv.CreateStatus("acme", "widgets", f.sha, s.context, s.state)
			}
			for _, ref := range []string{f.sha, "main", f.sha[:12]} {
				got, _, err := f.client(t).Repositories.GetCombinedStatus(ctx(t), "acme", "widgets", ref, nil)
				if err != nil {
					t.Fatal(err)
				}
				var cs []string
				for _, s := range got.Statuses {
					cs = append(cs, s.GetContext()+":"+s.GetState())
					if s.GetCreator().GetLogin() != "ci-runner" {
						t.Errorf("creator %q", s.GetCreator().GetLogin())
					}
				}
				if got.GetState() != tc.want || strings.Join(cs, ",") != tc.contexts || got.GetTotalCount() != len(cs) ||
					got.GetSHA() != f.sha || !strings.HasSuffix(got.GetCommitURL(), "/commits/"+f.sha) {
					t.Errorf("@%s: state %q statuses %v total %d", ref, got.GetState(), cs, got.GetTotalCount())
				}
			}
			all, _, err := f.client(t).Repositories.ListStatuses(ctx(t), "acme", "widgets", "main", nil)
			if err != nil || len(all) != len(tc.statuses) {
				t.Fatalf("list: %d %v", len(all), err)
			}
			for i, s := range all { // newest first
				want := tc.statuses[len(tc.statuses)-1-i]
				if s.GetContext() != want.context || s.GetState() != want.state {
					t.Errorf("list[%d] = %s:%s", i, s.GetContext(), s.GetState())
				}
			}
		})
	}
	f := newFixture(t)
	other := f.repo.Commit("main", map[string]string{"n": "n"}, "next")
	f.srv.CreateStatus("acme", "widgets", f.sha, "ci", "failure")
	got, _, err := f.client(t).Repositories.GetCombinedStatus(ctx(t), "acme", "widgets", other, nil)
	if err != nil || got.GetState() != "pending" || got.GetTotalCount() != 0 {
		t.Errorf("another commit's status leaked: %+v %v", got, err)
	}
	if _, resp, _ := f.client(t).Repositories.GetCombinedStatus(ctx(t), "acme", "widgets", "nope", nil); code(resp) != 422 {
		t.Errorf("unknown ref: %d", code(resp))
	}
	// Pagination over contexts: total_count counts them all.
	for i := 0; i < 5; i++ {
		f.srv.CreateStatus("acme", "widgets", other, fmt.Sprint("ctx", i), "success")
	}
	pg, resp, err := f.client(t).Repositories.GetCombinedStatus(ctx(t), "acme", "widgets", other, &github.ListOptions{PerPage: 2})
	if err != nil || len(pg.Statuses) != 2 || pg.GetTotalCount() != 5 || resp.NextPage != 2 {
		t.Errorf("page: %d statuses, total %d, next %d, %v", len(pg.Statuses), pg.GetTotalCount(), resp.NextPage, err)
	}
}

package githubtest

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"
)

// TestTimelinePushes follows a fork's pull request through an opening, a
// fast-forward push, two force pushes and a comment, and reads the
// timeline as GitHub's docs shape it.
func TestTimelinePushes(t *testing.T) {
	f := newFixture(t)
	fork := f.srv.AddFork("acme", "widgets", "mallory")
	b := fork.Commit("evil", map[string]string{"x": "b"}, "b")
	f.srv.AddPullRequest("acme", "widgets", PullRequest{Number: 5, User: "mallory", HeadRepo: "mallory/widgets", HeadRef: "evil"})
	f.srv.Advance(3 * time.Second)
	// A harmless commit on main's tip, not a descendant of b: a force push.
	a := fork.CommitChanges("harmless", "a", Change{Path: "y", Content: "a"})
	f.srv.PushToPullRequest("acme", "widgets", 5, a)
	forcedAt := f.srv.Now()
	f.srv.Advance(3 * time.Second)
	comment := f.srv.AddComment("acme", "widgets", 5, "alice", "/ok-to-test")
	f.srv.Advance(3 * time.Second)
	a2 := fork.Commit("harmless", map[string]string{"z": "a2"}, "a2") // on top of a: not forced
	f.srv.PushToPullRequest("acme", "widgets", 5, a2)
	f.srv.PushToPullRequest("acme", "widgets", 5, b) // back to b: forced

	want := []TimelineEvent{{"committed", b, time.Time{}}, {"head_ref_force_pushed", a, time.Time{}},
		{"committed", a, time.Time{}}, {"committed", a2, time.Time{}}, {"head_ref_force_pushed", b, time.Time{}},
		{"committed", b, time.Time{}}} // b is in the pull request again
	got := f.srv.Timeline("acme", "widgets", 5)
	if len(got) != len(want) {
		t.Fatalf("Timeline = %+v", got)
	}
	for i := range want {
		if got[i].Event != want[i].Event || got[i].SHA != want[i].SHA {
			t.Errorf("event %d = %s %s, want %s %s", i, got[i].Event, got[i].SHA, want[i].Event, want[i].SHA)
		}
	}

	c := f.client(t)
	var all []*github.Timeline
	opts := &github.ListOptions{PerPage: 2}
	pages := 0
	for {
		list, resp, err := c.Issues.ListIssueTimeline(ctx(t), "acme", "widgets", 5, opts)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		all = append(all, list...)
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	if pages != 4 || len(all) != 7 {
		t.Fatalf("%d events in %d pages", len(all), pages)
	}
	var kinds []string
	for _, e := range all {
		kinds = append(kinds, e.GetEvent())
	}
	if got := strings.Join(kinds, ","); got != "committed,head_ref_force_pushed,committed,commented,committed,head_ref_force_pushed,committed" {
		t.Fatalf("events = %s", got)
	}
	// committed: the git commit; no id, actor or time of the push.
	cm := all[0]
	if cm.GetSHA() != b || cm.ID != nil || cm.Actor != nil || cm.CreatedAt != nil || cm.GetMessage() != "b" ||
		cm.GetAuthor().GetName() != "Octo Tester" || cm.GetCommitter().GetDate().IsZero() || len(cm.Parents) != 1 {
		t.Errorf("committed = %+v", cm)
	}
	// head_ref_force_pushed: the new head as commit_id, the pusher, and
	// GitHub's time.
	fp := all[1]
	if fp.GetCommitID() != a || fp.GetActor().GetLogin() != "mallory" || fp.GetID() == 0 || fp.SHA != nil ||
		!fp.GetCreatedAt().Time.Equal(forcedAt.Truncate(time.Second)) || !strings.HasSuffix(fp.GetCommitURL(), "/commits/"+a) {
		t.Errorf("force push = %+v (want at %v)", fp, forcedAt)
	}
	if cc := all[3]; cc.GetID() != comment || cc.GetActor().GetLogin() != "alice" || cc.GetBody() != "/ok-to-test" {
		t.Errorf("commented = %+v", cc)
	}
	if last := all[5]; last.GetCommitID() != b || !last.GetCreatedAt().After(fp.GetCreatedAt().Time) {
		t.Errorf("second force push = %+v", last)
	}

	raw := do(t, "GET", f.repo.APIURL()+"/issues/5/timeline", "token "+f.token(t), nil)
	if raw.status != 200 || !strings.Contains(string(raw.raw), `"performed_via_github_app":null`) {
		t.Errorf("raw timeline: %d %s", raw.status, raw.raw)
	}
	for _, path := range []string{"/issues/6/timeline", "/issues/x/timeline"} {
		if r := do(t, "GET", f.repo.APIURL()+path, "token "+f.token(t), nil); r.status != 404 {
			t.Errorf("GET %s: %d", path, r.status)
		}
	}
}

func TestTimelinePermissions(t *testing.T) {
	for _, tc := range []struct {
		without []string
		status  int
	}{
		{[]string{"issues"}, 200},
		{[]string{"pull_requests"}, 200},
		{[]string{"issues", "pull_requests"}, 403},
	} {
		g, _ := prFixture(t, WithPermissions(withoutPerm(tc.without...)))
		_, resp, _ := g.client(t).Issues.ListIssueTimeline(ctx(t), "acme", "widgets", 1, nil)
		if code(resp) != tc.status {
			t.Errorf("without %v: %d, want %d", tc.without, code(resp), tc.status)
		}
	}
}

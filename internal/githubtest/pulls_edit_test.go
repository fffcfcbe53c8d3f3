package githubtest

import (
	"encoding/json"
	"testing"

	"github.com/google/go-github/v60/github"
)

func TestRetargetPullRequest(t *testing.T) {
	f := newFixture(t)
	release := f.repo.Commit("release/1.x", map[string]string{"r": "1"}, "release branch")
	head := f.repo.Commit("feature", map[string]string{"f": "1"}, "feature")
	n := f.srv.AddPullRequest("acme", "widgets", PullRequest{HeadRef: "feature"})

	var e github.PullRequestEvent
	if err := json.Unmarshal(f.srv.RetargetPullRequest("acme", "widgets", n, "release/1.x"), &e); err != nil {
		t.Fatal(err)
	}
	pr := e.GetPullRequest()
	if e.GetAction() != "edited" || e.GetNumber() != n || pr.GetBase().GetRef() != "release/1.x" || pr.GetBase().GetSHA() != release ||
		pr.GetHead().GetSHA() != head || e.GetChanges().GetBase().GetRef().GetFrom() != "main" || e.GetChanges().GetBase().GetSHA().GetFrom() != f.sha {
		t.Fatalf("edited payload: action %q #%d base %s@%s head %s changes %+v", e.GetAction(), e.GetNumber(),
			pr.GetBase().GetRef(), pr.GetBase().GetSHA(), pr.GetHead().GetSHA(), e.GetChanges())
	}
	if e.GetInstallation().GetID() != f.instID || e.GetRepo().GetFullName() != "acme/widgets" {
		t.Errorf("installation %d, repository %q", e.GetInstallation().GetID(), e.GetRepo().GetFullName())
	}
	// The API agrees with the payload.
	got, _, err := f.client(t).PullRequests.Get(ctx(t), "acme", "widgets", n)
	if err != nil || got.GetBase().GetRef() != "release/1.x" {
		t.Errorf("GET pull: base %q, %v", got.GetBase().GetRef(), err)
	}
}

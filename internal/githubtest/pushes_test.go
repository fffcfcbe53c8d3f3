package githubtest

import (
	"encoding/json"
	"fmt"
	"testing"
)

func TestPushWebhook(t *testing.T) {
	f := newFixture(t)
	before := f.repo.Head("main")
	for i := range 25 {
		f.repo.Commit("main", map[string]string{fmt.Sprintf("src/f%02d.go", i): "package src\n"}, fmt.Sprintf("commit %d", i))
	}
	f.repo.Commit("main", map[string]string{"README.md": Deleted, "src/f00.go": "package src // changed\n"}, "last")
	var p struct {
		Before, After   string
		Created, Forced bool
		Commits         []struct {
			ID, Message              string
			Added, Removed, Modified []string
		}
		HeadCommit struct{ ID string } `json:"head_commit"`
	}
	if err := json.Unmarshal(f.repo.PushWebhook("main", before), &p); err != nil {
		t.Fatal(err)
	}
	after := f.repo.Head("main")
	if p.Before != before || p.After != after || p.Created || p.Forced || p.HeadCommit.ID != after {
		t.Fatalf("push: before %s after %s created %v forced %v head %s", p.Before, p.After, p.Created, p.Forced, p.HeadCommit.ID)
	}
	// More than 20 commits: webhooks list up to 2048.
	if len(p.Commits) != 26 || p.Commits[0].Message != "commit 0" || len(p.Commits[0].Added) != 1 || p.Commits[0].Added[0] != "src/f00.go" {
		t.Fatalf("%d commits; first %+v", len(p.Commits), p.Commits[0])
	}
	last := p.Commits[25]
	if last.ID != after || len(last.Removed) != 1 || last.Removed[0] != "README.md" || len(last.Modified) != 1 || last.Modified[0] != "src/f00.go" {
		t.Errorf("last commit = %+v", last)
	}

	f.repo.Commit("feature", map[string]string{"x": "1"}, "on feature")
	if err := json.Unmarshal(f.repo.PushWebhook("feature", ""), &p); err != nil {
		t.Fatal(err)
	}
	if !p.Created || p.Before != zeroSHA || len(p.Commits) != 1 || p.Commits[0].Added[0] != "x" {
		t.Errorf("created branch: created %v before %s commits %+v", p.Created, p.Before, p.Commits)
	}
}

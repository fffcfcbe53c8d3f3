package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stagegate/stagegate/app/store"
)

func TestRepoPrivate(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	if private, err := db.RepoPrivate(ctx, "acme/unseen"); err != nil || !private {
		t.Errorf("a repository never described: private %v, %v; want private", private, err)
	}
	for _, want := range []bool{false, true, false} {
		if err := db.SetRepoPrivate(ctx, "acme/web", want); err != nil {
			t.Fatal(err)
		}
		if got, err := db.RepoPrivate(ctx, "acme/web"); err != nil || got != want {
			t.Errorf("private %v, %v; want %v", got, err, want)
		}
	}
	// A delivery received earlier, processed later, changes nothing.
	now := time.Now()
	for _, step := range []struct {
		private bool
		at      time.Time
		want    bool
	}{
		{true, now, true},
		{false, now.Add(-time.Minute), true},
		{false, now.Add(time.Minute), false},
	} {
		if err := db.SetRepoPrivateAt(ctx, "acme/order", step.private, step.at); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.RepoPrivate(ctx, "acme/order"); got != step.want {
			t.Errorf("after private=%v at %v: private %v, want %v", step.private, step.at, got, step.want)
		}
	}
}

func TestPagesRunLists(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	add := func(repo, branch string, pr int, at int) store.Run {
		r, err := db.CreateRun(ctx, store.Run{Repo: repo, SHA: "abc", Event: "push", Branch: branch, PR: pr,
			CreatedAt: base.Add(time.Duration(at) * time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	add("acme/web", "main", 0, 1)
	mainLatest := add("acme/web", "main", 0, 5)
	add("acme/web", "dev", 0, 2)
	prLatest := add("acme/web", "feature", 7, 6)
	add("acme/web-other", "main", 0, 3)
	add("acme2/web", "main", 0, 4)
	add("acm/web", "main", 0, 4)

	latest, err := db.LatestRunsByKey(ctx, "acme/web", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(latest) != 3 || latest[0].ID != prLatest.ID || latest[1].ID != mainLatest.ID || latest[2].Branch != "dev" {
		t.Errorf("latest by branch: %+v", latest)
	}
	r, err := db.LatestRunForBranch(ctx, "acme/web", "main")
	if err != nil || r.ID != mainLatest.ID {
		t.Errorf("latest of main: %v %v", r.ID, err)
	}
	if _, err := db.LatestRunForBranch(ctx, "acme/web", "feature"); err == nil {
		t.Error("a pull request's run counts as its branch's")
	}
	recent, err := db.RecentRuns(ctx, "acme/web", 2)
	if err != nil || len(recent) != 2 || recent[0].ID != prLatest.ID {
		t.Errorf("recent: %v %v", recent, err)
	}
	repos, err := db.OwnerRepos(ctx, "acme", 10)
	if err != nil || len(repos) != 2 || repos[0] != "acme/web" || repos[1] != "acme/web-other" {
		t.Errorf("repositories of acme: %q %v", repos, err)
	}
}

func TestDeploymentHistory(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	deploy := func(sha, conclusion, approver string) store.Run {
		r, err := db.CreateRun(ctx, store.Run{Repo: "acme/web", SHA: sha, Event: "push", Branch: "main"})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		for _, err := range []error{
			db.UpsertStage(ctx, store.Stage{RunID: r.ID, Name: "prod", Status: store.StatusCompleted, Conclusion: conclusion,
				StartedAt: now, FinishedAt: now.Add(time.Second)}),
			db.RecordGate(ctx, store.GateState{RunID: r.ID, Stage: "prod", Environment: "production", Decision: "proceed", Requirements: "[]"}),
			db.RecordDeployment(ctx, store.Deployment{RunID: r.ID, Stage: "prod", DeploymentID: 1}),
		} {
			if err != nil {
				t.Fatal(err)
			}
		}
		if approver != "" {
			if err := db.Approve(ctx, store.Approval{Repo: "acme/web", SHA: sha, Kind: store.ApprovalDeploy, Scope: "production", Approver: approver}); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(2 * time.Millisecond) // created_at orders them
		return r
	}
	deploy("aaa", "success", "alice")
	deploy("bbb", "failure", "bob")
	h, err := db.DeploymentHistory(ctx, "acme/web", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 2 || h[0].SHA != "bbb" || h[0].Approver != "bob" || h[0].Conclusion != "failure" ||
		h[1].SHA != "aaa" || h[1].Approver != "alice" || h[1].Environment != "production" || h[1].Finished.IsZero() {
		t.Errorf("history: %+v", h)
	}
	gates, err := db.GatesForRun(ctx, h[0].RunID)
	if err != nil || len(gates) != 1 || gates[0].Decision != "proceed" {
		t.Errorf("gates: %+v %v", gates, err)
	}
}

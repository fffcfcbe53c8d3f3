package store_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/stagegate/stagegate/app/store"
	"github.com/stagegate/stagegate/internal/pgtest"
)

// ms is a time the store keeps exactly: it stores milliseconds.
func ms(n int64) time.Time { return time.UnixMilli(1_700_000_000_000 + n).UTC() }

func TestRunRoundTrip(t *testing.T) {
	pgtest.Run(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := openURL(t, url)
		want := store.Run{
			InstallationID: 9, Repo: "acme/web", SHA: "abc123", Event: "pull_request",
			Branch: "feature", BaseBranch: "main", PR: 42, Actor: "alice", Fork: true,
			Mode: "superseded", Pipeline: "stages: []\n", PipelinePath: ".stagegate.yml", PipelineSource: "repo",
			ChangedFiles: []string{"a.go", "b/c.go"}, RerunOf: "01OLD", RerunFromStage: "test",
			DeliveryGUID: "guid-1", CreatedAt: ms(0),
		}
		got, err := db.CreateRun(ctx, want)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID == "" || got.Status != store.StatusQueued || got.ConcurrencyKey != "pr:42" {
			t.Fatalf("CreateRun filled in %+v", got)
		}
		want.ID, want.Status, want.ConcurrencyKey = got.ID, store.StatusQueued, "pr:42"
		read, err := db.GetRun(ctx, got.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(read, want) {
			t.Fatalf("GetRun =\n%+v\nwant\n%+v", read, want)
		}

		// Unknown changed files stay unknown; none stays none.
		for _, files := range [][]string{nil, {}} {
			r, err := db.CreateRun(ctx, store.Run{Repo: "acme/web", SHA: "s", Event: "push", ChangedFiles: files})
			if err != nil {
				t.Fatal(err)
			}
			r, _ = db.GetRun(ctx, r.ID)
			if (r.ChangedFiles == nil) != (files == nil) || len(r.ChangedFiles) != 0 {
				t.Errorf("ChangedFiles %#v read back as %#v", files, r.ChangedFiles)
			}
		}
		if _, err := db.GetRun(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("GetRun(unknown) = %v", err)
		}
		if _, err := db.CreateRun(ctx, store.Run{ID: got.ID, Repo: "r", SHA: "s", Event: "push"}); err == nil {
			t.Fatal("CreateRun with a used id succeeded")
		}
	})
}

func TestRunLifecycle(t *testing.T) {
	pgtest.Run(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := openURL(t, url)
		r, err := db.CreateRun(ctx, store.Run{Repo: "acme/web", SHA: "s1", Event: "push", Branch: "main"})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.SetRunStatus(ctx, r.ID, store.StatusInProgress); err != nil {
			t.Fatal(err)
		}
		if err := db.SetSummaryCheck(ctx, r.ID, 555); err != nil {
			t.Fatal(err)
		}
		inProgress, err := db.RunsInProgress(ctx)
		if err != nil || len(inProgress) != 1 || inProgress[0].ID != r.ID ||
			inProgress[0].StartedAt.IsZero() || inProgress[0].SummaryCheckID != 555 {
			t.Fatalf("RunsInProgress = %+v, %v", inProgress, err)
		}
		if err := db.FinishRun(ctx, r.ID, "failure", "stage test failed"); err != nil {
			t.Fatal(err)
		}
		got, _ := db.GetRun(ctx, r.ID)
		if got.Status != store.StatusCompleted || got.Conclusion != "failure" || got.Reason != "stage test failed" || got.FinishedAt.IsZero() {
			t.Fatalf("finished run: %+v", got)
		}
		if inProgress, _ := db.RunsInProgress(ctx); len(inProgress) != 0 {
			t.Fatalf("RunsInProgress after finish = %+v", inProgress)
		}

		tests := []struct {
			name string
			err  error
			want error
		}{
			{"finish twice", db.FinishRun(ctx, r.ID, "success", ""), store.ErrRunFinished},
			{"restart finished", db.SetRunStatus(ctx, r.ID, store.StatusInProgress), store.ErrRunFinished},
			{"supersede finished", db.MarkSuperseded(ctx, r.ID, "x"), store.ErrRunFinished},
			{"finish unknown", db.FinishRun(ctx, "nope", "success", ""), store.ErrNotFound},
			{"status of unknown", db.SetRunStatus(ctx, "nope", store.StatusQueued), store.ErrNotFound},
			{"summary of unknown", db.SetSummaryCheck(ctx, "nope", 1), store.ErrNotFound},
		}
		for _, tt := range tests {
			if !errors.Is(tt.err, tt.want) {
				t.Errorf("%s: %v, want %v", tt.name, tt.err, tt.want)
			}
		}
		if err := db.SetRunStatus(ctx, r.ID, store.StatusCompleted); err == nil {
			t.Error("SetRunStatus(completed) succeeded")
		}
		if got, _ := db.GetRun(ctx, r.ID); got.Conclusion != "failure" {
			t.Errorf("second FinishRun changed the conclusion to %s", got.Conclusion)
		}
	})
}

func TestActiveRunsForKey(t *testing.T) {
	pgtest.Run(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := openURL(t, url)
		create := func(r store.Run) store.Run {
			t.Helper()
			r.Repo, r.SHA, r.Event = cmpOr(r.Repo, "acme/web"), "sha", "push"
			r, err := db.CreateRun(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		// Made newest first, so creation time, not id, must decide the order.
		newest := create(store.Run{Branch: "main", CreatedAt: ms(300)})
		middle := create(store.Run{Branch: "main", CreatedAt: ms(200)})
		oldest := create(store.Run{Branch: "main", CreatedAt: ms(100)})
		done := create(store.Run{Branch: "main", CreatedAt: ms(50)})
		create(store.Run{Branch: "dev", CreatedAt: ms(10)})
		create(store.Run{Repo: "acme/api", Branch: "main", CreatedAt: ms(10)})
		create(store.Run{Branch: "main", PR: 7, CreatedAt: ms(10)})
		if err := db.SetRunStatus(ctx, middle.ID, store.StatusInProgress); err != nil {
			t.Fatal(err)
		}
		if err := db.FinishRun(ctx, done.ID, "success", ""); err != nil {
			t.Fatal(err)
		}

		active, err := db.ActiveRunsForKey(ctx, "acme/web", "branch:main")
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range active {
			ids = append(ids, r.ID)
		}
		if want := []string{oldest.ID, middle.ID, newest.ID}; !reflect.DeepEqual(ids, want) {
			t.Fatalf("ActiveRunsForKey = %v, want %v", ids, want)
		}

		if err := db.MarkSuperseded(ctx, oldest.ID, newest.ID); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.GetRun(ctx, oldest.ID); got.SupersededBy != newest.ID {
			t.Fatalf("SupersededBy = %q", got.SupersededBy)
		}
	})
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func TestRunsBySHAAndPR(t *testing.T) {
	pgtest.Run(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := openURL(t, url)
		var pr []string
		for i, sha := range []string{"s1", "s2", "s1"} {
			r, err := db.CreateRun(ctx, store.Run{Repo: "acme/web", SHA: sha, Event: "pull_request", PR: 3, CreatedAt: ms(int64(i))})
			if err != nil {
				t.Fatal(err)
			}
			pr = append([]string{r.ID}, pr...)
		}
		if _, err := db.CreateRun(ctx, store.Run{Repo: "acme/web", SHA: "s1", Event: "push", CreatedAt: ms(-1)}); err != nil {
			t.Fatal(err)
		}

		latest, err := db.LatestRunForSHA(ctx, "acme/web", "s1")
		if err != nil || latest.ID != pr[0] {
			t.Fatalf("LatestRunForSHA = %s, %v; want %s", latest.ID, err, pr[0])
		}
		if _, err := db.LatestRunForSHA(ctx, "acme/api", "s1"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("LatestRunForSHA(other repo) = %v", err)
		}
		runs, err := db.RunsForPR(ctx, "acme/web", 3)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range runs {
			ids = append(ids, r.ID)
		}
		if !reflect.DeepEqual(ids, pr) {
			t.Fatalf("RunsForPR = %v, want newest first %v", ids, pr)
		}
		if runs, _ := db.RunsForPR(ctx, "acme/web", 0); len(runs) != 0 {
			t.Fatalf("RunsForPR(0) = %d runs", len(runs))
		}
	})
}

func TestConcurrencyKey(t *testing.T) {
	tests := []struct {
		branch, tag string
		pr          int
		want        string
	}{
		{"main", "", 0, "branch:main"},
		{"", "v1.2", 0, "tag:v1.2"},
		{"feature", "", 12, "pr:12"},
	}
	for _, tt := range tests {
		if got := store.ConcurrencyKey(tt.branch, tt.tag, tt.pr); got != tt.want {
			t.Errorf("ConcurrencyKey(%q, %q, %d) = %q, want %q", tt.branch, tt.tag, tt.pr, got, tt.want)
		}
	}
}

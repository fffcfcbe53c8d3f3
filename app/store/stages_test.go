package store_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/stagegate/stagegate/app/store"
	"github.com/stagegate/stagegate/internal/pgtest"
)

func newRun(t *testing.T, db *store.DB, repo string) store.Run {
	t.Helper()
	r, err := db.CreateRun(context.Background(), store.Run{Repo: repo, SHA: "sha", Event: "push", Branch: "main"})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestStages(t *testing.T) {
	pgtest.Run(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := openURL(t, url)
		run := newRun(t, db, "acme/web")
		other := newRun(t, db, "acme/api")

		for i, name := range []string{"build", "test", "deploy"} {
			if err := db.UpsertStage(ctx, store.Stage{RunID: run.ID, Name: name, Position: i}); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.SetStageCheckRun(ctx, run.ID, "test", 1001); err != nil {
			t.Fatal(err)
		}
		if err := db.SetStageCheckRun(ctx, run.ID, "nope", 1); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("SetStageCheckRun(unknown stage) = %v", err)
		}
		// Recording progress without the check run id keeps it.
		test := store.Stage{
			RunID: run.ID, Name: "test", Position: 1, Status: store.StatusCompleted, Conclusion: "success",
			StartedAt: ms(10), FinishedAt: ms(20), Outputs: map[string]string{"VERSION": "1.2"}, Artifacts: []string{"bin/app"},
		}
		if err := db.UpsertStage(ctx, test); err != nil {
			t.Fatal(err)
		}
		test.CheckRunID = 1001

		stages, err := db.StagesForRun(ctx, run.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(stages) != 3 || stages[0].Name != "build" || stages[2].Name != "deploy" {
			t.Fatalf("StagesForRun = %+v", stages)
		}
		if !reflect.DeepEqual(stages[1], test) {
			t.Fatalf("stage test =\n%+v\nwant\n%+v", stages[1], test)
		}
		if stages[0].Status != store.StatusQueued || stages[0].Outputs == nil || stages[0].Artifacts == nil {
			t.Fatalf("defaults of an upserted stage: %+v", stages[0])
		}

		found, err := db.FindStageByCheckRun(ctx, "acme/web", 1001)
		if err != nil || !reflect.DeepEqual(found, test) {
			t.Fatalf("FindStageByCheckRun = %+v, %v", found, err)
		}
		for _, c := range []struct {
			repo string
			id   int64
		}{{"acme/api", 1001}, {"acme/web", 9999}, {"acme/web", 0}} {
			if _, err := db.FindStageByCheckRun(ctx, c.repo, c.id); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("FindStageByCheckRun(%s, %d) = %v", c.repo, c.id, err)
			}
		}
		if stages, _ := db.StagesForRun(ctx, other.ID); len(stages) != 0 {
			t.Fatalf("other run has stages %+v", stages)
		}
		// Foreign keys are on: no stage without its run.
		if err := db.UpsertStage(ctx, store.Stage{RunID: "nope", Name: "x"}); err == nil {
			t.Fatal("stage of an unknown run stored")
		}
	})
}

func TestActions(t *testing.T) {
	pgtest.Run(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := openURL(t, url)
		run := newRun(t, db, "acme/web")
		for i, name := range []string{"build", "deploy"} {
			if err := db.UpsertStage(ctx, store.Stage{RunID: run.ID, Name: name, Position: i}); err != nil {
				t.Fatal(err)
			}
		}
		record := []store.Action{
			{RunID: run.ID, Stage: "deploy", Name: "ship", Attempt: 1, Status: "failure", ExitCode: 1, Reason: "exit status 1", Started: ms(30), Duration: 2 * time.Second},
			{RunID: run.ID, Stage: "deploy", Name: "ship", Attempt: 1, Rollback: true, Status: "success", Started: ms(40), Duration: time.Second},
			{RunID: run.ID, Stage: "build", Name: "compile", Attempt: 1, Status: "failure", ExitCode: 2, Started: ms(10), Duration: 1500 * time.Millisecond},
			{RunID: run.ID, Stage: "build", Name: "compile", Attempt: 2, Status: "running", Started: ms(20)},
		}
		for _, a := range record {
			if err := db.RecordAction(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
		// The second attempt finishes: the same key, recorded again.
		record[3].Status, record[3].Duration = "success", 750*time.Millisecond
		if err := db.RecordAction(ctx, record[3]); err != nil {
			t.Fatal(err)
		}
		got, err := db.ActionsForRun(ctx, run.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := []store.Action{record[2], record[3], record[0], record[1]}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("ActionsForRun =\n%+v\nwant\n%+v", got, want)
		}
	})
}

func TestLogLines(t *testing.T) {
	pgtest.Run(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := openURL(t, url)
		run := newRun(t, db, "acme/web")
		other := newRun(t, db, "acme/web")

		var batch []store.LogLine
		for i := range 250 {
			action := []string{"unit", "vet"}[i%2]
			batch = append(batch, store.LogLine{RunID: run.ID, Stage: "test", Action: action, Stream: "stdout",
				Time: ms(int64(i)), Text: fmt.Sprintf("line %d", i)})
		}
		batch = append(batch, store.LogLine{RunID: other.ID, Stage: "test", Action: "unit", Stream: "stderr", Text: "other"})
		if err := db.AppendLogLines(ctx, batch[:100]); err != nil {
			t.Fatal(err)
		}
		if err := db.AppendLogLines(ctx, batch[100:]); err != nil {
			t.Fatal(err)
		}
		// Seq continues across batches, per run.
		if batch[0].Seq != 1 || batch[249].Seq != 250 || batch[250].Seq != 1 {
			t.Fatalf("seqs %d, %d, %d", batch[0].Seq, batch[249].Seq, batch[250].Seq)
		}
		if batch[0].Attempt != 1 || batch[250].Time.IsZero() {
			t.Fatalf("defaults not filled in: %+v %+v", batch[0], batch[250])
		}
		if err := db.AppendLogLines(ctx, []store.LogLine{{RunID: "nope", Text: "x"}}); err == nil {
			t.Fatal("log line of an unknown run stored")
		}

		tests := []struct {
			stage, action string
			n             int
			want          []int // indexes into batch
		}{
			{"test", "vet", 3, []int{245, 247, 249}},
			{"test", "", 3, []int{247, 248, 249}},
			{"", "", 2, []int{248, 249}},
			{"test", "unit", 1000, nil}, // every unit line, checked by count
			{"build", "", 5, []int{}},
			{"test", "vet", 0, []int{}},
		}
		for _, tt := range tests {
			got, err := db.LogTail(ctx, run.ID, tt.stage, tt.action, tt.n)
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == nil {
				if len(got) != 125 || got[0].Text != "line 0" || got[124].Text != "line 248" {
					t.Errorf("LogTail(%s, %s, %d): %d lines", tt.stage, tt.action, tt.n, len(got))
				}
				continue
			}
			want := make([]store.LogLine, len(tt.want))
			for i, j := range tt.want {
				want[i] = batch[j]
			}
			if len(got) != len(want) || (len(want) > 0 && !reflect.DeepEqual(got, want)) {
				t.Errorf("LogTail(%s, %s, %d) =\n%+v\nwant\n%+v", tt.stage, tt.action, tt.n, got, want)
			}
		}
	})
}

func TestArtifacts(t *testing.T) {
	pgtest.Run(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := openURL(t, url)
		run := newRun(t, db, "acme/web")
		for i, name := range []string{"build", "package"} {
			if err := db.UpsertStage(ctx, store.Stage{RunID: run.ID, Name: name, Position: i}); err != nil {
				t.Fatal(err)
			}
		}
		arts := []store.Artifact{
			{RunID: run.ID, Stage: "package", Path: "dist/app.tar.gz", Size: 300, SHA256: "cc"},
			{RunID: run.ID, Stage: "build", Path: "bin/b", Size: 200, SHA256: "bb"},
			{RunID: run.ID, Stage: "build", Path: "bin/a", Size: 100, SHA256: "aa"},
		}
		if err := db.RecordArtifacts(ctx, arts); err != nil {
			t.Fatal(err)
		}
		arts[1].Size, arts[1].SHA256 = 201, "bb2" // stored again: replaced
		if err := db.RecordArtifacts(ctx, arts[1:2]); err != nil {
			t.Fatal(err)
		}
		got, err := db.ArtifactsForRun(ctx, run.ID)
		if err != nil {
			t.Fatal(err)
		}
		if want := []store.Artifact{arts[2], arts[1], arts[0]}; !reflect.DeepEqual(got, want) {
			t.Fatalf("ArtifactsForRun =\n%+v\nwant\n%+v", got, want)
		}
	})
}

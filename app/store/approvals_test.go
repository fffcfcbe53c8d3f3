package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stagegate/stagegate/app/store"
	"github.com/stagegate/stagegate/internal/pgtest"
)

func TestApprovalsBindToTheCommit(t *testing.T) {
	pgtest.Run(t, func(t *testing.T, url string) {
		db := openURL(t, url)
		ctx := context.Background()
		if err := db.Approve(ctx, store.Approval{Repo: "acme/web", SHA: "aaa", Kind: store.ApprovalDeploy, Scope: "production", Approver: "alice"}); err != nil {
			t.Fatal(err)
		}
		if err := db.Approve(ctx, store.Approval{Repo: "acme/web", SHA: "aaa", Kind: store.ApprovalDeploy, Scope: "production", Approver: "bob"}); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name, sha, kind, scope string
			want                   string // approver, or "" for none
		}{
			{"same commit and environment, latest approver", "aaa", store.ApprovalDeploy, "production", "bob"},
			{"another commit", "bbb", store.ApprovalDeploy, "production", ""},
			{"another environment", "aaa", store.ApprovalDeploy, "staging", ""},
			{"another kind", "aaa", store.ApprovalOkToTest, "", ""},
		}
		for _, tt := range tests {
			a, err := db.GetApproval(ctx, "acme/web", tt.sha, tt.kind, tt.scope)
			switch {
			case tt.want == "" && !errors.Is(err, store.ErrNotFound):
				t.Errorf("%s: err = %v, want ErrNotFound", tt.name, err)
			case tt.want != "" && (err != nil || a.Approver != tt.want || a.ApprovedAt.IsZero()):
				t.Errorf("%s: %+v %v, want approver %s", tt.name, a, err, tt.want)
			}
		}
	})
}

func TestChecksUnsent(t *testing.T) {
	pgtest.Run(t, func(t *testing.T, url string) {
		db := openURL(t, url)
		ctx := context.Background()
		run, err := db.CreateRun(ctx, store.Run{Repo: "acme/web", SHA: "aaa", Event: "push", Branch: "main"})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.SetChecksUnsent(ctx, run.ID, true); err != nil {
			t.Fatal(err)
		}
		if runs, err := db.RunsWithUnsentChecks(ctx); err != nil || len(runs) != 0 {
			t.Fatalf("a queued run is listed: %v %v", runs, err)
		}
		if err := db.FinishRun(ctx, run.ID, "success", ""); err != nil {
			t.Fatal(err)
		}
		if runs, err := db.RunsWithUnsentChecks(ctx); err != nil || len(runs) != 1 || runs[0].ID != run.ID {
			t.Fatalf("RunsWithUnsentChecks = %v, %v", runs, err)
		}
		if err := db.SetChecksUnsent(ctx, run.ID, false); err != nil {
			t.Fatal(err)
		}
		if runs, _ := db.RunsWithUnsentChecks(ctx); len(runs) != 0 {
			t.Errorf("still listed after being sent: %v", runs)
		}
	})
}

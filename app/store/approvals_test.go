package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stagegate/stagegate/app/store"
)

func TestApprovalsBindToTheCommit(t *testing.T) {
	db := openDB(t)
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
}

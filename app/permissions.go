package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/google/go-github/v60/github"
)

// permission is a user's access to a repository as GitHub reports it:
// admin, write (maintain included), read or none. It comes from the
// collaborator permission API, never from a comment's
// author_association, which says NONE for private members of an
// organisation.
func permission(ctx context.Context, client *github.Client, owner, repo, login string) (string, error) {
	level, resp, err := client.Repositories.GetPermissionLevel(ctx, owner, repo, login)
	if resp != nil && resp.StatusCode == http.StatusNotFound {
		return "none", nil
	}
	if err != nil {
		return "", fmt.Errorf("permission of %s on %s/%s: %w", login, owner, repo, err)
	}
	return level.GetPermission(), nil
}

func canWrite(perm string) bool { return perm == "admin" || perm == "write" || perm == "maintain" }

// errForbidden carries the reason a user may not do something, for the
// reply that tells them.
type errForbidden struct{ why string }

func (e errForbidden) Error() string { return e.why }

// mayWrite allows users with write access: /retry, /cancel, /ok-to-test.
func mayWrite(ctx context.Context, client *github.Client, owner, repo, login, what string) error {
	perm, err := permission(ctx, client, owner, repo, login)
	if err != nil {
		return err
	}
	if canWrite(perm) {
		return nil
	}
	return errForbidden{fmt.Sprintf("@%s cannot %s: that needs write access to %s/%s, and @%s has %s", login, what, owner, repo, login, perm)}
}

func teamMember(ctx context.Context, client *github.Client, org, slug, login string) (bool, error) {
	m, resp, err := client.Teams.GetTeamMembershipBySlug(ctx, org, slug, login)
	if resp != nil && resp.StatusCode == http.StatusNotFound {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("membership of %s in @%s/%s: %w", login, org, slug, err)
	}
	return m.GetState() == "active", nil
}

func isForbidden(err error) (string, bool) {
	var f errForbidden
	if errors.As(err, &f) {
		return f.why, true
	}
	return "", false
}

// Package access answers who may do what on a repository, as GitHub
// reports it, and carries the refusal that tells a user Why not.
package access

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/google/go-github/v60/github"
)

// Permission is a user's access to a repository as GitHub reports it:
// admin, write (maintain included), read or none. It comes from the
// collaborator permission API, never from a comment's
// author_association, which says NONE for private members of an
// organisation.
func Permission(ctx context.Context, client *github.Client, owner, repo, login string) (string, error) {
	level, resp, err := client.Repositories.GetPermissionLevel(ctx, owner, repo, login)
	if resp != nil && resp.StatusCode == http.StatusNotFound {
		return "none", nil
	}
	if err != nil {
		return "", fmt.Errorf("permission of %s on %s/%s: %w", login, owner, repo, err)
	}
	return level.GetPermission(), nil
}

// CanWrite reports whether a permission allows pushing.
func CanWrite(perm string) bool { return perm == "admin" || perm == "write" || perm == "maintain" }

// Forbidden carries the reason a user may not do something, for the
// reply that tells them.
type Forbidden struct{ Why string }

func (e Forbidden) Error() string { return e.Why }

// MayWrite allows users with write access: /retry, /cancel, /ok-to-test.
func MayWrite(ctx context.Context, client *github.Client, owner, repo, login, what string) error {
	perm, err := Permission(ctx, client, owner, repo, login)
	if err != nil {
		return err
	}
	if CanWrite(perm) {
		return nil
	}
	return Forbidden{Why: fmt.Sprintf("@%s cannot %s: that needs write access to %s/%s, and @%s has %s", login, what, owner, repo, login, perm)}
}

// TeamMember reports whether login is an active member of the team.
func TeamMember(ctx context.Context, client *github.Client, org, slug, login string) (bool, error) {
	m, resp, err := client.Teams.GetTeamMembershipBySlug(ctx, org, slug, login)
	if resp != nil && resp.StatusCode == http.StatusNotFound {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("membership of %s in @%s/%s: %w", login, org, slug, err)
	}
	return m.GetState() == "active", nil
}

// IsForbidden is the reason of a Forbidden in err's chain.
func IsForbidden(err error) (string, bool) {
	var f Forbidden
	if errors.As(err, &f) {
		return f.Why, true
	}
	return "", false
}

package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-github/v60/github"

	"github.com/stagegate/stagegate/pipeline"
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

// mayDeploy allows users with write access, and the stage's deployers:
// logins, and members of @org/team teams.
func mayDeploy(ctx context.Context, client *github.Client, owner, repo, login string, st *pipeline.Stage) error {
	perm, err := permission(ctx, client, owner, repo, login)
	if err != nil {
		return err
	}
	if canWrite(perm) {
		return nil
	}
	for _, d := range st.Deployers {
		team, isTeam := strings.CutPrefix(d, "@")
		if !isTeam {
			if strings.EqualFold(d, login) {
				return nil
			}
			continue
		}
		org, slug, _ := strings.Cut(team, "/")
		member, err := teamMember(ctx, client, org, slug, login)
		if err != nil {
			return err
		}
		if member {
			return nil
		}
	}
	why := fmt.Sprintf("@%s cannot deploy to %s: that needs write access to %s/%s, and @%s has %s", login, st.Environment, owner, repo, login, perm)
	if len(st.Deployers) > 0 {
		why += fmt.Sprintf(", and is not one of the stage's deployers (%s)", strings.Join(st.Deployers, ", "))
	}
	return errForbidden{why}
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

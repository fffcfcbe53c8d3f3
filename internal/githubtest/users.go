package githubtest

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

const (
	docRepoPermission = "https://docs.github.com/rest/collaborators/collaborators#get-repository-permissions-for-a-user"
	docTeamMembership = "https://docs.github.com/rest/teams/members#get-team-membership-for-a-user"
)

// user is an account that is not an organization: a person ("User") or an
// App's bot ("Bot", login "<slug>[bot]").
type user struct {
	login string
	id    int64
	typ   string
}

// team is an organization's team; members maps lower-case logins to the
// membership role ("member").
type team struct {
	id        int64
	org, slug string
	members   map[string]string
}

// roleEnum are the repository roles, strongest first.
var roleEnum = []string{"admin", "maintain", "write", "triage", "read", "none"}

// loginRE is what GitHub allows in a login: alphanumerics and single
// inner hyphens; a bot's login ends in "[bot]".
var loginRE = regexp.MustCompile(`^[A-Za-z0-9](?:-?[A-Za-z0-9])*(?:\[bot\])?$`)

// AddUser creates the account login of type typ, "User" or "Bot", and
// returns its id. Adding an existing login again with the same type does
// nothing. [Server.SetPermission], [Server.AddTeamMember],
// [Server.AddComment] and [Server.AddPullRequest] create a "User" for a
// login they do not know; a login no helper mentioned is no user, and the
// API answers 404 for it as GitHub does.
func (s *Server) AddUser(login, typ string) int64 {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.addUserLocked(login, typ)
	if err != nil {
		s.t.Fatalf("githubtest: AddUser: %v", err)
	}
	return u.id
}

func (s *Server) addUserLocked(login, typ string) (*user, error) {
	if typ != "User" && typ != "Bot" {
		return nil, fmt.Errorf("type %q is not User or Bot", typ)
	}
	if !loginRE.MatchString(login) || len(login) > 39+len("[bot]") {
		return nil, fmt.Errorf("invalid login %q", login)
	}
	k := strings.ToLower(login)
	if u := s.users[k]; u != nil {
		if u.typ != typ {
			return nil, fmt.Errorf("%s exists as a %s", login, u.typ)
		}
		return u, nil
	}
	if s.isOrgLocked(login) {
		return nil, fmt.Errorf("%s is an organization", login)
	}
	u := &user{login: login, id: s.accountIDLocked(login), typ: typ}
	s.users[k] = u
	return u, nil
}

// ensureUserLocked returns login's account, creating a "User" if needed.
func (s *Server) ensureUserLocked(login string) (*user, error) {
	if u := s.users[strings.ToLower(login)]; u != nil {
		return u, nil
	}
	return s.addUserLocked(login, "User")
}

// botLocked is the bot account an App acts as ("<slug>[bot]").
func (s *Server) botLocked(app *App) *user {
	k := strings.ToLower(app.Slug + "[bot]")
	if u := s.users[k]; u != nil {
		return u
	}
	u := &user{login: app.Slug + "[bot]", id: s.accountIDLocked(app.Slug + "[bot]"), typ: "Bot"}
	s.users[k] = u
	return u
}

// isOrgLocked reports whether login is an organization: it owns a
// repository that is not a fork, has an installation or has teams.
func (s *Server) isOrgLocked(login string) bool {
	for _, r := range s.repos {
		if s.forks[r.ID] == 0 && strings.EqualFold(r.Owner, login) {
			return true
		}
	}
	for _, inst := range s.installations {
		if strings.EqualFold(inst.account, login) {
			return true
		}
	}
	for _, t := range s.teams {
		if strings.EqualFold(t.org, login) {
			return true
		}
	}
	return false
}

func (s *Server) userJSON(u *user) map[string]any { return s.accountJSON(u.login, u.id, u.typ) }

// SetPermission gives user the role perm on owner/repo: admin, maintain,
// write, triage, read or none (none removes the user's access).
func (s *Server) SetPermission(owner, repo, login, perm string) {
	s.t.Helper()
	if !oneOf(perm, roleEnum...) {
		s.t.Fatalf("githubtest: SetPermission: %q is not one of %v", perm, roleEnum)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repos[repoKey(owner, repo)]
	if r == nil {
		s.t.Fatalf("githubtest: SetPermission: no repository %s/%s", owner, repo)
	}
	u, err := s.ensureUserLocked(login)
	if err != nil {
		s.t.Fatalf("githubtest: SetPermission: %v", err)
	}
	k := repoKey(r.Owner, r.Name)
	if s.repoRoles[k] == nil {
		s.repoRoles[k] = map[string]string{}
	}
	s.repoRoles[k][strings.ToLower(u.login)] = perm
}

// roleLocked is u's role on r: its own, else "read" on a public
// repository, else "none".
func (s *Server) roleLocked(r *Repo, u *user) string {
	if role := s.repoRoles[repoKey(r.Owner, r.Name)][strings.ToLower(u.login)]; role != "" && role != "none" {
		return role
	}
	if !r.Private {
		return "read"
	}
	return "none"
}

// legacyPermission maps a role to the old permission values GitHub still
// reports in "permission": maintain reads as write and triage as read.
func legacyPermission(role string) string {
	switch role {
	case "maintain":
		return "write"
	case "triage":
		return "read"
	}
	return role
}

// AddTeamMember makes user a member of the team org/teamSlug, creating the
// team (and the user, as a "User") if needed.
func (s *Server) AddTeamMember(org, teamSlug, login string) {
	s.t.Helper()
	if !nameRE.MatchString(org) || !nameRE.MatchString(teamSlug) {
		s.t.Fatalf("githubtest: AddTeamMember: invalid team %q/%q", org, teamSlug)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.ensureUserLocked(login)
	if err != nil {
		s.t.Fatalf("githubtest: AddTeamMember: %v", err)
	}
	k := strings.ToLower(org + "/" + teamSlug)
	t := s.teams[k]
	if t == nil {
		t = &team{id: s.newIDLocked(), org: org, slug: teamSlug, members: map[string]string{}}
		s.teams[k] = t
	}
	t.members[strings.ToLower(u.login)] = "member"
}

// orgMemberLocked reports whether u is in any team of org.
func (s *Server) orgMemberLocked(org string, u *user) bool {
	for _, t := range s.teams {
		if strings.EqualFold(t.org, org) && t.members[strings.ToLower(u.login)] != "" {
			return true
		}
	}
	return false
}

// associationLocked is GitHub's author_association of u on r.
func (s *Server) associationLocked(r *Repo, u *user) string {
	switch {
	case strings.EqualFold(u.login, r.Owner):
		return "OWNER"
	case s.orgMemberLocked(r.Owner, u):
		return "MEMBER"
	case s.repoRoles[repoKey(r.Owner, r.Name)][strings.ToLower(u.login)] != "" &&
		s.repoRoles[repoKey(r.Owner, r.Name)][strings.ToLower(u.login)] != "none":
		return "COLLABORATOR"
	}
	return "NONE"
}

func (s *Server) userRoutes() {
	s.handle("GET /api/v3/repos/{owner}/{repo}/collaborators/{username}/permission", authRepo("metadata", "read"), s.getRepoPermission)
	s.handle("GET /api/v3/orgs/{org}/teams/{team_slug}/memberships/{username}", authToken, s.getTeamMembership)
}

// getRepoPermission answers like GitHub: 404 "<login> is not a user" for
// an unknown login, else the role with its legacy "permission".
func (s *Server) getRepoPermission(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	login := r.PathValue("username")
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[strings.ToLower(login)]
	if u == nil {
		writeError(w, http.StatusNotFound, login+" is not a user", docRepoPermission)
		return
	}
	role := s.roleLocked(rc.repo, u)
	uj := s.userJSON(u)
	rank := map[string]int{"admin": 5, "maintain": 4, "write": 3, "triage": 2, "read": 1}[role]
	uj["permissions"] = map[string]bool{"admin": rank >= 5, "maintain": rank >= 4, "push": rank >= 3, "triage": rank >= 2, "pull": rank >= 1}
	uj["role_name"] = role
	writeJSON(w, http.StatusOK, map[string]any{
		"permission": legacyPermission(role),
		"role_name":  role,
		"user":       uj,
	})
}

// getTeamMembership needs a token of an installation on the organization
// (404 otherwise: the team is not visible) with members:read (403).
func (s *Server) getTeamMembership(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	org := r.PathValue("org")
	if rc.inst == nil || !strings.EqualFold(rc.inst.account, org) {
		writeError(w, http.StatusNotFound, "Not Found", docTeamMembership)
		return
	}
	if !hasPerm(rc.tok.permissions, "members", "read") {
		writeError(w, http.StatusForbidden, msgNotAccessible, docTeamMembership)
		return
	}
	login := r.PathValue("username")
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.teams[strings.ToLower(org+"/"+r.PathValue("team_slug"))]
	if t == nil || t.members[strings.ToLower(login)] == "" {
		writeError(w, http.StatusNotFound, "Not Found", docTeamMembership)
		return
	}
	u := s.users[strings.ToLower(login)]
	writeJSON(w, http.StatusOK, map[string]any{
		"url":   s.URL + "/api/v3/teams/" + strconv.FormatInt(t.id, 10) + "/memberships/" + u.login,
		"role":  t.members[strings.ToLower(login)],
		"state": "active",
	})
}

package githubtest

import (
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Deployment environments as GitHub's settings hold them, read through
// the REST environments API:
// https://docs.github.com/rest/deployments/environments#get-an-environment
// https://docs.github.com/rest/deployments/branch-policies#list-deployment-branch-policies
// and the protection a branch policy of "protected branches" looks at:
// https://docs.github.com/rest/branches/branches#get-a-branch

const (
	docGetEnvironment  = "https://docs.github.com/rest/deployments/environments#get-an-environment"
	docBranchPolicies  = "https://docs.github.com/rest/deployments/branch-policies#list-deployment-branch-policies"
	maxEnvReviewers    = 6     // "You can list up to six users or teams as reviewers."
	maxWaitTimerMinute = 43200 // wait_timer: 0 to 43,200 minutes (30 days)
)

// BranchPolicy is an environment's "Deployment branches and tags" setting.
type BranchPolicy int

// The three choices of GitHub's settings page.
const (
	// BranchPolicyNone: any branch or tag may deploy
	// (deployment_branch_policy is null).
	BranchPolicyNone BranchPolicy = iota
	// BranchPolicyProtected: only branches with branch protection rules.
	BranchPolicyProtected
	// BranchPolicyCustom: only branches and tags matching the patterns.
	BranchPolicyCustom
)

// Environment is a repository's deployment environment with its
// protection rules.
type Environment struct {
	Name string
	// WaitTimer is in minutes (0–43,200).
	WaitTimer int
	// Reviewers are logins, or "@org/team" for teams; at most six.
	Reviewers         []string
	PreventSelfReview bool
	BranchPolicy      BranchPolicy
	// BranchPatterns and TagPatterns are the custom policies' name
	// patterns (type "branch" and "tag"), for BranchPolicyCustom.
	BranchPatterns, TagPatterns []string
	// CanAdminsBypass is GitHub's "Allow administrators to bypass
	// configured protection rules" (default true).
	CanAdminsBypass *bool

	id                   int64
	createdAt, updatedAt time.Time
	policyIDs            []int64
}

// SetEnvironment creates or replaces owner/repo's environment env.Name,
// as an administrator would on the repository's settings page.
func (s *Server) SetEnvironment(owner, repo string, env Environment) {
	s.t.Helper()
	if env.Name == "" || len(env.Name) > 255 {
		s.t.Fatalf("githubtest: SetEnvironment: invalid name %q", env.Name)
	}
	if len(env.Reviewers) > maxEnvReviewers {
		s.t.Fatalf("githubtest: SetEnvironment: %d reviewers; GitHub allows %d", len(env.Reviewers), maxEnvReviewers)
	}
	if env.WaitTimer < 0 || env.WaitTimer > maxWaitTimerMinute {
		s.t.Fatalf("githubtest: SetEnvironment: wait timer %d is not within 0-%d minutes", env.WaitTimer, maxWaitTimerMinute)
	}
	if env.BranchPolicy != BranchPolicyCustom && len(env.BranchPatterns)+len(env.TagPatterns) > 0 {
		s.t.Fatal("githubtest: SetEnvironment: name patterns need BranchPolicyCustom")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repos[repoKey(owner, repo)]
	if r == nil {
		s.t.Fatalf("githubtest: SetEnvironment: no repository %s/%s", owner, repo)
	}
	for _, login := range env.Reviewers {
		if team, ok := strings.CutPrefix(login, "@"); ok {
			if s.teams[strings.ToLower(team)] == nil {
				s.t.Fatalf("githubtest: SetEnvironment: no team %s", login)
			}
			continue
		}
		if _, err := s.ensureUserLocked(login); err != nil {
			s.t.Fatalf("githubtest: SetEnvironment: %v", err)
		}
	}
	k := repoKey(r.Owner, r.Name)
	if s.environments[k] == nil {
		s.environments[k] = map[string]*Environment{}
	}
	now := s.nowLocked()
	e := env
	e.Reviewers = append([]string(nil), env.Reviewers...)
	e.BranchPatterns = append([]string(nil), env.BranchPatterns...)
	e.TagPatterns = append([]string(nil), env.TagPatterns...)
	// Environment names are case-insensitive on GitHub.
	if old := s.environments[k][strings.ToLower(env.Name)]; old != nil {
		e.id, e.createdAt = old.id, old.createdAt
	} else {
		e.id, e.createdAt = s.newIDLocked(), now
	}
	e.updatedAt = now
	for range len(e.BranchPatterns) + len(e.TagPatterns) {
		e.policyIDs = append(e.policyIDs, s.newIDLocked())
	}
	s.environments[k][strings.ToLower(env.Name)] = &e
}

// SetBranchProtected turns branch protection of owner/repo's branch on or
// off, which is what a "protected branches" deployment policy looks at.
func (s *Server) SetBranchProtected(owner, repo, branch string, protected bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := repoKey(owner, repo)
	if s.protectedBranches[k] == nil {
		s.protectedBranches[k] = map[string]bool{}
	}
	s.protectedBranches[k][branch] = protected
}

func (s *Server) environmentRoutes() {
	// Anyone with read access may read an environment; an App needs the
	// Actions permission (read) for it.
	s.handle("GET /api/v3/repos/{owner}/{repo}/environments/{environment_name}", authRepo("actions", "read"), s.getEnvironment)
	s.handle("GET /api/v3/repos/{owner}/{repo}/environments/{environment_name}/deployment-branch-policies", authRepo("actions", "read"), s.listBranchPolicies)
	s.handle("GET /api/v3/repos/{owner}/{repo}/branches/{branch...}", authRepo("contents", "read"), s.getBranch)
}

func (s *Server) environmentLocked(r *Repo, name string) *Environment {
	return s.environments[repoKey(r.Owner, r.Name)][strings.ToLower(name)]
}

func (s *Server) getEnvironment(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.environmentLocked(rc.repo, r.PathValue("environment_name"))
	if e == nil {
		writeNotFound(w)
		return
	}
	writeJSON(w, http.StatusOK, s.environmentJSONLocked(rc.repo, e))
}

func (s *Server) environmentJSONLocked(repo *Repo, e *Environment) map[string]any {
	var rules []any
	if e.WaitTimer > 0 {
		rules = append(rules, map[string]any{"id": e.id*10 + 1, "node_id": nodeID("GA", e.id*10+1), "type": "wait_timer", "wait_timer": e.WaitTimer})
	}
	if len(e.Reviewers) > 0 {
		var reviewers []any
		for _, login := range e.Reviewers {
			if team, ok := strings.CutPrefix(login, "@"); ok {
				t := s.teams[strings.ToLower(team)]
				reviewers = append(reviewers, map[string]any{"type": "Team", "reviewer": map[string]any{
					"id": t.id, "node_id": nodeID("04:Team", t.id), "name": t.slug, "slug": t.slug,
					"html_url": s.URL + "/orgs/" + t.org + "/teams/" + t.slug,
					"url":      s.URL + "/api/v3/organizations/" + t.org + "/team/" + t.slug,
				}})
				continue
			}
			reviewers = append(reviewers, map[string]any{"type": "User", "reviewer": s.userJSON(s.users[strings.ToLower(login)])})
		}
		rules = append(rules, map[string]any{
			"id": e.id*10 + 2, "node_id": nodeID("GA", e.id*10+2), "type": "required_reviewers",
			"prevent_self_review": e.PreventSelfReview, "reviewers": reviewers,
		})
	}
	var policy any
	if e.BranchPolicy != BranchPolicyNone {
		rules = append(rules, map[string]any{"id": e.id*10 + 3, "node_id": nodeID("GA", e.id*10+3), "type": "branch_policy"})
		policy = map[string]any{
			"protected_branches":     e.BranchPolicy == BranchPolicyProtected,
			"custom_branch_policies": e.BranchPolicy == BranchPolicyCustom,
		}
	}
	bypass := e.CanAdminsBypass == nil || *e.CanAdminsBypass
	if rules == nil {
		rules = []any{}
	}
	return map[string]any{
		"id": e.id, "node_id": nodeID("EN", e.id), "name": e.Name,
		"url":                      repo.APIURL() + "/environments/" + url.PathEscape(e.Name),
		"html_url":                 repo.HTMLURL() + "/deployments/activity_log?environments_filter=" + url.QueryEscape(e.Name),
		"created_at":               iso(e.createdAt),
		"updated_at":               iso(e.updatedAt),
		"can_admins_bypass":        bypass,
		"protection_rules":         rules,
		"deployment_branch_policy": policy,
	}
}

// listBranchPolicies lists an environment's custom name patterns. An
// environment without custom policies lists none.
func (s *Server) listBranchPolicies(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.environmentLocked(rc.repo, r.PathValue("environment_name"))
	if e == nil {
		writeNotFound(w)
		return
	}
	var all []any
	add := func(names []string, typ string, ids []int64) {
		for i, n := range names {
			all = append(all, map[string]any{"id": ids[i], "node_id": nodeID("DBP", ids[i]), "name": n, "type": typ})
		}
	}
	add(e.BranchPatterns, "branch", e.policyIDs)
	add(e.TagPatterns, "tag", e.policyIDs[len(e.BranchPatterns):])
	lo, hi := page(w, r, s.URL, len(all))
	items := all[lo:hi]
	if items == nil {
		items = []any{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"total_count": len(all), "branch_policies": items})
}

// getBranch is GET /repos/{o}/{r}/branches/{branch}: the branch's head and
// whether it is protected; 404 "Branch not found" for a missing branch.
func (s *Server) getBranch(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	branch := r.PathValue("branch")
	sha, ok := rc.repo.resolveCommit("refs/heads/" + branch)
	if !ok {
		writeError(w, http.StatusNotFound, "Branch not found", "https://docs.github.com/rest/branches/branches#get-a-branch")
		return
	}
	s.mu.Lock()
	protected := s.protectedBranches[repoKey(rc.repo.Owner, rc.repo.Name)][branch]
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"name":      branch,
		"commit":    map[string]any{"sha": sha, "url": rc.repo.APIURL() + "/commits/" + sha},
		"protected": protected,
		"_links":    map[string]any{"self": rc.repo.APIURL() + "/branches/" + branch, "html": rc.repo.HTMLURL() + "/tree/" + branch},
	})
}

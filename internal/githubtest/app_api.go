package githubtest

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

const docAccessTokens = "https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app"

func (s *Server) appRoutes() {
	s.handle("GET /api/v3/app", authApp, s.getApp)
	s.handle("GET /api/v3/app/installations", authApp, s.listInstallations)
	s.handle("GET /api/v3/app/installations/{installation_id}", authApp, s.getInstallation)
	s.handle("POST /api/v3/app/installations/{installation_id}/access_tokens", authApp, s.createAccessToken)
	s.handle("GET /api/v3/repos/{owner}/{repo}/installation", authApp, s.getRepoInstallation)
	s.handle("GET /api/v3/orgs/{org}/installation", authApp, s.getAccountInstallation)
	s.handle("GET /api/v3/users/{org}/installation", authApp, s.getAccountInstallation)
	s.handle("GET /api/v3/installation/repositories", authToken, s.listInstallationRepos)
}

func (s *Server) getApp(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	s.mu.Lock()
	n := 0
	for _, inst := range s.installations {
		if inst.appID == rc.app.ID && !inst.deleted {
			n++
		}
	}
	body := s.appJSONLocked(rc.app)
	s.mu.Unlock()
	body["installations_count"] = n
	writeJSON(w, http.StatusOK, body)
}

func (s *Server) listInstallations(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	s.mu.Lock()
	var list []*installation
	for _, inst := range s.installations {
		if inst.appID == rc.app.ID && !inst.deleted {
			list = append(list, inst)
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].id < list[j].id })
	lo, hi := page(w, r, s.URL, len(list))
	out := []any{}
	for _, inst := range list[lo:hi] {
		out = append(out, s.installationJSONLocked(inst))
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// appInstallationLocked finds one of rc's App's live installations by the
// {installation_id} path value.
func (s *Server) appInstallationLocked(r *http.Request, rc *reqCtx) *installation {
	id, err := strconv.ParseInt(r.PathValue("installation_id"), 10, 64)
	if err != nil {
		return nil
	}
	inst := s.installations[id]
	if inst == nil || inst.deleted || inst.appID != rc.app.ID {
		return nil
	}
	return inst
}

func (s *Server) getInstallation(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	s.mu.Lock()
	inst := s.appInstallationLocked(r, rc)
	var body map[string]any
	if inst != nil {
		body = s.installationJSONLocked(inst)
	}
	s.mu.Unlock()
	if inst == nil {
		writeNotFound(w)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

func (s *Server) getRepoInstallation(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	s.mu.Lock()
	var body map[string]any
	if repo := s.repos[repoKey(r.PathValue("owner"), r.PathValue("repo"))]; repo != nil {
		if inst := s.installationForLocked(rc.app.ID, repo); inst != nil {
			body = s.installationJSONLocked(inst)
		}
	}
	s.mu.Unlock()
	if body == nil {
		writeNotFound(w)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

func (s *Server) getAccountInstallation(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	s.mu.Lock()
	var found *installation
	for _, inst := range s.installations {
		if inst.appID == rc.app.ID && !inst.deleted && strings.EqualFold(inst.account, r.PathValue("org")) &&
			(found == nil || inst.id < found.id) {
			found = inst
		}
	}
	var body map[string]any
	if found != nil {
		body = s.installationJSONLocked(found)
	}
	s.mu.Unlock()
	if found == nil {
		writeNotFound(w)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// createAccessToken is POST /app/installations/{id}/access_tokens. The
// optional body narrows the token: {"repositories": [names],
// "repository_ids": [ids], "permissions": {name: level}}.
func (s *Server) createAccessToken(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	var req struct {
		Repositories  []string          `json:"repositories"`
		RepositoryIDs []int64           `json:"repository_ids"`
		Permissions   map[string]string `json:"permissions"`
	}
	body, raw, ok := decodeBody(w, r)
	if !ok {
		return
	}
	if len(body) > 0 {
		if err := json.Unmarshal(raw, &req); err != nil {
			writeInvalidRequest(w, docAccessTokens, []string{"Invalid input: " + err.Error()})
			return
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	inst := s.appInstallationLocked(r, rc)
	if inst == nil {
		writeNotFound(w)
		return
	}
	rc.inst = inst
	if inst.suspended {
		writeError(w, http.StatusForbidden, msgSuspended, docAccessTokens)
		return
	}
	tok := &token{
		value:          newTokenValue(),
		installationID: inst.id,
		appID:          inst.appID,
		issuedAt:       s.nowLocked(),
		permissions:    copyPerms(inst.permissions),
	}
	tok.expiresAt = tok.issuedAt.Add(s.opts.tokenTTL)

	if len(req.Repositories) > 0 || len(req.RepositoryIDs) > 0 {
		tok.repos = map[int64]bool{}
		for _, name := range req.Repositories {
			repo := s.repos[repoKey(inst.account, name)]
			if repo == nil || !inst.coversLocked(repo) {
				writeError(w, http.StatusUnprocessableEntity,
					"There is at least one repository that does not exist or is not accessible to the parent installation.", docAccessTokens)
				return
			}
			tok.repos[repo.ID] = true
		}
		for _, id := range req.RepositoryIDs {
			repo := s.repoByIDLocked(id)
			if repo == nil || !inst.coversLocked(repo) {
				writeError(w, http.StatusUnprocessableEntity,
					"There is at least one repository that does not exist or is not accessible to the parent installation.", docAccessTokens)
				return
			}
			tok.repos[repo.ID] = true
		}
	}
	if len(req.Permissions) > 0 {
		for name, level := range req.Permissions {
			if !hasPerm(inst.permissions, name, level) {
				writeError(w, http.StatusUnprocessableEntity,
					"The permissions requested are not granted to this installation.", docAccessTokens)
				return
			}
		}
		tok.permissions = copyPerms(req.Permissions)
	}
	s.tokens[tok.value] = tok

	resp := map[string]any{
		"token":                tok.value,
		"expires_at":           iso(tok.expiresAt),
		"permissions":          tok.permissions,
		"repository_selection": repoSelection(inst),
	}
	if tok.repos != nil {
		var repos []any
		for _, repo := range s.sortedReposLocked() {
			if tok.repos[repo.ID] {
				repos = append(repos, s.repoJSONLocked(repo))
			}
		}
		resp["repositories"] = repos
		resp["repository_selection"] = "selected"
	}
	writeJSON(w, http.StatusCreated, resp)
}

func (s *Server) listInstallationRepos(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	s.mu.Lock()
	var list []*Repo
	for _, repo := range s.sortedReposLocked() {
		if s.tokenCoversLocked(rc.tok, repo) {
			list = append(list, repo)
		}
	}
	lo, hi := page(w, r, s.URL, len(list))
	out := []any{}
	for _, repo := range list[lo:hi] {
		out = append(out, s.repoJSONLocked(repo))
	}
	sel := repoSelection(rc.inst)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"total_count":          len(list),
		"repository_selection": sel,
		"repositories":         out,
	})
}

func repoSelection(inst *installation) string {
	if inst.all {
		return "all"
	}
	return "selected"
}

// newTokenValue makes a token shaped like GitHub's installation tokens:
// "ghs_" and 36 alphanumerics.
func newTokenValue() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 36)
	for i := range b {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			panic(err)
		}
		b[i] = alphabet[n.Int64()]
	}
	return "ghs_" + string(b)
}

func (s *Server) appJSONLocked(a *App) map[string]any {
	owner, ownerType, external := "stagegate", "Organization", s.URL+"/apps/"+a.Slug+"/home"
	if a.owner != "" {
		owner, ownerType, external = a.owner, a.ownerType, a.externalURL
	}
	return map[string]any{
		"id":           a.ID,
		"slug":         a.Slug,
		"node_id":      nodeID("03:Integration", a.ID),
		"client_id":    a.ClientID(),
		"owner":        s.accountJSON(owner, s.accountIDLocked(owner), ownerType),
		"name":         a.Name,
		"description":  a.description,
		"external_url": external,
		"html_url":     s.URL + "/apps/" + a.Slug,
		"created_at":   iso(a.createdAt),
		"updated_at":   iso(a.createdAt),
		"permissions":  copyPerms(a.permissionsLocked()),
		"events":       a.eventsLocked(),
	}
}

// ClientID is the App's OAuth client id ("Iv1." and 16 hex digits).
func (a *App) ClientID() string { return fmt.Sprintf("Iv1.%016x", a.ID) }

func (s *Server) installationJSONLocked(inst *installation) map[string]any {
	app := s.apps[inst.appID]
	var suspendedBy any
	if inst.suspended {
		suspendedBy = s.accountJSON("octocat", s.accountIDLocked("octocat"), "User")
	}
	return map[string]any{
		"id":                        inst.id,
		"account":                   s.accountJSON(inst.account, inst.accountID, "Organization"),
		"repository_selection":      repoSelection(inst),
		"access_tokens_url":         s.URL + "/api/v3/app/installations/" + strconv.FormatInt(inst.id, 10) + "/access_tokens",
		"repositories_url":          s.URL + "/api/v3/installation/repositories",
		"html_url":                  s.URL + "/organizations/" + inst.account + "/settings/installations/" + strconv.FormatInt(inst.id, 10),
		"app_id":                    inst.appID,
		"app_slug":                  app.Slug,
		"target_id":                 inst.accountID,
		"target_type":               "Organization",
		"permissions":               copyPerms(inst.permissions),
		"events":                    inst.events,
		"created_at":                iso(inst.createdAt),
		"updated_at":                iso(inst.createdAt),
		"single_file_name":          nil,
		"has_multiple_single_files": false,
		"single_file_paths":         []string{},
		"suspended_by":              suspendedBy,
		"suspended_at":              isoOrNil(inst.suspendedAt),
	}
}

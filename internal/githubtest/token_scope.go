package githubtest

import "sort"

// TokenScope is what an installation token may reach, as it was issued.
type TokenScope struct {
	InstallationID int64
	// Repos are the full names of the repositories the token was narrowed
	// to (sorted); nil when it covers every repository of its
	// installation.
	Repos []string
	// Permissions are the token's permissions.
	Permissions map[string]string
}

// TokenScope returns the scope tok was issued with; ok is false for a
// value this server never issued. Tests use it to prove that a token
// handed to git was narrowed to one repository and contents:read.
func (s *Server) TokenScope(tok string) (TokenScope, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tokens[tok]
	if t == nil {
		return TokenScope{}, false
	}
	return s.tokenScopeLocked(t), true
}

func (s *Server) tokenScopeLocked(t *token) TokenScope {
	sc := TokenScope{InstallationID: t.installationID, Permissions: copyPerms(t.permissions)}
	if t.repos != nil {
		sc.Repos = []string{}
		for _, repo := range s.sortedReposLocked() {
			if t.repos[repo.ID] {
				sc.Repos = append(sc.Repos, repo.FullName())
			}
		}
		sort.Strings(sc.Repos)
	}
	return sc
}

package githubtest

// SetPrivate changes a repository's visibility, as its owner can under
// Settings → Danger Zone. The repository's JSON and every webhook built
// for it after the call say so in "private" and "visibility"
// (https://docs.github.com/en/rest/repos/repos#get-a-repository).
func (s *Server) SetPrivate(owner, name string, private bool) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repos[repoKey(owner, name)]
	if r == nil {
		s.t.Fatalf("githubtest: SetPrivate: no repository %s/%s", owner, name)
	}
	r.Private = private
}

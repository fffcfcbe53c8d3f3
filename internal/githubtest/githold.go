package githubtest

import (
	"net/http"
	"strings"
)

// gitHold holds one git request of a repository, as a slow network would.
type gitHold struct {
	owner, repo string
	taken       bool
	held        chan struct{} // closed when a request waits in it
	release     chan struct{} // closed by the test
}

// HoldGit makes the next authenticated git request for owner/repo wait
// until release is called (or the client goes away), as a slow network
// or a large repository would: the client's processes are alive
// meanwhile. held is closed once a request waits. Later requests are not
// held. Tests use it to act while a fetch is in flight.
func (s *Server) HoldGit(owner, repo string) (held <-chan struct{}, release func()) {
	h := &gitHold{owner: owner, repo: repo, held: make(chan struct{}), release: make(chan struct{})}
	s.mu.Lock()
	s.gitHolds = append(s.gitHolds, h)
	s.mu.Unlock()
	var once bool
	return h.held, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if !once {
			once = true
			close(h.release)
		}
	}
}

// waitGitHold blocks an accepted git request while a hold takes it.
func (s *Server) waitGitHold(r *http.Request, owner, repo string) {
	s.mu.Lock()
	var h *gitHold
	for _, x := range s.gitHolds {
		if !x.taken && strings.EqualFold(x.owner, owner) && strings.EqualFold(x.repo, repo) {
			h, x.taken = x, true
			close(x.held)
			break
		}
	}
	s.mu.Unlock()
	if h == nil {
		return
	}
	select {
	case <-h.release:
	case <-r.Context().Done():
	}
}

package githubtest

import (
	"net/http"
	"strings"
)

// outage is a route GitHub answers with an error for a while.
type outage struct {
	method, route string
	status        int
}

// Outage makes GitHub answer every request to route (a route as in
// Call.Route without the method, e.g. "/repos/{owner}/{repo}/check-runs/{check_run_id}")
// with method by status, as during an incident, until the returned
// function is called.
func (s *Server) Outage(method, route string, status int) (restore func()) {
	o := &outage{method: method, route: route, status: status}
	s.mu.Lock()
	s.outages = append(s.outages, o)
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		for i, x := range s.outages {
			if x == o {
				s.outages = append(s.outages[:i], s.outages[i+1:]...)
				return
			}
		}
	}
}

// inOutage answers a request hit by an outage and reports whether it did.
func (s *Server) inOutage(w http.ResponseWriter, r *http.Request, route string) bool {
	s.mu.Lock()
	var hit *outage
	for _, o := range s.outages {
		if o.method == r.Method && strings.HasSuffix(route, o.route) {
			hit = o
		}
	}
	s.mu.Unlock()
	if hit == nil {
		return false
	}
	writeError(w, hit.status, http.StatusText(hit.status), "https://www.githubstatus.com")
	return true
}

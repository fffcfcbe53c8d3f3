package githubtest

import (
	"net/http"
	"strings"
)

// commitSubroute is one GET /repos/{o}/{r}/commits/{ref}/<suffix> endpoint.
type commitSubroute struct {
	suffix string
	// perms lists "name:level" alternatives: any one of them suffices.
	perms []string
	h     func(w http.ResponseWriter, r *http.Request, rc *reqCtx, ref string)
}

func (s *Server) commitSubroutes() []commitSubroute {
	return []commitSubroute{
		{"check-runs", []string{"checks:read"}, s.listCheckRunsForRef},
		{"check-suites", []string{"checks:read"}, s.listCheckSuitesForRef},
		{"status", []string{"statuses:read"}, s.combinedStatus},
		{"statuses", []string{"statuses:read"}, s.listStatusesForRef},
		{"pulls", []string{"pull_requests:read"}, s.listPullsForCommit},
	}
}

// requirePerm checks that the request's token grants at least one of the
// "name:level" alternatives (GitHub documents several endpoints as needing
// "Issues" or "Pull requests", for example), writing GitHub's 403 if not.
// No alternatives means no permission beyond the route's own.
func requirePerm(w http.ResponseWriter, rc *reqCtx, alternatives ...string) bool {
	if len(alternatives) == 0 {
		return true
	}
	for _, a := range alternatives {
		name, level, _ := strings.Cut(a, ":")
		if rc.tok != nil && hasPerm(rc.tok.permissions, name, level) {
			return true
		}
	}
	writeError(w, http.StatusForbidden, msgNotAccessible, "")
	return false
}

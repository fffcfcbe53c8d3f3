package githubtest

// RequiredCheckPasses reports whether a branch protection rule requiring
// the status check name would let a pull request whose head is sha merge
// (https://docs.github.com/repositories/configuring-branches-and-merges-in-your-repository/managing-protected-branches/about-protected-branches#require-status-checks-before-merging:
// "Required status checks must have a successful, skipped, or neutral
// status"). A check run of that name counts by its latest run
// in each check suite, and each must have concluded success, neutral or
// skipped: action_required, failure, cancelled, timed_out, stale and a
// run not completed block the merge. A commit status of that name must be
// success; a check and a status of the same name are both required
// ("Troubleshooting required status checks"). A name nothing reported
// blocks the merge, as on GitHub ("Expected — Waiting for status to be
// reported").
func (s *Server) RequiredCheckPasses(owner, repo, sha, name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repos[repoKey(owner, repo)]
	if r == nil {
		return false
	}
	latest := map[int64]*CheckRun{} // suite -> newest run of the name
	for _, cr := range s.sortedCheckRunsLocked(r) {
		if cr.HeadSHA == sha && cr.Name == name {
			latest[cr.CheckSuiteID] = cr
		}
	}
	var status *CommitStatus
	for _, st := range s.statuses {
		if repoKey(st.Owner, st.Repo) == repoKey(owner, repo) && st.SHA == sha && st.Context == name {
			status = st // oldest first: the last is the current one
		}
	}
	if len(latest) == 0 && status == nil {
		return false
	}
	for _, cr := range latest {
		if cr.Status != "completed" || !oneOf(cr.Conclusion, "success", "neutral", "skipped") {
			return false
		}
	}
	return status == nil || status.State == "success"
}

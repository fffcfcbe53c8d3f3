package githubtest

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"time"
)

const docCompare = "https://docs.github.com/rest/commits/commits#compare-two-commits"

// GitHub caps a comparison at 250 commits and 300 files.
const (
	maxCompareCommits = 250
	maxCompareFiles   = 300
)

// compare is GET /repos/{o}/{r}/compare/{base}...{head}, computed by git:
// three-dot semantics (files and commits since the merge base).
func (s *Server) compare(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	repo := rc.repo
	base, head, ok := strings.Cut(r.PathValue("basehead"), "...")
	if !ok {
		writeError(w, http.StatusNotFound, "Not Found", docCompare)
		return
	}
	baseSHA, ok1 := repo.resolveCommit(base)
	headSHA, ok2 := repo.resolveCommit(head)
	if !ok1 || !ok2 {
		writeError(w, http.StatusNotFound, "Not Found", docCompare)
		return
	}
	mbOut, err := s.git(repo.dir, nil, "merge-base", baseSHA, headSHA)
	if err != nil {
		writeError(w, http.StatusNotFound, "No common ancestor between "+base+" and "+head+".", docCompare)
		return
	}
	mb := strings.TrimSpace(string(mbOut))
	ahead := repo.count(baseSHA + ".." + headSHA)
	behind := repo.count(headSHA + ".." + baseSHA)
	status := "diverged"
	switch {
	case ahead == 0 && behind == 0:
		status = "identical"
	case behind == 0:
		status = "ahead"
	case ahead == 0:
		status = "behind"
	}

	commits := []any{}
	for _, c := range repo.logCommits("--reverse", baseSHA+".."+headSHA) {
		if len(commits) == maxCompareCommits {
			break
		}
		commits = append(commits, s.commitJSON(repo, c))
	}
	files, err := s.diffFiles(repo, mb, headSHA)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error(), "")
		return
	}
	var baseCommit, mbCommit any
	if cs := repo.logCommits("-1", baseSHA); len(cs) == 1 {
		baseCommit = s.commitJSON(repo, cs[0])
	}
	if cs := repo.logCommits("-1", mb); len(cs) == 1 {
		mbCommit = s.commitJSON(repo, cs[0])
	}
	spec := base + "..." + head
	writeJSON(w, http.StatusOK, map[string]any{
		"url":               repo.APIURL() + "/compare/" + spec,
		"html_url":          repo.HTMLURL() + "/compare/" + spec,
		"permalink_url":     repo.HTMLURL() + "/compare/" + repo.Owner + ":" + baseSHA[:7] + "..." + repo.Owner + ":" + headSHA[:7],
		"diff_url":          repo.HTMLURL() + "/compare/" + spec + ".diff",
		"patch_url":         repo.HTMLURL() + "/compare/" + spec + ".patch",
		"base_commit":       baseCommit,
		"merge_base_commit": mbCommit,
		"status":            status,
		"ahead_by":          ahead,
		"behind_by":         behind,
		"total_commits":     ahead,
		"commits":           commits,
		"files":             files,
	})
}

func (r *Repo) count(rangeSpec string) int {
	out, err := r.s.git(r.dir, nil, "rev-list", "--count", rangeSpec)
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(out)))
	return n
}

type commitInfo struct {
	sha, tree                    string
	parents                      []string
	authorName, authorEmail      string
	authorDate                   time.Time
	committerName, committerMail string
	committerDate                time.Time
	message                      string
}

func (r *Repo) logCommits(args ...string) []commitInfo {
	const format = "--format=%H%x1f%T%x1f%P%x1f%an%x1f%ae%x1f%aI%x1f%cn%x1f%ce%x1f%cI%x1f%B%x1e"
	out, err := r.s.git(r.dir, nil, append([]string{"log", format}, args...)...)
	if err != nil {
		return nil
	}
	var cs []commitInfo
	for _, rec := range strings.Split(string(out), "\x1e") {
		f := strings.Split(strings.TrimLeft(rec, "\n"), "\x1f")
		if len(f) != 10 {
			continue
		}
		ad, _ := time.Parse(time.RFC3339, f[5])
		cd, _ := time.Parse(time.RFC3339, f[8])
		cs = append(cs, commitInfo{
			sha: f[0], tree: f[1], parents: strings.Fields(f[2]),
			authorName: f[3], authorEmail: f[4], authorDate: ad,
			committerName: f[6], committerMail: f[7], committerDate: cd,
			message: strings.TrimRight(f[9], "\n"),
		})
	}
	return cs
}

// commitJSON renders a commit as GitHub's "commit" object.
func (s *Server) commitJSON(repo *Repo, c commitInfo) map[string]any {
	parents := []any{}
	for _, p := range c.parents {
		parents = append(parents, map[string]any{
			"sha": p, "url": repo.APIURL() + "/commits/" + p, "html_url": repo.HTMLURL() + "/commit/" + p,
		})
	}
	return map[string]any{
		"sha":          c.sha,
		"node_id":      rawNodeID("06:Commit" + strconv.FormatInt(repo.ID, 10) + ":" + c.sha),
		"url":          repo.APIURL() + "/commits/" + c.sha,
		"html_url":     repo.HTMLURL() + "/commit/" + c.sha,
		"comments_url": repo.APIURL() + "/commits/" + c.sha + "/comments",
		"commit": map[string]any{
			"url":           repo.APIURL() + "/git/commits/" + c.sha,
			"author":        map[string]any{"name": c.authorName, "email": c.authorEmail, "date": iso(c.authorDate)},
			"committer":     map[string]any{"name": c.committerName, "email": c.committerMail, "date": iso(c.committerDate)},
			"message":       c.message,
			"tree":          map[string]any{"sha": c.tree, "url": repo.APIURL() + "/git/trees/" + c.tree},
			"comment_count": 0,
			"verification":  map[string]any{"verified": false, "reason": "unsigned", "signature": nil, "payload": nil},
		},
		"author":    nil,
		"committer": nil,
		"parents":   parents,
	}
}

// diffFiles lists the files changed between from and to as GitHub's
// compare "files": status, counts, blob sha, patch and rename source.
func (s *Server) diffFiles(repo *Repo, from, to string) ([]any, error) {
	raw, err := s.git(repo.dir, nil, "diff", "--raw", "-z", "-M", "--no-abbrev", from, to)
	if err != nil {
		return nil, err
	}
	num, err := s.git(repo.dir, nil, "diff", "--numstat", "-z", "-M", from, to)
	if err != nil {
		return nil, err
	}
	patchOut, err := s.git(repo.dir, nil, "diff", "-M", "--no-color", "--no-ext-diff", from, to)
	if err != nil {
		return nil, err
	}

	type counts struct{ add, del int }
	var nums []counts
	ntok := bytes.Split(num, []byte{0})
	for i := 0; i < len(ntok); i++ {
		f := strings.SplitN(string(ntok[i]), "\t", 3)
		if len(f) != 3 {
			continue
		}
		a, _ := strconv.Atoi(f[0]) // "-" (binary) counts as 0
		d, _ := strconv.Atoi(f[1])
		nums = append(nums, counts{a, d})
		if f[2] == "" { // rename: old and new path follow as tokens
			i += 2
		}
	}
	patches := splitPatches(string(patchOut))

	files := []any{}
	tok := strings.Split(string(raw), "\x00")
	for i, n := 0, 0; i < len(tok); i++ {
		if !strings.HasPrefix(tok[i], ":") || i+1 >= len(tok) {
			continue
		}
		meta := strings.Fields(tok[i][1:]) // oldmode newmode oldsha newsha status
		if len(meta) != 5 {
			continue
		}
		filename, prev := tok[i+1], ""
		i++
		code := meta[4][:1]
		if (code == "R" || code == "C") && i+1 < len(tok) {
			prev, filename = filename, tok[i+1]
			i++
		}
		status := map[string]string{"A": "added", "D": "removed", "M": "modified", "R": "renamed", "C": "copied", "T": "changed"}[code]
		if status == "" {
			status = "changed"
		}
		sha := meta[3]
		if status == "removed" {
			sha = meta[2]
		}
		f := map[string]any{
			"sha":          sha,
			"filename":     filename,
			"status":       status,
			"blob_url":     repo.HTMLURL() + "/blob/" + to + "/" + escapePath(filename),
			"raw_url":      repo.HTMLURL() + "/raw/" + to + "/" + escapePath(filename),
			"contents_url": repo.APIURL() + "/contents/" + escapePath(filename) + "?ref=" + to,
		}
		if n < len(nums) {
			f["additions"], f["deletions"], f["changes"] = nums[n].add, nums[n].del, nums[n].add+nums[n].del
		}
		if len(patches) == len(nums) && n < len(patches) && patches[n] != "" {
			f["patch"] = patches[n]
		}
		if prev != "" {
			f["previous_filename"] = prev
		}
		n++
		if len(files) < maxCompareFiles {
			files = append(files, f)
		}
	}
	return files, nil
}

// splitPatches splits `git diff` output into one entry per file, keeping
// only the hunks (GitHub's "patch" starts at the first "@@").
func splitPatches(diff string) []string {
	var out []string
	for _, chunk := range strings.Split("\n"+diff, "\ndiff --git ")[1:] {
		p := ""
		if i := strings.Index(chunk, "\n@@"); i >= 0 {
			p = strings.TrimSuffix(chunk[i+1:], "\n")
		}
		out = append(out, p)
	}
	return out
}

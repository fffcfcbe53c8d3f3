package githubtest

import (
	"strings"
)

// maxPushCommits is how many commits a push payload lists: "The array
// includes a maximum of 2048 commits. If necessary, you can use the
// Commits API to fetch additional commits"
// (https://docs.github.com/webhooks/webhook-events-and-payloads#push).
// The limit of 20 the older documentation gave is that of timeline
// events, not of webhook deliveries. Which commits a longer push lists is
// not documented; the fake lists the first 2048, oldest first.
const maxPushCommits = 2048

const zeroSHA = "0000000000000000000000000000000000000000"

// PushWebhook is the push payload GitHub sends after branch moved from
// before ("" or all zeros: the branch was created) to its current head:
// before, after, created, forced, compare, the pushed commits (at most
// 2048, each with its added, removed and modified files, oldest first)
// and head_commit. A created branch's commits are those not on the
// default branch. It starts from the vendored "push" example.
func (r *Repo) PushWebhook(branch, before string) []byte {
	s := r.s
	s.t.Helper()
	after := r.Head(branch)
	if after == "" {
		s.t.Fatalf("githubtest: PushWebhook: no branch %q", branch)
	}
	created := before == "" || before == zeroSHA
	rangeArgs := []string{before + ".." + after}
	switch {
	case created && branch == r.DefaultBranch:
		rangeArgs = []string{after}
	case created:
		rangeArgs = []string{after, "--not", "refs/heads/" + r.DefaultBranch}
	}
	forced := false
	if !created {
		_, err := s.git(r.dir, nil, "merge-base", "--is-ancestor", before, after)
		forced = err != nil
	}
	commits := r.pushedCommits(rangeArgs)
	var head any
	if len(commits) > 0 && commits[len(commits)-1].(map[string]any)["id"] == after {
		head = commits[len(commits)-1]
	} else if hc := r.pushedCommits([]string{"-1", after}); len(hc) == 1 {
		head = hc[0]
	}
	if len(commits) > maxPushCommits {
		commits = commits[:maxPushCommits]
	}
	if created {
		before = zeroSHA
	}
	return r.Webhook("push", func(p map[string]any) {
		SetPath(p, "ref", "refs/heads/"+branch)
		SetPath(p, "before", before)
		SetPath(p, "after", after)
		SetPath(p, "created", created)
		SetPath(p, "deleted", false)
		SetPath(p, "forced", forced)
		SetPath(p, "base_ref", nil)
		SetPath(p, "compare", r.HTMLURL()+"/compare/"+before[:12]+"..."+after[:12])
		SetPath(p, "commits", commits)
		SetPath(p, "head_commit", head)
	})
}

// pushedCommits renders the commits git log lists for args, oldest
// first, as a push payload's commit objects.
func (r *Repo) pushedCommits(args []string) []any {
	s := r.s
	s.t.Helper()
	const format = "--format=%x00%H%x01%T%x01%cI%x01%an%x01%ae%x01%cn%x01%ce%x01%B%x02"
	full := append([]string{"-c", "core.quotePath=false", "log", "--reverse", "--no-renames", "--name-status", format}, args...)
	out, err := s.git(r.dir, nil, full...)
	if err != nil {
		s.t.Fatalf("githubtest: PushWebhook: %v", err)
	}
	var commits []any
	for _, rec := range strings.Split(string(out), "\x00")[1:] {
		meta, files, _ := strings.Cut(rec, "\x02")
		f := strings.SplitN(meta, "\x01", 8)
		if len(f) != 8 {
			continue
		}
		added, removed, modified := []any{}, []any{}, []any{}
		for _, line := range strings.Split(files, "\n") {
			st, path, ok := strings.Cut(line, "\t")
			if !ok {
				continue
			}
			switch st {
			case "A":
				added = append(added, path)
			case "D":
				removed = append(removed, path)
			default:
				modified = append(modified, path)
			}
		}
		commits = append(commits, map[string]any{
			"id": f[0], "tree_id": f[1], "distinct": true, "message": strings.TrimSuffix(f[7], "\n"), "timestamp": f[2],
			"url":       r.HTMLURL() + "/commit/" + f[0],
			"author":    map[string]any{"name": f[3], "email": f[4]},
			"committer": map[string]any{"name": f[5], "email": f[6]},
			"added":     added, "removed": removed, "modified": modified,
		})
	}
	return commits
}

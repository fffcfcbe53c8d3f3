package githubtest

import (
	"fmt"
	"strings"
	"time"
)

// AnnotatedTag creates an annotated tag name on the commit sha, as
// `git tag -a` does: a tag object (type commit, a tagger, the message)
// that refs/tags/name points at. It returns the tag object's sha, which
// is what a push of the tag carries as "after", while the payload's
// head_commit is the commit
// (https://docs.github.com/webhooks/webhook-events-and-payloads#push).
// A signed tag is the same object with a signature block at the end of
// its message, so a message ending in "-----BEGIN PGP SIGNATURE-----"
// … "-----END PGP SIGNATURE-----" makes one (git does not check it).
func (r *Repo) AnnotatedTag(name, sha, message string) string {
	s := r.s
	s.t.Helper()
	if !refRE.MatchString(name) || strings.HasPrefix(name, "-") {
		s.t.Fatalf("githubtest: AnnotatedTag: invalid tag name %q", name)
	}
	if !r.hasCommit(sha) {
		s.t.Fatalf("githubtest: AnnotatedTag: %s is not a commit of %s", sha, r.FullName())
	}
	if !strings.HasSuffix(message, "\n") {
		message += "\n"
	}
	r.mu.Lock()
	ts := max(time.Now().Unix(), r.lastTime+1)
	r.lastTime = ts
	obj := fmt.Sprintf("object %s\ntype commit\ntag %s\ntagger Octo Tester <octo@users.noreply.github.invalid> %d +0000\n\n%s",
		sha, name, ts, message)
	out, err := s.git(r.dir, []byte(obj), "mktag")
	r.mu.Unlock()
	if err != nil {
		s.t.Fatalf("githubtest: AnnotatedTag: %v", err)
	}
	tag := strings.TrimSpace(string(out))
	r.updateRef("refs/tags/"+name, tag)
	return tag
}

// TagPushWebhook is the push payload GitHub sends when the tag name is
// pushed: "after" is what refs/tags/name points at (the tag object of an
// annotated tag, the commit of a lightweight one) and head_commit is the
// commit. It starts from the vendored "push.tag" example.
func (r *Repo) TagPushWebhook(name string) []byte {
	r.s.t.Helper()
	out, err := r.s.git(r.dir, nil, "rev-parse", "--verify", "--quiet", "refs/tags/"+name)
	if err != nil {
		r.s.t.Fatalf("githubtest: TagPushWebhook: no tag %q", name)
	}
	after := strings.TrimSpace(string(out))
	commit, ok := r.resolveCommit("refs/tags/" + name)
	if !ok {
		r.s.t.Fatalf("githubtest: TagPushWebhook: tag %q points at no commit", name)
	}
	return r.Webhook("push.tag", func(p map[string]any) {
		SetPath(p, "ref", "refs/tags/"+name)
		SetPath(p, "after", after)
		SetPath(p, "head_commit.id", commit)
		SetPath(p, "head_commit.tree_id", r.treeOf(commit))
		SetPath(p, "head_commit.url", r.HTMLURL()+"/commit/"+commit)
		SetPath(p, "compare", r.HTMLURL()+"/compare/"+name)
	})
}

func (r *Repo) treeOf(commit string) string {
	out, err := r.s.git(r.dir, nil, "rev-parse", commit+"^{tree}")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

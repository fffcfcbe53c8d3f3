package githubtest

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"
)

func TestAnnotatedTag(t *testing.T) {
	f := newFixture(t)
	c := f.client(t)
	signed := "Release 1.0\n\n-----BEGIN PGP SIGNATURE-----\n\niQEzBAABCAAdFiEE\n-----END PGP SIGNATURE-----\n"
	for _, tc := range []struct{ name, message string }{
		{"v1.0.0", "Release 1.0"},
		{"v1.0.1", signed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tag := f.repo.AnnotatedTag(tc.name, f.sha, tc.message)
			if tag == f.sha || !shaRE.MatchString(tag) {
				t.Fatalf("tag object %q: want a sha of its own, not the commit's %s", tag, f.sha)
			}
			typ, err := f.srv.git(f.repo.Dir(), nil, "cat-file", "-t", tag)
			if err != nil || strings.TrimSpace(string(typ)) != "tag" {
				t.Fatalf("cat-file -t %s = %q, %v; want tag", tag, typ, err)
			}
			// The tag's name peels to the commit; the tag object's sha
			// is no commit, so the contents API refuses it as a ref.
			fc, _, _, err := c.Repositories.GetContents(ctx(t), "acme", "widgets", "README.md", &github.RepositoryContentGetOptions{Ref: tc.name})
			if err != nil || fc.GetName() != "README.md" {
				t.Fatalf("contents at the tag's name: %v", err)
			}
			_, _, resp, err := c.Repositories.GetContents(ctx(t), "acme", "widgets", "README.md", &github.RepositoryContentGetOptions{Ref: tag})
			var er *github.ErrorResponse
			if resp == nil || resp.StatusCode != http.StatusNotFound || !errors.As(err, &er) || er.Message != "No commit found for the ref "+tag {
				t.Fatalf("contents at the tag object's sha: %v; want 404 No commit found", err)
			}

			var p map[string]any
			if err := json.Unmarshal(f.repo.TagPushWebhook(tc.name), &p); err != nil {
				t.Fatal(err)
			}
			if p["after"] != tag || GetPath(p, "head_commit.id") != f.sha || p["ref"] != "refs/tags/"+tc.name {
				t.Fatalf("push payload: after %v, head_commit.id %v, ref %v; want %s, %s", p["after"], GetPath(p, "head_commit.id"), p["ref"], tag, f.sha)
			}
		})
	}
}

func TestTagPushWebhookLightweight(t *testing.T) {
	f := newFixture(t)
	f.repo.Tag("light", f.sha)
	var p map[string]any
	if err := json.Unmarshal(f.repo.TagPushWebhook("light"), &p); err != nil {
		t.Fatal(err)
	}
	if p["after"] != f.sha || GetPath(p, "head_commit.id") != f.sha {
		t.Fatalf("lightweight tag: after %v, head_commit.id %v; want both %s", p["after"], GetPath(p, "head_commit.id"), f.sha)
	}
}

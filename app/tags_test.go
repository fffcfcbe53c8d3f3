package app_test

import (
	"strings"
	"testing"
	"time"
)

// releasePipeline runs only on version tags and prints what it built.
const releasePipeline = `on:
  push: { tags: ["v*"] }
stages:
  - { name: release, actions: [{ name: ship, run: 'echo "release $STAGEGATE_TAG at $STAGEGATE_SHA"; git rev-parse HEAD' }] }
`

// A pushed annotated (or signed) tag carries the tag object's sha as
// "after"; the run is of the commit it points at.
func TestAnnotatedTagStartsReleasePipeline(t *testing.T) {
	signature := "\n-----BEGIN PGP SIGNATURE-----\n\niQEzBAABCAAdFiEE\n-----END PGP SIGNATURE-----\n"
	for _, tc := range []struct{ tag, message string }{
		{"v1.2.0", "Release 1.2.0"},
		{"v1.3.0", "Release 1.3.0\n" + signature},
	} {
		t.Run(tc.tag, func(t *testing.T) {
			h := newHarness(t, map[string]string{".stagegate.yml": releasePipeline})
			commit := h.repo.Head("main")
			tagObject := h.repo.AnnotatedTag(tc.tag, commit, tc.message)
			result := h.sendAndWait("push", h.repo.TagPushWebhook(tc.tag))
			if !strings.Contains(result, "queued") {
				t.Fatalf("the tag push started no run: %q", result)
			}
			got := h.waitChecks(commit, 30*time.Second)
			ship := got["stagegate/release"]
			if ship.Conclusion != "success" || !containsAll(ship.Output.Text, "release "+tc.tag+" at "+commit) {
				t.Fatalf("release stage on the tagged commit:%s\n%s", describeChecks(got), ship.Output.Text)
			}
			if n := len(h.checks(tagObject)); n != 0 {
				t.Errorf("%d checks on the tag object's sha; checks belong to the commit", n)
			}
		})
	}
}

package app_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stagegate/stagegate/internal/githubtest"
)

// TestFetchUsesTheCloneURLGitHubGave: git fetches from the clone_url of
// the delivery, not from an address derived from the API's, which is
// wrong wherever git is served on another host than the API's (GitHub
// Enterprise Cloud with data residency serves the API on
// api.SUBDOMAIN.ghe.com and git on SUBDOMAIN.ghe.com). Here the
// payload names the fake's git server by another host name than the
// API's, and the fetch must go there.
func TestFetchUsesTheCloneURLGitHubGave(t *testing.T) {
	h := newHarness(t, map[string]string{".stagegate.yml": "stages:\n  - name: build\n    actions:\n      - name: ok\n        run: 'true'\n"})
	u, err := url.Parse(h.gh.URL)
	if err != nil {
		t.Fatal(err)
	}
	gitHost := "localhost:" + u.Port()
	sha, _ := h.pushBody("main", map[string]string{"a.txt": "a"})
	body := h.repo.Webhook("push", func(p map[string]any) {
		githubtest.SetPath(p, "ref", "refs/heads/main")
		githubtest.SetPath(p, "after", sha)
		githubtest.SetPath(p, "repository.clone_url", "http://"+gitHost+"/acme/web.git")
	})
	if code, text := h.send("push", githubtest.NewDeliveryID(), body); code != http.StatusAccepted {
		t.Fatalf("push webhook: %d %s", code, text)
	}
	cs := h.waitChecks(sha, 30*time.Second)
	if c := cs["stagegate/build"]; c.Conclusion != "success" {
		t.Fatalf("build: %+v\n%s", c, describeChecks(cs))
	}
	var hosts []string
	for _, r := range h.gh.GitRequests() {
		if r.Service == "git-upload-pack" {
			hosts = append(hosts, r.Host)
		}
	}
	if len(hosts) == 0 {
		t.Fatal("no fetch reached the git server")
	}
	for _, host := range hosts {
		if host != gitHost {
			t.Errorf("fetched from host %q, want the clone_url's %q (all: %s)", host, gitHost, strings.Join(hosts, ", "))
		}
	}
}

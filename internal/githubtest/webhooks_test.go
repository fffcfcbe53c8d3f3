package githubtest

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"
)

// The vendored set is exactly what NOTICE.md lists, and each file is the
// event its name says.
func TestVendoredWebhooks(t *testing.T) {
	f := newFixture(t)
	notice, err := os.ReadFile("testdata/webhooks/NOTICE.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"@octokit/webhooks-examples", "7.6.1", "MIT"} {
		if !strings.Contains(string(notice), want) {
			t.Errorf("NOTICE.md does not mention %q", want)
		}
	}
	listed := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z_.]+)\\.json` \\|").FindAllStringSubmatch(string(notice), -1) {
		listed[m[1]] = true
	}
	files, _ := filepath.Glob("testdata/webhooks/*.json")
	if len(files) != len(listed) || len(WebhookNames()) != len(files) {
		t.Errorf("%d files, %d listed in NOTICE.md, %d embedded", len(files), len(listed), len(WebhookNames()))
	}
	required := []string{"push", "push.tag", "push.tag_deleted", "pull_request.opened", "pull_request.synchronize",
		"pull_request.reopened", "pull_request.closed", "check_run.rerequested", "check_run.requested_action",
		"check_run.completed", "check_suite.requested", "check_suite.rerequested", "check_suite.completed",
		"installation.created", "installation.deleted", "installation.suspend", "installation_repositories.added",
		"issue_comment.created", "status", "ping"}
	for _, name := range required {
		if !listed[name] {
			t.Errorf("%s not listed in NOTICE.md", name)
		}
		p := LoadWebhook(name)
		event, action, hasAction := strings.Cut(name, ".")
		if hasAction && event != "push" && p["action"] != action {
			t.Errorf("%s: action = %v", name, p["action"])
		}
		// go-github must decode each payload as its event type once
		// rewritten (check_run.rerequested's published timestamps are
		// "2018-04-25 20:42:10", which go-github rejects until normalized).
		raw, _ := json.Marshal(p)
		_, rawErr := github.ParseWebHook(event, raw)
		if (rawErr != nil) != (name == "check_run.rerequested") {
			t.Errorf("%s as published: %v", name, rawErr)
		}
		if _, err := github.ParseWebHook(event, f.repo.Webhook(name, nil)); err != nil {
			t.Errorf("%s rewritten: %v", name, err)
		}
	}
	if ref := GetPath(LoadWebhook("push.tag"), "ref"); ref != "refs/tags/simple-tag" {
		t.Errorf("push.tag ref = %v", ref)
	}
	if ref := GetPath(LoadWebhook("push"), "ref"); ref != "refs/heads/master" {
		t.Errorf("push ref = %v", ref)
	}
	if GetPath(LoadWebhook("push.tag_deleted"), "deleted") != true {
		t.Error("push.tag_deleted is not a deletion")
	}
}

func TestRepoWebhookRewrite(t *testing.T) {
	f := newFixture(t)
	head := f.repo.Commit("feature", map[string]string{"f.txt": "f\n"}, "feature work")
	body := f.repo.Webhook("pull_request.synchronize", func(p map[string]any) {
		SetPath(p, "pull_request.head.sha", head)
		SetPath(p, "pull_request.head.ref", "feature")
		SetPath(p, "pull_request.base.sha", f.sha)
		SetPath(p, "pull_request.base.ref", "main")
		SetPath(p, "after", head)
	})
	for _, leftover := range []string{"api.github.com", "https://github.com/", "Codertocat/Hello-World"} {
		if strings.Contains(string(body), leftover) {
			t.Errorf("payload still mentions %q", leftover)
		}
	}
	ev, err := github.ParseWebHook("pull_request", body)
	if err != nil {
		t.Fatal(err)
	}
	pr := ev.(*github.PullRequestEvent)
	repo := pr.GetRepo()
	if repo.GetFullName() != "acme/widgets" || repo.GetName() != "widgets" || repo.GetOwner().GetLogin() != "acme" ||
		repo.GetCloneURL() != f.repo.CloneURL() || repo.GetHTMLURL() != f.repo.HTMLURL() || repo.GetURL() != f.repo.APIURL() ||
		repo.GetDefaultBranch() != "main" || repo.GetID() != f.repo.ID {
		t.Errorf("repository = %+v", repo)
	}
	if pr.GetInstallation().GetID() != f.instID || pr.GetAction() != "synchronize" {
		t.Errorf("installation %d action %q", pr.GetInstallation().GetID(), pr.GetAction())
	}
	h, b := pr.GetPullRequest().GetHead(), pr.GetPullRequest().GetBase()
	if h.GetSHA() != head || h.GetRef() != "feature" || h.GetLabel() != "acme:feature" || h.GetRepo().GetCloneURL() != f.repo.CloneURL() ||
		b.GetSHA() != f.sha || b.GetRepo().GetFullName() != "acme/widgets" || pr.GetAfter() != head {
		t.Errorf("head %+v base %+v", h, b)
	}
	if u := pr.GetPullRequest().GetURL(); !strings.HasPrefix(u, f.repo.APIURL()+"/pulls/") {
		t.Errorf("pull_request.url = %q", u)
	}

	// check_run events name this server's App and get an installation.
	body = f.repo.Webhook("check_run.completed", func(p map[string]any) { SetPath(p, "check_run.head_sha", f.sha) })
	cr := mustParse(t, "check_run", body).(*github.CheckRunEvent)
	if cr.GetCheckRun().GetApp().GetID() != f.srv.AppID() || cr.GetCheckRun().GetCheckSuite().GetApp().GetSlug() != "stagegate" ||
		cr.GetInstallation().GetID() != f.instID || cr.GetCheckRun().GetHeadSHA() != f.sha {
		t.Errorf("check_run event: app %d inst %d", cr.GetCheckRun().GetApp().GetID(), cr.GetInstallation().GetID())
	}

	// Installation events describe this installation and repository.
	ir := mustParse(t, "installation_repositories", f.repo.Webhook("installation_repositories.added", nil)).(*github.InstallationRepositoriesEvent)
	if ir.GetInstallation().GetID() != f.instID || ir.GetInstallation().GetAccount().GetLogin() != "acme" ||
		len(ir.RepositoriesAdded) != 1 || ir.RepositoriesAdded[0].GetFullName() != "acme/widgets" {
		t.Errorf("installation_repositories: %+v", ir)
	}

	// A PR comment is the published issue comment plus issue.pull_request.
	ic := mustParse(t, "issue_comment", f.repo.Webhook("issue_comment.created", func(p map[string]any) {
		SetPath(p, "issue.pull_request", map[string]any{"url": f.repo.APIURL() + "/pulls/1"})
		SetPath(p, "comment.body", "/stagegate retry")
	})).(*github.IssueCommentEvent)
	if !ic.GetIssue().IsPullRequest() || ic.GetComment().GetBody() != "/stagegate retry" || ic.GetRepo().GetFullName() != "acme/widgets" {
		t.Errorf("issue_comment: %+v", ic)
	}
}

func mustParse(t *testing.T, event string, body []byte) any {
	t.Helper()
	ev, err := github.ParseWebHook(event, body)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func TestPaths(t *testing.T) {
	p := map[string]any{"a": map[string]any{"list": []any{map[string]any{"x": 1}}}, "s": "scalar"}
	SetPath(p, "a.b.c", "deep")
	SetPath(p, "a.list.0.x", 2)
	if GetPath(p, "a.b.c") != "deep" || GetPath(p, "a.list.0.x") != 2 || GetPath(p, "a.list.5") != nil || GetPath(p, "nope.x") != nil {
		t.Errorf("paths: %v", p)
	}
	DeletePath(p, "a.b.c")
	if _, ok := GetPath(p, "a.b").(map[string]any)["c"]; ok {
		t.Error("DeletePath left the key")
	}
	for _, bad := range []string{"s.x", "a.list.3"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("SetPath %q did not panic", bad)
				}
			}()
			SetPath(p, bad, 1)
		}()
	}
}

func TestSignAndSend(t *testing.T) {
	body := []byte(`{"zen":"Keep it logically awesome."}`)
	secret := "It's a Secret to Everybody"
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	if want := "sha256=" + hex.EncodeToString(m.Sum(nil)); Sign([]byte(secret), body) != want {
		t.Errorf("Sign = %s, want %s", Sign([]byte(secret), body), want)
	}
	m1 := hmac.New(sha1.New, []byte(secret))
	m1.Write(body)
	if want := "sha1=" + hex.EncodeToString(m1.Sum(nil)); SignSHA1([]byte(secret), body) != want {
		t.Errorf("SignSHA1 = %s", SignSHA1([]byte(secret), body))
	}
	if github.ValidateSignature(Sign([]byte(secret), body), body, []byte(secret)) != nil ||
		github.ValidateSignature(Sign([]byte("wrong"), body), body, []byte(secret)) == nil {
		t.Error("go-github disagrees with Sign")
	}

	type got struct {
		header http.Header
		body   []byte
		err    error
	}
	ch := make(chan got, 2)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var verr error
		if r.Header.Get("X-Hub-Signature-256") != "" {
			r.Body = io.NopCloser(strings.NewReader(string(b)))
			_, verr = github.ValidatePayload(r, []byte(secret))
		}
		ch <- got{r.Header.Clone(), b, verr}
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, "queued")
	}))
	defer hook.Close()

	resp := SendWebhook(t, hook.URL, secret, "ping", "", body)
	rb, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 202 || string(rb) != "queued" {
		t.Errorf("response %d %q", resp.StatusCode, rb)
	}
	g := <-ch
	if g.err != nil || string(g.body) != string(body) {
		t.Errorf("receiver: %v %q", g.err, g.body)
	}
	h := g.header
	if h.Get("X-GitHub-Event") != "ping" || !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(h.Get("X-GitHub-Delivery")) ||
		!strings.HasPrefix(h.Get("User-Agent"), "GitHub-Hookshot/") || h.Get("Content-Type") != "application/json" ||
		h.Get("X-Hub-Signature") != SignSHA1([]byte(secret), body) {
		t.Errorf("headers = %v", h)
	}

	SendWebhook(t, hook.URL, "", "push", "delivery-1", body)
	g = <-ch
	if g.header.Get("X-Hub-Signature-256") != "" || g.header.Get("X-Hub-Signature") != "" || g.header.Get("X-GitHub-Delivery") != "delivery-1" {
		t.Errorf("unsigned delivery headers = %v", g.header)
	}
}

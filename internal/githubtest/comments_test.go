package githubtest

import (
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"
)

// prFixture is a fixture with pull request #1 from branch feature.
func prFixture(t *testing.T, opts ...Option) (*fixture, string) {
	t.Helper()
	f := newFixture(t, opts...)
	head := f.repo.Commit("feature", map[string]string{"f": "f"}, "feature")
	f.srv.AddPullRequest("acme", "widgets", PullRequest{HeadRef: "feature"})
	return f, head
}

func TestIssueComments(t *testing.T) {
	f, _ := prFixture(t)
	f.srv.AddUser("ada", "User")
	f.srv.SetPermission("acme", "widgets", "ada", "write")
	seeded := f.srv.AddComment("acme", "widgets", 1, "ada", "/deploy production")
	c := f.client(t)

	made, resp, err := c.Issues.CreateComment(ctx(t), "acme", "widgets", 1, &github.IssueComment{Body: ptr("Deploying…")})
	if err != nil {
		t.Fatal(err)
	}
	if code(resp) != 201 || made.GetUser().GetLogin() != "stagegate[bot]" || made.GetUser().GetType() != "Bot" ||
		made.GetBody() != "Deploying…" || made.GetID() <= seeded || !strings.HasSuffix(made.GetIssueURL(), "/issues/1") ||
		!strings.Contains(made.GetHTMLURL(), "/pull/1#issuecomment-") || resp.Header.Get("Location") != made.GetURL() {
		t.Errorf("created %d %+v", code(resp), made)
	}
	raw := do(t, "GET", f.repo.APIURL()+"/issues/comments/"+itoa64(made.GetID()), "token "+f.token(t), nil).object(t)
	if via, _ := raw["performed_via_github_app"].(map[string]any); via["slug"] != "stagegate" {
		t.Errorf("performed_via_github_app = %v", raw["performed_via_github_app"])
	}

	list, _, err := c.Issues.ListComments(ctx(t), "acme", "widgets", 1, nil)
	if err != nil || len(list) != 2 || list[0].GetID() != seeded || list[0].GetUser().GetLogin() != "ada" ||
		list[0].GetUser().GetType() != "User" || list[0].GetAuthorAssociation() != "COLLABORATOR" || list[1].GetID() != made.GetID() {
		t.Fatalf("list = %v %v", list, err)
	}
	stored := f.srv.Comments("acme", "widgets", 1)
	if len(stored) != 2 || stored[0].User != "ada" || stored[0].AppID != 0 || stored[1].User != "stagegate[bot]" ||
		stored[1].UserType != "Bot" || stored[1].AppID != f.srv.AppID() || stored[1].Body != "Deploying…" {
		t.Errorf("stored = %+v", stored)
	}
	if got, _, err := c.Issues.GetComment(ctx(t), "acme", "widgets", seeded); err != nil || got.GetBody() != "/deploy production" {
		t.Errorf("get: %v %v", got, err)
	}

	tok := f.token(t)
	url := f.repo.APIURL() + "/issues/1/comments"
	for _, tc := range []struct {
		name   string
		body   any
		status int
		want   string
	}{
		{"missing body", map[string]any{}, 422, `"body" wasn't supplied.`},
		{"not a string", map[string]any{"body": 5}, 422, "For 'properties/body', 5 is not a string."},
		{"blank", map[string]any{"body": "  "}, 422, "IssueComment missing_field body"},
		{"too long", map[string]any{"body": strings.Repeat("x", 65537)}, 422, "Body is too long (maximum is 65536 characters)"},
		{"too long in characters", map[string]any{"body": strings.Repeat("é", 65537)}, 422, "Body is too long"},
		{"exactly the limit", map[string]any{"body": strings.Repeat("é", 65536)}, 201, ""},
		{"not JSON", "{", 400, "Problems parsing JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, "POST", url, "token "+tok, tc.body)
			if r.status != tc.status || !strings.Contains(errText(t, r), tc.want) {
				t.Errorf("%d %.300s", r.status, r.raw)
			}
		})
	}
	if n := len(f.srv.Comments("acme", "widgets", 1)); n != 3 {
		t.Errorf("%d comments stored, want 3 (only the accepted ones)", n)
	}
	for _, path := range []string{"/issues/2/comments", "/issues/x/comments"} {
		if r := do(t, "POST", f.repo.APIURL()+path, "token "+tok, map[string]any{"body": "hi"}); r.status != 404 {
			t.Errorf("POST %s: %d", path, r.status)
		}
		if r := do(t, "GET", f.repo.APIURL()+path, "token "+tok, nil); r.status != 404 {
			t.Errorf("GET %s: %d", path, r.status)
		}
	}
	t.Run("either issues or pull_requests write", func(t *testing.T) {
		for _, tc := range []struct {
			without []string
			status  int
		}{
			{[]string{"issues"}, 201},
			{[]string{"pull_requests"}, 201},
			{[]string{"issues", "pull_requests"}, 403},
		} {
			g, _ := prFixture(t, WithPermissions(withoutPerm(tc.without...)))
			_, resp, _ := g.client(t).Issues.CreateComment(ctx(t), "acme", "widgets", 1, &github.IssueComment{Body: ptr("x")})
			if code(resp) != tc.status {
				t.Errorf("without %v: %d, want %d", tc.without, code(resp), tc.status)
			}
		}
	})
}

func TestCommentReactions(t *testing.T) {
	f, _ := prFixture(t)
	id := f.srv.AddComment("acme", "widgets", 1, "ada", "/deploy staging")
	c := f.client(t)

	first, resp, err := c.Reactions.CreateIssueCommentReaction(ctx(t), "acme", "widgets", id, "eyes")
	if err != nil || code(resp) != 201 || first.GetContent() != "eyes" || first.GetUser().GetLogin() != "stagegate[bot]" {
		t.Fatalf("first: %d %v %v", code(resp), first, err)
	}
	again, resp, err := c.Reactions.CreateIssueCommentReaction(ctx(t), "acme", "widgets", id, "eyes")
	if err != nil || code(resp) != 200 || again.GetID() != first.GetID() {
		t.Errorf("same reaction again: %d %v %v", code(resp), again, err)
	}
	if _, resp, err := c.Reactions.CreateIssueCommentReaction(ctx(t), "acme", "widgets", id, "rocket"); err != nil || code(resp) != 201 {
		t.Errorf("rocket: %d %v", code(resp), err)
	}
	if got := strings.Join(f.srv.Reactions(id), ","); got != "eyes,rocket" {
		t.Errorf("Reactions = %q", got)
	}
	listed, _, err := c.Reactions.ListIssueCommentReactions(ctx(t), "acme", "widgets", id, nil)
	if err != nil || len(listed) != 2 || listed[0].GetContent() != "eyes" || listed[1].GetContent() != "rocket" {
		t.Errorf("list: %v %v", listed, err)
	}
	r := do(t, "GET", f.repo.APIURL()+"/issues/comments/"+itoa64(id)+"/reactions?content=rocket", "token "+f.token(t), nil)
	if r.status != 200 || strings.Count(string(r.raw), `"content":"rocket"`) != 1 || strings.Contains(string(r.raw), "eyes") {
		t.Errorf("content=rocket: %d %s", r.status, r.raw)
	}
	got, _, err := c.Issues.GetComment(ctx(t), "acme", "widgets", id)
	if err != nil || got.GetReactions().GetTotalCount() != 2 || got.GetReactions().GetEyes() != 1 || got.GetReactions().GetRocket() != 1 {
		t.Errorf("summary = %+v %v", got.GetReactions(), err)
	}

	tok := f.token(t)
	url := f.repo.APIURL() + "/issues/comments/" + itoa64(id) + "/reactions"
	for _, content := range reactionEnum {
		if r := do(t, "POST", url, "token "+tok, map[string]any{"content": content}); r.status != 201 && r.status != 200 {
			t.Errorf("%s: %d %s", content, r.status, r.raw)
		}
	}
	for _, tc := range []struct {
		body any
		want string
	}{
		{map[string]any{"content": "thumbsup"}, `For 'properties/content', "thumbsup" is not a member of`},
		{map[string]any{"content": "+2"}, "is not a member of"},
		{map[string]any{}, `"content" wasn't supplied.`},
	} {
		if r := do(t, "POST", url, "token "+tok, tc.body); r.status != 422 || !strings.Contains(errText(t, r), tc.want) {
			t.Errorf("%v: %d %s", tc.body, r.status, r.raw)
		}
	}
	if len(f.srv.Reactions(id)) != len(reactionEnum) {
		t.Errorf("reactions after rejections: %v", f.srv.Reactions(id))
	}
	if _, resp, _ := c.Reactions.CreateIssueCommentReaction(ctx(t), "acme", "widgets", 999999, "eyes"); code(resp) != 404 {
		t.Errorf("unknown comment: %d", code(resp))
	}
	other := f.srv.AddRepo("acme", "other")
	other.Commit("main", map[string]string{"x": "x"}, "x")
	other.Commit("b", map[string]string{"y": "y"}, "y")
	f.srv.AddPullRequest("acme", "other", PullRequest{HeadRef: "b"})
	f.srv.AddInstallationRepos(f.instID, "other")
	elsewhere := f.srv.AddComment("acme", "other", 1, "ada", "hi")
	if _, resp, _ := c.Reactions.CreateIssueCommentReaction(ctx(t), "acme", "widgets", elsewhere, "eyes"); code(resp) != 404 {
		t.Errorf("comment of another repository: %d", code(resp))
	}
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

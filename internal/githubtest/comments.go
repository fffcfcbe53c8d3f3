package githubtest

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

const (
	docCreateComment  = "https://docs.github.com/rest/issues/comments#create-an-issue-comment"
	docListComments   = "https://docs.github.com/rest/issues/comments#list-issue-comments"
	docCreateReaction = "https://docs.github.com/rest/reactions/reactions#create-reaction-for-an-issue-comment"
	// maxCommentChars is GitHub's limit on a comment body, in characters.
	maxCommentChars = 65536
)

var reactionEnum = []string{"+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"}

// Comment is an issue comment on a pull request.
type Comment struct {
	ID          int64
	Owner, Repo string
	Number      int    // the pull request's number
	User        string // author's login; "<slug>[bot]" when an App posted it
	UserType    string // "User" or "Bot"
	Body        string
	// AppID is the App that posted the comment through the API, 0 for a
	// comment seeded with [Server.AddComment].
	AppID     int64
	CreatedAt time.Time
}

type reaction struct {
	id        int64
	user      *user
	content   string
	createdAt time.Time
}

// AddComment records a comment by user (created as a "User" if unknown)
// on pull request number and returns its id, for instance to build an
// issue_comment webhook with [Server.IssueCommentWebhook]. The body must
// be one GitHub accepts: not blank, at most 65,536 characters.
func (s *Server) AddComment(owner, repo string, number int, login, body string) int64 {
	s.t.Helper()
	if strings.TrimSpace(body) == "" || utf8.RuneCountInString(body) > maxCommentChars {
		s.t.Fatalf("githubtest: AddComment: GitHub refuses a blank body or one over %d characters", maxCommentChars)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repos[repoKey(owner, repo)]
	if r == nil || s.pullLocked(r, number) == nil {
		s.t.Fatalf("githubtest: AddComment: no pull request %s/%s#%d", owner, repo, number)
	}
	u, err := s.ensureUserLocked(login)
	if err != nil {
		s.t.Fatalf("githubtest: AddComment: %v", err)
	}
	return s.addCommentLocked(r, number, u, body, 0).ID
}

func (s *Server) addCommentLocked(r *Repo, number int, u *user, body string, appID int64) *Comment {
	c := &Comment{
		ID: s.newIDLocked(), Owner: r.Owner, Repo: r.Name, Number: number,
		User: u.login, UserType: u.typ, Body: body, AppID: appID, CreatedAt: s.nowLocked(),
	}
	s.comments[c.ID] = c
	return c
}

// Comments returns the comments on pull request number, oldest first.
func (s *Server) Comments(owner, repo string, number int) []Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Comment
	for _, c := range s.commentsLocked(owner, repo, number) {
		out = append(out, *c)
	}
	return out
}

func (s *Server) commentsLocked(owner, repo string, number int) []*Comment {
	var out []*Comment
	for _, c := range s.comments {
		if repoKey(c.Owner, c.Repo) == repoKey(owner, repo) && c.Number == number {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Reactions returns the contents of the reactions on comment id, oldest
// first (one per user and content, as GitHub keeps them).
func (s *Server) Reactions(commentID int64) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, rx := range s.reactions[commentID] {
		out = append(out, rx.content)
	}
	return out
}

func (s *Server) commentRoutes() {
	s.handle("POST /api/v3/repos/{owner}/{repo}/issues/{issue_number}/comments", authRepo("", ""), s.createComment)
	// GET issues/{issue_number}/comments and GET issues/comments/{comment_id}
	// overlap (issues/comments/comments), which net/http refuses: one
	// pattern serves both, as GitHub's router tells them apart.
	s.handle("GET /api/v3/repos/{owner}/{repo}/issues/{a}/{b}", authRepo("", ""), s.issuesTwoSegments)
	s.handle("POST /api/v3/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions", authRepo("", ""), s.createReaction)
	s.handle("GET /api/v3/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions", authRepo("", ""), s.listReactions)
}

// GitHub documents issue-comment endpoints as needing "Issues" or "Pull
// requests"; a pull request's comments work with either.
var (
	commentRead  = []string{"issues:read", "pull_requests:read"}
	commentWrite = []string{"issues:write", "pull_requests:write"}
)

func (s *Server) issuesTwoSegments(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	a, b := r.PathValue("a"), r.PathValue("b")
	switch {
	case a == "comments":
		rc.route = "GET /repos/{owner}/{repo}/issues/comments/{comment_id}"
		r.SetPathValue("comment_id", b)
		s.getComment(w, r, rc)
	case b == "comments":
		rc.route = "GET /repos/{owner}/{repo}/issues/{issue_number}/comments"
		r.SetPathValue("issue_number", a)
		s.listComments(w, r, rc)
	case b == "timeline":
		rc.route = "GET /repos/{owner}/{repo}/issues/{issue_number}/timeline"
		r.SetPathValue("issue_number", a)
		s.listTimeline(w, r, rc)
	default:
		rc.route = "(unmatched)"
		writeNotFound(w)
	}
}

func (s *Server) createComment(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	if !requirePerm(w, rc, commentWrite...) {
		return
	}
	body, _, ok := decodeBody(w, r)
	if !ok {
		return
	}
	n, err := strconv.Atoi(r.PathValue("issue_number"))
	s.mu.Lock()
	exists := err == nil && s.pullLocked(rc.repo, n) != nil
	s.mu.Unlock()
	if !exists {
		writeError(w, http.StatusNotFound, "Not Found", docCreateComment)
		return
	}
	v := &validator{}
	v.required(body, "body")
	text := v.str(body, "", "body")
	if len(v.lines) > 0 {
		writeInvalidRequest(w, docCreateComment, v.lines)
		return
	}
	switch {
	case strings.TrimSpace(*text) == "":
		writeValidationFailed(w, docCreateComment, fieldError{Resource: "IssueComment", Code: "missing_field", Field: "body"})
		return
	case utf8.RuneCountInString(*text) > maxCommentChars:
		writeValidationFailed(w, docCreateComment, fieldError{Resource: "IssueComment", Code: "unprocessable", Field: "data",
			Message: fmt.Sprintf("Body is too long (maximum is %d characters)", maxCommentChars)})
		return
	}
	s.mu.Lock()
	c := s.addCommentLocked(rc.repo, n, s.botLocked(rc.app), *text, rc.app.ID)
	resp := s.commentJSONLocked(c)
	s.mu.Unlock()
	w.Header().Set("Location", fmt.Sprint(resp["url"]))
	writeJSON(w, http.StatusCreated, resp)
}

// listComments lists a pull request's comments oldest first; since (ISO
// 8601) keeps those updated at or after it.
func (s *Server) listComments(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	if !requirePerm(w, rc, commentRead...) {
		return
	}
	var since time.Time
	if v := r.URL.Query().Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			writeInvalidRequest(w, docListComments, []string{fmt.Sprintf("For 'properties/since', %s is not a valid date-time.", rubyInspect(v))})
			return
		}
		since = t
	}
	n, err := strconv.Atoi(r.PathValue("issue_number"))
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil || s.pullLocked(rc.repo, n) == nil {
		writeError(w, http.StatusNotFound, "Not Found", docListComments)
		return
	}
	var list []*Comment
	for _, c := range s.commentsLocked(rc.repo.Owner, rc.repo.Name, n) {
		if !c.CreatedAt.Before(since) {
			list = append(list, c)
		}
	}
	lo, hi := page(w, r, s.URL, len(list))
	out := []any{}
	for _, c := range list[lo:hi] {
		out = append(out, s.commentJSONLocked(c))
	}
	writeJSON(w, http.StatusOK, out)
}

// lookupCommentLocked finds {comment_id} within the route's repository.
func (s *Server) lookupCommentLocked(r *http.Request, rc *reqCtx) *Comment {
	id, err := strconv.ParseInt(r.PathValue("comment_id"), 10, 64)
	if err != nil {
		return nil
	}
	c := s.comments[id]
	if c == nil || repoKey(c.Owner, c.Repo) != repoKey(rc.repo.Owner, rc.repo.Name) {
		return nil
	}
	return c
}

func (s *Server) getComment(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	if !requirePerm(w, rc, commentRead...) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.lookupCommentLocked(r, rc)
	if c == nil {
		writeNotFound(w)
		return
	}
	writeJSON(w, http.StatusOK, s.commentJSONLocked(c))
}

// createReaction adds the App's bot's reaction: 201 when new, 200 with the
// existing reaction when the bot already reacted with that content.
func (s *Server) createReaction(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	if !requirePerm(w, rc, commentWrite...) {
		return
	}
	body, _, ok := decodeBody(w, r)
	if !ok {
		return
	}
	v := &validator{}
	v.required(body, "content")
	content := v.enum(body, "", "content", reactionEnum)
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.lookupCommentLocked(r, rc)
	if c == nil {
		writeNotFound(w)
		return
	}
	if len(v.lines) > 0 {
		writeInvalidRequest(w, docCreateReaction, v.lines)
		return
	}
	bot := s.botLocked(rc.app)
	for _, rx := range s.reactions[c.ID] {
		if rx.user == bot && rx.content == *content {
			writeJSON(w, http.StatusOK, s.reactionJSON(rx))
			return
		}
	}
	rx := reaction{id: s.newIDLocked(), user: bot, content: *content, createdAt: s.nowLocked()}
	s.reactions[c.ID] = append(s.reactions[c.ID], rx)
	writeJSON(w, http.StatusCreated, s.reactionJSON(rx))
}

func (s *Server) listReactions(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	if !requirePerm(w, rc, commentRead...) {
		return
	}
	content := r.URL.Query().Get("content")
	if content != "" && !oneOf(content, reactionEnum...) {
		writeInvalidRequest(w, docCreateReaction, []string{notMember("content", content, reactionEnum)})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.lookupCommentLocked(r, rc)
	if c == nil {
		writeNotFound(w)
		return
	}
	var list []reaction
	for _, rx := range s.reactions[c.ID] {
		if content == "" || rx.content == content {
			list = append(list, rx)
		}
	}
	lo, hi := page(w, r, s.URL, len(list))
	out := []any{}
	for _, rx := range list[lo:hi] {
		out = append(out, s.reactionJSON(rx))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) reactionJSON(rx reaction) map[string]any {
	return map[string]any{
		"id": rx.id, "node_id": nodeID("08:Reaction", rx.id), "user": s.userJSON(rx.user),
		"content": rx.content, "created_at": iso(rx.createdAt),
	}
}

// commentJSONLocked renders a comment as go-github's IssueComment.
func (s *Server) commentJSONLocked(c *Comment) map[string]any {
	repo := s.repos[repoKey(c.Owner, c.Repo)]
	u := s.users[strings.ToLower(c.User)]
	id, num := strconv.FormatInt(c.ID, 10), strconv.Itoa(c.Number)
	var via any
	if c.AppID != 0 {
		via = s.appJSONLocked(s.apps[c.AppID])
	}
	url := repo.APIURL() + "/issues/comments/" + id
	summary := map[string]any{"url": url + "/reactions", "total_count": len(s.reactions[c.ID])}
	for _, e := range reactionEnum {
		summary[e] = 0
	}
	for _, rx := range s.reactions[c.ID] {
		summary[rx.content] = summary[rx.content].(int) + 1
	}
	return map[string]any{
		"id": c.ID, "node_id": nodeID("012:IssueComment", c.ID), "url": url,
		"html_url":  repo.HTMLURL() + "/pull/" + num + "#issuecomment-" + id,
		"issue_url": repo.APIURL() + "/issues/" + num,
		"body":      c.Body, "user": s.userJSON(u),
		"created_at": iso(c.CreatedAt), "updated_at": iso(c.CreatedAt),
		"author_association":       s.associationLocked(repo, u),
		"performed_via_github_app": via,
		"reactions":                summary,
	}
}

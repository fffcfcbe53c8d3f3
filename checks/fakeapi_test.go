package checks

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"path"
	"regexp"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/google/go-github/v60/github"
)

// call is one recorded request.
type call struct {
	id     int64
	create *github.CreateCheckRunOptions
	update *github.UpdateCheckRunOptions
}

func (c call) output() *github.CheckRunOutput {
	if c.create != nil {
		return c.create.Output
	}
	return c.update.Output
}

// String is a compact form for asserting sequences: the verb, the name,
// status and conclusion when set, the external ID on creates and the
// number of annotations.
func (c call) String() string {
	var s string
	if c.create != nil {
		o := c.create
		s = fmt.Sprintf("create %s %s", o.Name, o.GetStatus())
		if o.Conclusion != nil {
			s += " " + o.GetConclusion()
		}
		s += " ext=" + o.GetExternalID()
	} else {
		o := c.update
		s = "update " + o.Name
		switch {
		case o.Status != nil:
			s += " " + o.GetStatus()
			if o.Conclusion != nil {
				s += " " + o.GetConclusion()
			}
		default:
			s += " output"
		}
	}
	if o := c.output(); o != nil && len(o.Annotations) > 0 {
		s += fmt.Sprintf(" +%d", len(o.Annotations))
	}
	return s
}

// fakeCheck is what the fake remembers of a check run, to hold later
// requests to GitHub's rules.
type fakeCheck struct {
	name, status, conclusion string
	details                  string
	actions                  []string
	annotations              int
}

// fakeAPI records requests and checks each against GitHub's rules. It
// may be told to fail calls, or to hold them until their context ends.
type fakeAPI struct {
	t  *testing.T
	mu sync.Mutex
	// fail, when set, makes the n-th call (from 0) return its error.
	fail func(n int, c call) error
	// hold, when set, makes calls wait for it to close or ctx to end.
	hold   chan struct{}
	calls  []call
	checks map[int64]*fakeCheck
	nextID int64
}

func newFakeAPI(t *testing.T) *fakeAPI {
	return &fakeAPI{t: t, checks: map[int64]*fakeCheck{}, nextID: 100}
}

func (f *fakeAPI) wait(ctx context.Context) error {
	f.mu.Lock()
	hold := f.hold
	f.mu.Unlock()
	if hold == nil {
		return nil
	}
	select {
	case <-hold:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (f *fakeAPI) CreateCheckRun(ctx context.Context, owner, repo string, opts github.CreateCheckRunOptions) (*github.CheckRun, *github.Response, error) {
	if err := f.wait(ctx); err != nil {
		return nil, nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c := call{create: &opts}
	n := len(f.calls)
	f.calls = append(f.calls, c)
	validateCreate(f.t, owner, repo, opts)
	if f.fail != nil {
		if err := f.fail(n, c); err != nil {
			return nil, nil, err
		}
	}
	f.nextID++
	id := f.nextID
	f.calls[n].id = id
	f.checks[id] = &fakeCheck{name: opts.Name, status: cmpOr(opts.GetStatus(), "queued"), conclusion: opts.GetConclusion(),
		details: opts.GetDetailsURL(), actions: actionIDs(opts.Actions)}
	if opts.Conclusion != nil {
		f.checks[id].status = statusCompleted
	}
	if opts.Output != nil {
		f.checks[id].annotations = len(opts.Output.Annotations)
	}
	return &github.CheckRun{ID: github.Int64(id), Name: github.String(opts.Name),
		HTMLURL: github.String(fmt.Sprintf("https://github.com/%s/%s/runs/%d", owner, repo, id))}, nil, nil
}

func (f *fakeAPI) UpdateCheckRun(ctx context.Context, owner, repo string, id int64, opts github.UpdateCheckRunOptions) (*github.CheckRun, *github.Response, error) {
	if err := f.wait(ctx); err != nil {
		return nil, nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c := call{id: id, update: &opts}
	n := len(f.calls)
	f.calls = append(f.calls, c)
	ch := f.checks[id]
	if ch == nil {
		f.t.Errorf("update of unknown check run %d: %s", id, c)
		return nil, nil, fmt.Errorf("404 not found")
	}
	validateUpdate(f.t, owner, repo, ch, opts)
	if f.fail != nil {
		if err := f.fail(n, c); err != nil {
			return nil, nil, err
		}
	}
	if opts.Status != nil {
		ch.status = opts.GetStatus()
	}
	if opts.Conclusion != nil {
		ch.status, ch.conclusion = statusCompleted, opts.GetConclusion()
	}
	if opts.Output != nil {
		ch.annotations += len(opts.Output.Annotations)
	}
	if opts.DetailsURL != nil {
		ch.details = opts.GetDetailsURL()
	}
	if opts.Actions != nil {
		ch.actions = actionIDs(opts.Actions)
	}
	return &github.CheckRun{ID: github.Int64(id), Name: github.String(opts.Name),
		HTMLURL: github.String(fmt.Sprintf("https://github.com/%s/%s/runs/%d", owner, repo, id))}, nil, nil
}

func actionIDs(actions []*github.CheckRunAction) []string {
	var ids []string
	for _, a := range actions {
		ids = append(ids, a.Identifier)
	}
	return ids
}

func (f *fakeAPI) recorded() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...)
}

func (f *fakeAPI) strings() []string {
	var out []string
	for _, c := range f.recorded() {
		out = append(out, c.String())
	}
	return out
}

// check returns the state of the check run of that name.
func (f *fakeAPI) check(name string) *fakeCheck {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.checks {
		if c.name == name {
			return c
		}
	}
	return nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// errorer is the part of testing.T the validators use, so that a test
// can check that they catch what they should.
type errorer interface {
	Helper()
	Errorf(format string, args ...any)
}

// The rules below are GitHub's, from the REST reference for "Create a
// check run" and "Update a check run" and from the errors GitHub returns
// (summary and text are limited in bytes, github/docs#35252).
var (
	shaRE          = regexp.MustCompile(`^[0-9a-f]{40}$`)
	validStatus    = map[string]bool{"queued": true, "in_progress": true, "completed": true}
	validConcl     = map[string]bool{"action_required": true, "cancelled": true, "failure": true, "neutral": true, "success": true, "skipped": true, "timed_out": true}
	validLevel     = map[string]bool{"notice": true, "warning": true, "failure": true}
	maxDetailBytes = 64 * 1024
)

func validateCreate(t errorer, owner, repo string, o github.CreateCheckRunOptions) {
	t.Helper()
	where := "create " + o.Name
	validateCommon(t, where, owner, repo, o.Name, o.DetailsURL, o.Status, o.Conclusion, o.CompletedAt != nil, o.Output, o.Actions)
	if o.GetConclusion() == "action_required" && o.GetDetailsURL() == "" {
		t.Errorf("%s: conclusion action_required requires a details_url", where)
	}
	if !shaRE.MatchString(o.HeadSHA) {
		t.Errorf("%s: head_sha %q is not a commit SHA", where, o.HeadSHA)
	}
	mustMarshal(t, where, o)
}

func validateUpdate(t errorer, owner, repo string, ch *fakeCheck, o github.UpdateCheckRunOptions) {
	t.Helper()
	where := "update " + o.Name
	validateCommon(t, where, owner, repo, o.Name, o.DetailsURL, o.Status, o.Conclusion, o.CompletedAt != nil, o.Output, o.Actions)
	if o.GetConclusion() == "action_required" && o.GetDetailsURL() == "" && ch.details == "" {
		t.Errorf("%s: conclusion action_required requires a details_url", where)
	}
	// go-github always sends name; an update must not rename the check.
	if o.Name != ch.name {
		t.Errorf("%s: renames check %q", where, ch.name)
	}
	if ch.status == statusCompleted && o.Status != nil && o.GetStatus() != statusCompleted {
		t.Errorf("%s: moves a completed check back to %s", where, o.GetStatus())
	}
	if ch.status == statusCompleted && o.Status == nil && (o.Output == nil || len(o.Output.Annotations) == 0) {
		t.Errorf("%s: progress update of a completed check", where)
	}
	mustMarshal(t, where, o)
}

func validateCommon(t errorer, where, owner, repo, name string, details, status, conclusion *string, completedAt bool, out *github.CheckRunOutput, actions []*github.CheckRunAction) {
	t.Helper()
	if owner == "" || repo == "" {
		t.Errorf("%s: no owner or repo", where)
	}
	if name == "" {
		t.Errorf("%s: name is required", where)
	}
	if status != nil && !validStatus[*status] {
		t.Errorf("%s: status %q is not one an app may set", where, *status)
	}
	if conclusion != nil && !validConcl[*conclusion] {
		t.Errorf("%s: conclusion %q is invalid", where, *conclusion)
	}
	if status != nil && *status == statusCompleted && conclusion == nil {
		t.Errorf("%s: status completed requires a conclusion", where)
	}
	if conclusion != nil && status != nil && *status != statusCompleted {
		t.Errorf("%s: conclusion with status %s", where, *status)
	}
	if conclusion != nil && !completedAt {
		t.Errorf("%s: conclusion without completed_at", where)
	}
	if completedAt && conclusion == nil {
		t.Errorf("%s: completed_at without conclusion", where)
	}
	if details != nil {
		if u, err := url.Parse(*details); err != nil || !u.IsAbs() || (u.Scheme != "https" && u.Scheme != "http") {
			t.Errorf("%s: details_url %q is not an absolute http(s) URL", where, *details)
		}
	}
	if len(actions) > 3 {
		t.Errorf("%s: %d actions, GitHub allows 3", where, len(actions))
	}
	for i, a := range actions {
		if a == nil {
			t.Errorf("%s: action %d is null", where, i)
			continue
		}
		for field, lim := range map[string]struct {
			v string
			n int
		}{"label": {a.Label, 20}, "identifier": {a.Identifier, 20}, "description": {a.Description, 40}} {
			if n := utf8.RuneCountInString(lim.v); n == 0 || n > lim.n {
				t.Errorf("%s: action %d: %s %q must have 1 to %d characters", where, i, field, lim.v, lim.n)
			}
		}
	}
	if out != nil {
		validateOutput(t, where, out)
	}
}

func validateOutput(t errorer, where string, o *github.CheckRunOutput) {
	t.Helper()
	if o.GetTitle() == "" || o.GetSummary() == "" {
		t.Errorf("%s: output needs a title and a summary", where)
	}
	for field, s := range map[string]string{"title": o.GetTitle(), "summary": o.GetSummary(), "text": o.GetText()} {
		if !utf8.ValidString(s) {
			t.Errorf("%s: output %s is not valid UTF-8", where, field)
		}
		if len(s) > maxOutputBytes {
			t.Errorf("%s: output %s is %d bytes, over GitHub's 65535", where, field, len(s))
		}
	}
	if len(o.Annotations) > 50 {
		t.Errorf("%s: %d annotations in one request, GitHub allows 50", where, len(o.Annotations))
	}
	for i, a := range o.Annotations {
		validateAnnotation(t, fmt.Sprintf("%s: annotation %d", where, i), a)
	}
}

func validateAnnotation(t errorer, where string, a *github.CheckRunAnnotation) {
	t.Helper()
	p := a.GetPath()
	if p == "" || path.IsAbs(p) || path.Clean(p) != p || strings.HasPrefix(p, "../") {
		t.Errorf("%s: path %q is not relative to the repository", where, p)
	}
	if a.StartLine == nil || a.EndLine == nil || a.GetStartLine() < 1 || a.GetEndLine() < a.GetStartLine() {
		t.Errorf("%s: lines %d-%d are invalid", where, a.GetStartLine(), a.GetEndLine())
	}
	if !validLevel[a.GetAnnotationLevel()] {
		t.Errorf("%s: annotation_level %q is invalid", where, a.GetAnnotationLevel())
	}
	if a.GetMessage() == "" || len(a.GetMessage()) > maxDetailBytes || len(a.GetRawDetails()) > maxDetailBytes {
		t.Errorf("%s: message is empty or too long", where)
	}
	if utf8.RuneCountInString(a.GetTitle()) > 255 {
		t.Errorf("%s: title is over 255 characters", where)
	}
	if a.StartColumn != nil || a.EndColumn != nil {
		if a.GetStartLine() != a.GetEndLine() {
			t.Errorf("%s: columns on a multi-line annotation", where)
		}
		if a.GetStartColumn() < 1 || a.GetEndColumn() < a.GetStartColumn() {
			t.Errorf("%s: columns %d-%d are invalid", where, a.GetStartColumn(), a.GetEndColumn())
		}
	}
}

func mustMarshal(t errorer, where string, v any) {
	t.Helper()
	if _, err := json.Marshal(v); err != nil {
		t.Errorf("%s: does not encode: %v", where, err)
	}
}

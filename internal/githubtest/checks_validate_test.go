package githubtest

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"
)

type obj = map[string]any

func annotations(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = obj{"path": "README.md", "start_line": i + 1, "end_line": i + 1, "annotation_level": "notice", "message": "m"}
	}
	return out
}

func actions(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = obj{"label": fmt.Sprintf("Fix %d", i), "description": "Apply the fix", "identifier": fmt.Sprintf("fix_%d", i)}
	}
	return out
}

func output(extra obj) obj {
	o := obj{"title": "T", "summary": "S"}
	for k, v := range extra {
		o[k] = v
	}
	return o
}

// checkCase is one create request. want is "" for 201, otherwise either
// "invalid: <line>" (schema 422 "Invalid request." containing that line),
// "failed: <field>/<code>" (model 422 "Validation Failed"), or
// "<status>: <message>" for any other GitHub error.
type checkCase struct {
	name string
	body obj
	want string
}

func runCheckCases(t *testing.T, f *fixture, method, url string, cases []checkCase) {
	t.Helper()
	tok := f.token(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := len(f.srv.CheckRuns("acme", "widgets"))
			r := do(t, method, url, "token "+tok, tc.body)
			after := len(f.srv.CheckRuns("acme", "widgets"))
			kind, detail, _ := strings.Cut(tc.want, ": ")
			switch kind {
			case "":
				if r.status/100 != 2 {
					t.Fatalf("rejected: %d %s", r.status, r.raw)
				}
				return
			case "invalid":
				m := r.object(t)
				msg, _ := m["message"].(string)
				if r.status != 422 || !strings.HasPrefix(msg, "Invalid request.\n\n") || !containsLine(msg, detail) {
					t.Fatalf("got %d %q, want 422 Invalid request with line %q", r.status, msg, detail)
				}
				if errs, _ := m["errors"].([]any); len(errs) == 0 || !containsAny(errs, detail) {
					t.Errorf("errors array %v lacks %q", m["errors"], detail)
				}
			case "failed":
				m := r.object(t)
				field, code, _ := strings.Cut(detail, "/")
				if r.status != 422 || m["message"] != "Validation Failed" || !hasFieldError(m["errors"], field, code) {
					t.Fatalf("got %d %s, want Validation Failed on %s/%s", r.status, r.raw, field, code)
				}
			default:
				wantGitHubError(t, r, atoi(t, kind), detail)
			}
			if method == "POST" && after != before {
				t.Errorf("a rejected create stored a check run")
			}
		})
	}
}

func containsLine(msg, line string) bool {
	for _, l := range strings.Split(msg, "\n") {
		if l == line {
			return true
		}
	}
	return false
}

func containsAny(list []any, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

func hasFieldError(v any, field, code string) bool {
	list, _ := v.([]any)
	for _, e := range list {
		m, _ := e.(map[string]any)
		if m["resource"] == "CheckRun" && m["field"] == field && m["code"] == code {
			return true
		}
	}
	return false
}

func atoi(t *testing.T, s string) int {
	var n int
	if _, err := fmt.Sscanf(s, "%d", &n); err != nil {
		t.Fatalf("bad status %q", s)
	}
	return n
}

func TestCheckRunCreateValidation(t *testing.T) {
	f := newFixture(t)
	sha := f.sha
	base := func(extra obj) obj {
		b := obj{"name": "build", "head_sha": sha}
		for k, v := range extra {
			b[k] = v
		}
		return b
	}
	a65535, a65536 := strings.Repeat("a", 65535), strings.Repeat("a", 65536)
	e30000, e40000 := strings.Repeat("é", 30000), strings.Repeat("é", 40000) // 60,000 and 80,000 bytes
	ann := func(fields obj) obj {
		a := obj{"path": "README.md", "start_line": 1, "end_line": 1, "annotation_level": "warning", "message": "m"}
		for k, v := range fields {
			if v == nil {
				delete(a, k)
			} else {
				a[k] = v
			}
		}
		return obj{"output": output(obj{"annotations": []any{a}})}
	}
	act := func(label, desc, id string) obj {
		return obj{"actions": []any{obj{"label": label, "description": desc, "identifier": id}}}
	}

	runCheckCases(t, f, "POST", f.repo.APIURL()+"/check-runs", []checkCase{
		{"minimal", base(nil), ""},
		{"missing name", obj{"head_sha": sha}, `invalid: "name" wasn't supplied.`},
		{"missing name and head_sha", obj{}, `invalid: "head_sha", "name" weren't supplied.`},
		{"name not a string", base(obj{"name": 5}), `invalid: For 'properties/name', 5 is not a string.`},
		{"name blank", base(obj{"name": " "}), "failed: name/missing_field"},
		{"unknown sha", base(obj{"head_sha": "0123456789abcdef0123456789abcdef01234567"}), "422: No commit found for SHA: 0123456789abcdef0123456789abcdef01234567"},
		{"branch name as sha", base(obj{"head_sha": "main"}), "422: No commit found for SHA: main"},

		{"status queued", base(obj{"status": "queued"}), ""},
		{"status in_progress", base(obj{"status": "in_progress"}), ""},
		{"status bogus", base(obj{"status": "done"}), `invalid: For 'properties/status', "done" is not a member of ["queued", "in_progress", "completed", "waiting", "requested", "pending"].`},
		{"status waiting (Actions only)", base(obj{"status": "waiting"}), "failed: status/invalid"},
		{"status requested (Actions only)", base(obj{"status": "requested"}), "failed: status/invalid"},
		{"status pending (Actions only)", base(obj{"status": "pending"}), "failed: status/invalid"},
		{"completed with conclusion", base(obj{"status": "completed", "conclusion": "success"}), ""},
		{"completed without conclusion", base(obj{"status": "completed"}), `invalid: "conclusion" wasn't supplied.`},
		{"completed_at without conclusion", base(obj{"completed_at": "2024-01-01T00:00:00Z"}), `invalid: "conclusion" wasn't supplied.`},
		{"conclusion bogus", base(obj{"conclusion": "passed"}), `invalid: For 'properties/conclusion', "passed" is not a member of ["action_required", "cancelled", "failure", "neutral", "success", "skipped", "stale", "timed_out"].`},
		{"conclusion stale (GitHub only)", base(obj{"conclusion": "stale"}), "failed: conclusion/invalid"},
		{"conclusion skipped", base(obj{"conclusion": "skipped"}), ""},
		{"action_required without details_url", base(obj{"conclusion": "action_required"}), "failed: details_url/missing_field"},
		{"action_required with details_url", base(obj{"conclusion": "action_required", "details_url": "https://ci.example.invalid/x"}), ""},
		{"started_at not a date-time", base(obj{"started_at": "yesterday"}), `invalid: For 'properties/started_at', "yesterday" is not a valid date-time.`},

		{"output without title", base(obj{"output": obj{"summary": "S"}}), `invalid: "title" wasn't supplied.`},
		{"output without summary", base(obj{"output": obj{"title": "T"}}), `invalid: "summary" wasn't supplied.`},
		{"output without title and summary", base(obj{"output": obj{"text": "x"}}), `invalid: "summary", "title" weren't supplied.`},
		{"output not an object", base(obj{"output": "x"}), `invalid: For 'properties/output', "x" is not an object.`},
		{"summary 65,535 characters", base(obj{"output": output(obj{"summary": a65535})}), ""},
		{"summary 65,536 characters", base(obj{"output": output(obj{"summary": a65536})}), "invalid: Only 65535 characters are allowed; 65536 were supplied."},
		{"text 65,535 characters", base(obj{"output": output(obj{"text": a65535})}), ""},
		{"text 65,536 characters", base(obj{"output": output(obj{"text": a65536})}), "invalid: Only 65535 characters are allowed; 65536 were supplied."},
		{"summary 30,000 é (60,000 bytes)", base(obj{"output": output(obj{"summary": e30000})}), ""},
		{"summary 40,000 é (80,000 bytes)", base(obj{"output": output(obj{"summary": e40000})}), "failed: summary/custom"},
		{"text 40,000 é (80,000 bytes)", base(obj{"output": output(obj{"text": e40000})}), "failed: text/custom"},

		{"50 annotations", base(obj{"output": output(obj{"annotations": annotations(50)})}), ""},
		{"51 annotations", base(obj{"output": output(obj{"annotations": annotations(51)})}), "invalid: No more than 50 items are allowed; 51 were supplied."},
		{"annotation without fields", base(obj{"output": output(obj{"annotations": []any{obj{}}})}), `invalid: "annotation_level", "end_line", "message", "path", "start_line" weren't supplied.`},
		{"annotation without path", base(ann(obj{"path": nil})), `invalid: "path" wasn't supplied.`},
		{"annotation without message", base(ann(obj{"message": nil})), `invalid: "message" wasn't supplied.`},
		{"annotation level error", base(ann(obj{"annotation_level": "error"})), `invalid: For 'properties/output/properties/annotations/items/properties/annotation_level', "error" is not a member of ["notice", "warning", "failure"].`},
		{"annotation level failure", base(ann(obj{"annotation_level": "failure"})), ""},
		{"annotation start_line not an integer", base(ann(obj{"start_line": 1.5})), `invalid: For 'properties/output/properties/annotations/items/properties/start_line', 1.5 is not an integer.`},
		{"annotation columns on one line", base(ann(obj{"start_column": 2, "end_column": 5})), ""},
		{"annotation columns across lines", base(ann(obj{"end_line": 3, "start_column": 2, "end_column": 5})), "failed: annotations/invalid"},
		{"annotation start_column across lines", base(ann(obj{"end_line": 2, "start_column": 2})), "failed: annotations/invalid"},
		{"annotation column 0", base(ann(obj{"start_column": 0, "end_column": 3})), "failed: annotations/invalid"},
		{"annotation end_column before start", base(ann(obj{"start_column": 5, "end_column": 2})), "failed: annotations/invalid"},
		{"annotation end_line before start", base(ann(obj{"start_line": 5, "end_line": 2})), "failed: annotations/invalid"},
		{"annotation line 0", base(ann(obj{"start_line": 0, "end_line": 0})), "failed: annotations/invalid"},

		{"3 actions", base(obj{"actions": actions(3)}), ""},
		{"4 actions", base(obj{"actions": actions(4)}), "invalid: No more than 3 items are allowed; 4 were supplied."},
		{"label 20", base(act(strings.Repeat("l", 20), "d", "i")), ""},
		{"label 21", base(act(strings.Repeat("l", 21), "d", "i")), "invalid: Only 20 characters are allowed; 21 were supplied."},
		{"label 20 non-ASCII", base(act(strings.Repeat("✓", 20), "d", "i")), ""},
		{"description 40", base(act("l", strings.Repeat("d", 40), "i")), ""},
		{"description 41", base(act("l", strings.Repeat("d", 41), "i")), "invalid: Only 40 characters are allowed; 41 were supplied."},
		{"identifier 20", base(act("l", "d", strings.Repeat("i", 20))), ""},
		{"identifier 21", base(act("l", "d", strings.Repeat("i", 21))), "invalid: Only 20 characters are allowed; 21 were supplied."},
		{"action without identifier", base(obj{"actions": []any{obj{"label": "l", "description": "d"}}}), `invalid: "identifier" wasn't supplied.`},
		{"action without all", base(obj{"actions": []any{obj{}}}), `invalid: "description", "identifier", "label" weren't supplied.`},
	})

	t.Run("malformed JSON", func(t *testing.T) {
		wantGitHubError(t, do(t, "POST", f.repo.APIURL()+"/check-runs", "token "+f.token(t), `{"name": "x",`), 400, "Problems parsing JSON")
	})
}

func TestCheckRunUpdateValidation(t *testing.T) {
	f := newFixture(t)
	tok := f.token(t)
	create := func(body obj) string {
		r := do(t, "POST", f.repo.APIURL()+"/check-runs", "token "+tok, body)
		if r.status != 201 {
			t.Fatalf("create: %d %s", r.status, r.raw)
		}
		return fmt.Sprintf("%s/check-runs/%.0f", f.repo.APIURL(), r.object(t)["id"].(float64))
	}
	open := create(obj{"name": "build", "head_sha": f.sha, "status": "in_progress"})
	done := create(obj{"name": "done", "head_sha": f.sha, "conclusion": "success"})
	linked := create(obj{"name": "linked", "head_sha": f.sha, "details_url": "https://ci.example.invalid/1"})

	runCheckCases(t, f, "PATCH", open, []checkCase{
		{"completed without conclusion", obj{"status": "completed"}, `invalid: "conclusion" wasn't supplied.`},
		{"51 annotations", obj{"output": output(obj{"annotations": annotations(51)})}, "invalid: No more than 50 items are allowed; 51 were supplied."},
		{"bad enum", obj{"conclusion": "ok"}, `invalid: For 'properties/conclusion', "ok" is not a member of ["action_required", "cancelled", "failure", "neutral", "success", "skipped", "stale", "timed_out"].`},
		{"blank name (go-github's default)", obj{"name": "", "status": "in_progress"}, "failed: name/missing_field"},
		{"output without summary", obj{"output": obj{"title": "T"}}, `invalid: "summary" wasn't supplied.`},
		{"4 actions", obj{"actions": actions(4)}, "invalid: No more than 3 items are allowed; 4 were supplied."},
		{"head_sha is not required", obj{"status": "in_progress"}, ""},
	})
	runCheckCases(t, f, "PATCH", done, []checkCase{
		{"completed run cannot be reopened", obj{"status": "in_progress"}, "failed: status/invalid"},
		{"completed run keeps completed", obj{"status": "completed", "conclusion": "failure"}, ""},
	})
	runCheckCases(t, f, "PATCH", linked, []checkCase{
		{"action_required uses the stored details_url", obj{"conclusion": "action_required"}, ""},
	})
	runCheckCases(t, f, "PATCH", f.repo.APIURL()+"/check-runs/999999", []checkCase{
		{"unknown check run", obj{"status": "in_progress"}, "404: Not Found"},
	})

	// Rejected updates leave no trace in the stored run.
	runs := f.srv.CheckRuns("acme", "widgets")
	if len(runs) != 3 {
		t.Fatalf("%d check runs stored, want the 3 created", len(runs))
	}
	builds := 0
	for _, run := range runs {
		if run.Name != "build" {
			continue
		}
		builds++
		if len(run.History) != 2 || run.Status != "in_progress" || len(run.Output.Annotations) != 0 {
			t.Errorf("build after rejected updates: %+v", run)
		}
	}
	if builds != 1 {
		t.Errorf("%d check runs named build, want 1", builds)
	}
}

// go-github surfaces the 422 body: message, and each line in Errors.
func TestValidationErrorThroughGoGitHub(t *testing.T) {
	f := newFixture(t)
	_, resp, err := f.client(t).Checks.CreateCheckRun(ctx(t), "acme", "widgets", github.CreateCheckRunOptions{
		Name: "build", HeadSHA: f.sha, Output: &github.CheckRunOutput{Title: ptr("T"), Summary: ptr(strings.Repeat("x", 65536))},
	})
	var ghErr *github.ErrorResponse
	if !errors.As(err, &ghErr) || resp.StatusCode != 422 {
		t.Fatalf("err = %v", err)
	}
	want := "Only 65535 characters are allowed; 65536 were supplied."
	if ghErr.Message != "Invalid request.\n\n"+want || len(ghErr.Errors) != 1 || ghErr.Errors[0].Message != want {
		t.Errorf("message %q errors %+v", ghErr.Message, ghErr.Errors)
	}
	if len(f.srv.CallsTo("POST /repos/{owner}/{repo}/check-runs")) != 1 || f.srv.CallsTo("POST /repos/{owner}/{repo}/check-runs")[0].Status != 422 {
		t.Errorf("calls = %+v", f.srv.Calls())
	}
}

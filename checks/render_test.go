package checks

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stagegate/stagegate/pipeline/engine"
)

func show(o output) string {
	s := "title: " + o.Title + "\n--- summary\n" + o.Summary
	if o.Text != "" {
		s += "--- text\n" + o.Text
	}
	return s
}

func TestRenderRun(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    runView
	}{
		{"run_running", runView{RunID: "run-1", Stages: []stageRow{
			{Name: "build", State: engine.StatusSuccess, Duration: 12300 * time.Millisecond, URL: "https://github.com/octo/app/runs/2"},
			{Name: "test", State: stateRunning, URL: "https://github.com/octo/app/runs/3"},
			{Name: "deploy", State: statePending, Note: "skipped: if `branch == \"main\"` was false on push to feature/x"},
		}}},
		{"run_failed", runView{RunID: "run-1", Status: engine.StatusFailure, Reason: "stage test: action unit: exit code 1",
			Duration: 63 * time.Second, Stages: []stageRow{
				{Name: "build", State: engine.StatusSuccess, Duration: 12300 * time.Millisecond},
				{Name: "test", State: engine.StatusFailure, Duration: 40100 * time.Millisecond, Note: "action unit: exit code 1"},
				{Name: "lint", State: engine.StatusTimedOut, Duration: 10 * time.Minute, Note: "action vet: timed out after 10m0s"},
				{Name: "deploy", State: engine.StatusSkipped, Note: "skipped: stage test failed | <prod>"},
				{Name: "notify", State: engine.StatusCancelled, Note: "cancelled: superseded by run-2"},
			}}},
		{"run_success", runView{RunID: "run-1", Status: engine.StatusSuccess, Duration: 2 * time.Hour, Stages: []stageRow{
			{Name: "build", State: engine.StatusSuccess, Duration: 450 * time.Millisecond},
		}}},
		{"run_no_stages", runView{RunID: "run-1", Status: engine.StatusFailure, Reason: "the run has no pipeline"}},
		{"run_notes", runView{RunID: "run-1", Notes: []string{"ℹ️ This pull request changes `environments:` (production)."}, Stages: []stageRow{
			{Name: "build", State: stateRunning},
		}}},
	} {
		t.Run(tc.name, func(t *testing.T) { golden(t, tc.name, show(renderRun(tc.v))) })
	}
}

func TestRenderStage(t *testing.T) {
	ok := func(name string, d time.Duration) actionRow {
		return actionRow{Name: name, State: engine.StatusSuccess, Duration: d, Attempts: 1}
	}
	for _, tc := range []struct {
		name string
		v    stageView
	}{
		{"stage_success", stageView{Name: "build", State: engine.StatusSuccess, Duration: 12300 * time.Millisecond, Total: 2,
			Actions:   []actionRow{ok("compile", 10*time.Second), ok("vet", 2300*time.Millisecond)},
			Artifacts: []string{"dist/app.tar.gz", "dist/checksums.txt"},
			Logs:      []logView{{Heading: "compile", Lines: []string{"go build ./...", "done"}}},
		}},
		{"stage_failure", stageView{Name: "test", State: engine.StatusFailure, Duration: 40100 * time.Millisecond, Total: 2,
			Reason: "action unit: exit code 1; on_failure action revert: exit code 3",
			Actions: []actionRow{
				ok("lint", 3*time.Second),
				{Name: "unit", State: engine.StatusFailure, ExitCode: 1, Duration: 40 * time.Second, Attempts: 3},
			},
			Rollback: []actionRow{{Name: "revert", State: engine.StatusFailure, ExitCode: 3, Duration: time.Second, Attempts: 1}},
			Logs: []logView{
				{Heading: "unit", Lines: []string{"--- FAIL: TestX (0.00s)", "    x_test.go:12: got 1, want 2"}},
				{Heading: "unit (attempt 2)", Lines: []string{"FAIL"}},
				{Heading: "on_failure: revert", Lines: []string{"```", "nested fence"}},
			},
			AnnotationsOver: 12,
		}},
		{"stage_integration_summary", stageView{Name: "infra", State: engine.StatusSuccess, Duration: 8 * time.Second, Total: 1,
			Actions: []actionRow{{Name: "stack", State: engine.StatusSuccess, Duration: 8 * time.Second, Attempts: 1,
				Summary: "Change set of stack `web`: 1 to add, 1 to replace.\n\n| Change | Logical ID | Type | Replacement |\n| --- | --- | --- | --- |\n| add | `Topic` | `AWS::SNS::Topic` | |\n| replace | `Queue` | `AWS::SQS::Queue` | True |\n"}},
		}},
		{"stage_timed_out", stageView{Name: "e2e", State: engine.StatusTimedOut, Duration: 15 * time.Minute, Total: 1,
			Reason:  "action browser: timed out after 15m0s",
			Actions: []actionRow{{Name: "browser", State: engine.StatusTimedOut, ExitCode: -1, Duration: 15 * time.Minute, Attempts: 1}},
		}},
		{"stage_skipped", stageView{Name: "deploy", State: engine.StatusSkipped,
			Reason: "skipped: if `branch == \"main\" || tag =~ \"v.*\"` was false on push to feature/x"}},
		{"stage_cancelled_before_start", stageView{Name: "deploy", State: engine.StatusCancelled, Reason: "cancelled: stage test was cancelled"}},
		{"stage_running", stageView{Name: "build", State: stateRunning, Total: 3,
			Actions: []actionRow{ok("fetch", time.Second), {Name: "compile", State: stateRunning, ExitCode: -1, Attempts: 1}},
			Logs:    []logView{{Heading: "fetch", Lines: []string{"ok"}}, {Heading: "compile", Lines: []string{"compiling <pkg> | 50%"}}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) { golden(t, tc.name, show(renderStage(tc.v))) })
	}
}

func TestStageTitles(t *testing.T) {
	fail := func(name string, code int) actionRow {
		return actionRow{Name: name, State: engine.StatusFailure, ExitCode: code, Attempts: 1}
	}
	for _, tc := range []struct {
		v    stageView
		want string
	}{
		{stageView{Name: "build", State: engine.StatusSuccess, Duration: 12300 * time.Millisecond}, "build: success in 12.3s"},
		{stageView{Name: "test", State: engine.StatusFailure, Actions: []actionRow{fail("unit", 1)}}, "test: unit failed (exit 1)"},
		{stageView{Name: "test", State: engine.StatusFailure, Actions: []actionRow{fail("unit", -1), fail("e2e", 2)}}, "test: unit failed, +1 more"},
		{stageView{Name: "test", State: engine.StatusFailure}, "test: failed"},
		{stageView{Name: "deploy", State: engine.StatusSkipped}, "deploy: skipped"},
		{stageView{Name: "e2e", State: engine.StatusTimedOut}, "e2e: timed out"},
		{stageView{Name: "build", State: stateRunning}, "build: running"},
		{stageView{Name: strings.Repeat("x", 64), State: engine.StatusFailure, Actions: []actionRow{fail(strings.Repeat("y", 300), 1)}}, ""},
	} {
		got := stageTitle(tc.v)
		if tc.want == "" {
			got = renderStage(tc.v).Title
			if n := utf8.RuneCountInString(got); n > maxTitle {
				t.Errorf("title of %d characters", n)
			}
			continue
		}
		if got != tc.want {
			t.Errorf("stageTitle = %q, want %q", got, tc.want)
		}
	}
}

func TestRenderLogsSmall(t *testing.T) {
	blocks := []logView{
		{Heading: "compile", Lines: []string{"a", "b", "c"}},
		{Heading: "test", Lines: lines("test line %03d", 100), Cut: 7},
		{Heading: "on_failure: revert", Lines: []string{"``` not a fence", "````"}},
	}
	got := renderLogs(blocks, 1200)
	if len(got) > 1200 {
		t.Errorf("%d bytes, limit 1200", len(got))
	}
	golden(t, "logs_small", got)
}

// TestRenderLogsHuge fills GitHub's limit: the output stays under it in
// bytes, keeps every block's last lines, and says what it cut.
func TestRenderLogsHuge(t *testing.T) {
	for _, tc := range []struct {
		name   string
		blocks []logView
	}{
		{"logs_huge", []logView{
			{Heading: "setup", Lines: lines("setup %d", 5)},
			{Heading: "build", Lines: lines("build output line %06d: compiling package github.com/octo/app/internal/...", 20000), Cut: 1234},
			{Heading: "build (attempt 2)", Lines: lines("retry line %06d", 9000)},
		}},
		{"logs_multibyte", []logView{
			{Heading: "i18n", Lines: lines("行 %05d: 日本語のログ出力 — ünïcödé ✓ 🙂🚀", 8000)},
			{Heading: "emoji", Lines: lines("🙂%d🙂", 30000)},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := renderLogs(tc.blocks, outputBudget)
			if len(got) > outputBudget || len(got) > maxOutputBytes {
				t.Errorf("%d bytes, over the budget of %d", len(got), outputBudget)
			}
			if len(got) < outputBudget-2000 {
				t.Errorf("%d bytes: the budget of %d is badly used", len(got), outputBudget)
			}
			if !utf8.ValidString(got) {
				t.Error("output is not valid UTF-8: a rune was cut")
			}
			for _, b := range tc.blocks {
				if last := b.Lines[len(b.Lines)-1]; !strings.Contains(got, "\n"+last+"\n") {
					t.Errorf("block %s lost its last line %q", b.Heading, last)
				}
			}
			if !strings.Contains(got, " earlier lines cut\n") {
				t.Error("no note of the cut")
			}
			golden(t, tc.name, got)
		})
	}
}

func TestRenderLogsLongLine(t *testing.T) {
	long := strings.Repeat("é", 40000) + "END"
	got := renderLogs([]logView{{Heading: "minified", Lines: []string{"first", long}}}, 2000)
	if len(got) > 2000 || !utf8.ValidString(got) {
		t.Fatalf("%d bytes, valid UTF-8 %v", len(got), utf8.ValidString(got))
	}
	if !strings.Contains(got, "… 1 earlier line cut\n…é") || !strings.Contains(got, "éEND\n```\n") {
		t.Errorf("the line's end is not kept:\n%s", got)
	}
}

func TestLogBlockBound(t *testing.T) {
	var b logBlock
	for i := range 100000 {
		b.add(fmt.Sprintf("line %d of a chatty build", i))
	}
	if b.size > maxTailBytes {
		t.Errorf("block keeps %d bytes", b.size)
	}
	if b.dropped+len(b.lines) != 100000 || b.lines[len(b.lines)-1] != "line 99999 of a chatty build" {
		t.Errorf("dropped %d, kept %d, last %q", b.dropped, len(b.lines), b.lines[len(b.lines)-1])
	}
}

func TestSanitizeLine(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                                "plain",
		"\x1b[1m./main.go:3:2:\x1b[0m x":       "./main.go:3:2: x",
		"\x1b]8;;http://x\x07link\x1b]8;;\x07": "link",
		"a\x00b\tc\rd":                         "ab\tcd",
		"c1 \u009b31mred\u0085":                "c1 red",
		"日本語 ✓":                                "日本語 ✓",
	} {
		if got := sanitizeLine(in); got != want {
			t.Errorf("sanitizeLine(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCell(t *testing.T) {
	for in, want := range map[string]string{
		"a | b":                 `a \| b`,
		"if `a || b` was false": "if `a \\|\\| b` was false",
		"deploy <prod>":         "deploy &lt;prod>",
		"`x < y`":               "`x < y`",
		"two\nlines\r\n":        "two lines",
	} {
		if got := cell(in); got != want {
			t.Errorf("cell(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                            "–",
		450 * time.Millisecond:       "450ms",
		12300 * time.Millisecond:     "12.3s",
		63 * time.Second:             "1m 3s",
		2*time.Hour + 90*time.Second: "2h 2m",
	} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%s) = %q, want %q", d, got, want)
		}
	}
}

func TestClip(t *testing.T) {
	s := strings.Repeat("row ✓ | cell\n", 10000)
	got := clip(s, outputBudget)
	if len(got) > outputBudget || !utf8.ValidString(got) || !strings.HasSuffix(got, "_… cut to fit GitHub's size limit_\n") {
		t.Errorf("clip: %d bytes, ends %q", len(got), got[len(got)-60:])
	}
}

func lines(format string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf(format, i+1)
	}
	return out
}

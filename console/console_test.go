package console

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stagegate/stagegate/pipeline"
	"github.com/stagegate/stagegate/pipeline/engine"
)

func TestTableAlignsColouredCells(t *testing.T) {
	var tb table
	tb.addText("STAGE", "RESULT", "NOTE")
	tb.add(cell{text: "build"}, statusCell(engine.StatusSuccess), cell{text: "ok"})
	tb.add(cell{text: "deploy"}, statusCell(engine.StatusSkipped), cell{text: "why"})
	var plain, colored bytes.Buffer
	tb.write(&plain, Style{})
	tb.write(&colored, Style{Color: true})
	want := "STAGE   RESULT     NOTE\nbuild   ✓ success  ok\ndeploy  – skipped  why\n"
	if plain.String() != want {
		t.Errorf("plain table:\n%s\nwant:\n%s", plain.String(), want)
	}
	if stripped := printableLines(colored.String()); stripped != want {
		t.Errorf("coloured table, colours removed:\n%s\nwant:\n%s", stripped, want)
	}
	if !strings.Contains(colored.String(), ansiGreen+"✓ success"+ansiReset) {
		t.Errorf("no colour in %q", colored.String())
	}
}

func printableLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = printable(l)
	}
	return strings.Join(lines, "\n")
}

func TestFormatDuration(t *testing.T) {
	tests := map[time.Duration]string{
		0:                                 "-",
		340 * time.Millisecond:            "340ms",
		2400 * time.Millisecond:           "2.4s",
		3*time.Minute + 5*time.Second:     "3m05s",
		2*time.Hour + 7*time.Minute + 1e9: "2h07m",
	}
	for d, want := range tests {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

// runEvents is the event sequence of a small run: build passes, test
// fails with a retried action, deploy is skipped.
func runEvents() []engine.Event {
	p := &pipeline.Pipeline{Name: "web", Stages: []*pipeline.Stage{
		{Name: "build", Actions: []*pipeline.Action{{Name: "compile"}}},
		{Name: "test", Actions: []*pipeline.Action{{Name: "unit"}}},
		{Name: "deploy", Actions: []*pipeline.Action{{Name: "ship"}}},
	}}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	plan := pipeline.Plan{Triggered: true, Reason: "push to branch main", Stages: []pipeline.StagePlan{
		{Stage: p.Stages[0], Run: true}, {Stage: p.Stages[1], Run: true}, {Stage: p.Stages[2], Run: true},
	}}
	fail := engine.ActionResult{Name: "unit", Status: engine.StatusFailure, ExitCode: 2, Attempts: 2, Reason: "exit code 2", Duration: 2 * time.Second}
	return []engine.Event{
		engine.RunStarted{RunID: "r1", Pipeline: p, Plan: plan, Time: t0},
		engine.StageStarted{Stage: "build", Time: t0},
		engine.ActionStarted{Stage: "build", Action: "compile", Attempt: 1, Time: t0},
		engine.LogLine{Stage: "build", Action: "compile", Stream: engine.Stdout, Text: "\x1b[32mcompiling\x1b[0m\tnow", Time: t0},
		engine.ActionFinished{Stage: "build", Action: "compile", Attempt: 1, Result: engine.ActionResult{Name: "compile", Status: engine.StatusSuccess, Attempts: 1, Duration: time.Second}},
		engine.StageFinished{Result: engine.StageResult{Name: "build", Status: engine.StatusSuccess, Duration: time.Second}},
		engine.StageStarted{Stage: "test", Time: t0},
		engine.ActionStarted{Stage: "test", Action: "unit", Attempt: 1, Time: t0},
		engine.LogLine{Stage: "test", Action: "unit", Stream: engine.Stderr, Text: "FAIL: TestX", Time: t0},
		engine.ActionStarted{Stage: "test", Action: "unit", Attempt: 2, Time: t0},
		engine.LogLine{Stage: "test", Action: "unit", Stream: engine.Stderr, Text: "FAIL: TestX again", Time: t0},
		engine.ActionFinished{Stage: "test", Action: "unit", Attempt: 2, Result: fail},
		engine.StageFinished{Result: engine.StageResult{Name: "test", Status: engine.StatusFailure, Reason: "action unit: exit code 2", Duration: 2 * time.Second, Actions: []engine.ActionResult{fail}}},
		engine.StageFinished{Result: engine.StageResult{Name: "deploy", Status: engine.StatusSkipped, Reason: "skipped: stage test failed"}},
	}
}

func TestPlain(t *testing.T) {
	var out bytes.Buffer
	p := NewPlain(&out)
	for _, e := range runEvents() {
		p.Observe(e)
	}
	want := `run r1 of web: push to branch main
[build] started
[build/compile] started
[build/compile] ` + "\x1b[32mcompiling\x1b[0m\tnow" + `
[build/compile] success in 1.0s
[build] success in 1.0s
[test] started
[test/unit] started
[test/unit] FAIL: TestX
[test/unit] attempt 2 started
[test/unit] FAIL: TestX again
[test/unit] failure (exit 2) in 2.0s
[test] failure in 2.0s: action unit: exit code 2
[deploy] skipped: stage test failed
`
	if out.String() != want {
		t.Errorf("plain output:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestLiveFrames(t *testing.T) {
	var out bytes.Buffer
	l := NewLive(&out, 60, Style{})
	now := time.Date(2026, 1, 1, 0, 0, 1, 500e6, time.UTC)
	l.now = func() time.Time { return now }
	events := runEvents()
	for _, e := range events[:9] {
		l.Observe(e)
	}
	l.mu.Lock()
	mid := l.lines()
	l.mu.Unlock()
	wantMid := []string{
		"web · run r1",
		"✓ build      1.0s",
		"  ✓ compile  1.0s",
		"⠋ test       1.5s",
		"  ⠋ unit     1.5s  │ FAIL: TestX",
		"· deploy     pending",
	}
	if strings.Join(mid, "\n") != strings.Join(wantMid, "\n") {
		t.Errorf("frame while running:\n%s\nwant:\n%s", strings.Join(mid, "\n"), strings.Join(wantMid, "\n"))
	}
	for _, e := range events[9:] {
		l.Observe(e)
	}
	l.Stop()
	s := out.String()
	for _, w := range []string{"✗ test", "failure (exit 2)", "– deploy     skipped: stage test failed",
		"── test/unit: failure, last 2 lines ──\nFAIL: TestX\nFAIL: TestX again\n"} {
		if !strings.Contains(s, w) {
			t.Errorf("final output lacks %q:\n%s", w, s)
		}
	}
}

func TestLiveFitsTheWidth(t *testing.T) {
	l := NewLive(&bytes.Buffer{}, 40, Style{Color: true})
	long := l.style.paint(ansiGreen, strings.Repeat("x", 100))
	got := l.fit(long)
	if n := len([]rune(printable(got))); n != 40 {
		t.Errorf("fit kept %d columns, want 40: %q", n, got)
	}
	if !strings.HasSuffix(got, "…"+ansiReset) {
		t.Errorf("fit = %q, want an ellipsis and a colour reset at the end", got)
	}
	if short := "abc"; l.fit(short) != short {
		t.Errorf("fit changed a short line")
	}
}

func TestPrintableDropsControlSequences(t *testing.T) {
	if got := printable("\x1b[1;31merror\x1b[0m:\tbad\r"); got != "error: bad" {
		t.Errorf("printable = %q", got)
	}
}

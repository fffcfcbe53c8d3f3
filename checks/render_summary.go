package checks

import (
	"fmt"
	"strings"
	"time"

	"github.com/stagegate/stagegate/pipeline/engine"
)

// runView is what the summary check shows of a run.
type runView struct {
	RunID string
	// Status is empty while the run goes on.
	Status   engine.Status
	Reason   string
	Duration time.Duration
	Stages   []stageRow
	// Notes are paragraphs shown under the verdict.
	Notes []string
}

// stageRow is one stage in the summary.
type stageRow struct {
	Name     string
	State    engine.Status
	Duration time.Duration
	Note     string
	// URL is the stage check's page, when it has one yet.
	URL string
}

// renderRun renders the summary check. The table carries everything on
// its own; the mermaid graph after it is a picture of the same, since
// GitHub renders mermaid in Markdown but does not document doing so in
// check summaries.
func renderRun(v runView) output {
	var b strings.Builder
	b.WriteString(runVerdict(v) + "\n\n")
	for _, n := range v.Notes {
		b.WriteString(n + "\n\n")
	}
	if len(v.Stages) == 0 {
		b.WriteString("The pipeline has no stages to show.\n")
		return output{Title: truncate(runTitle(v), maxTitle), Summary: clip(b.String(), outputBudget)}
	}
	rows := make([][]string, len(v.Stages))
	for i, s := range v.Stages {
		name := "`" + s.Name + "`"
		if s.URL != "" {
			name = "[" + name + "](" + s.URL + ")"
		}
		dur := ""
		if s.Duration > 0 {
			dur = formatDuration(s.Duration)
		}
		rows[i] = []string{name, result(s.State), dur, s.Note}
	}
	table(&b, []string{"Stage", "Result", "Duration", "Note"}, rows)
	b.WriteString("\n")
	mermaid(&b, v.Stages)
	return output{Title: truncate(runTitle(v), maxTitle), Summary: clip(b.String(), outputBudget)}
}

// runTitle counts the stages by state: "3 stages: 2 succeeded, 1 failed".
func runTitle(v runView) string {
	n := len(v.Stages)
	head := fmt.Sprintf("%d %s", n, plural(n, "stage", "stages"))
	if n == 0 {
		if v.Reason != "" {
			return head + ": " + v.Reason
		}
		if v.Status == "" {
			return head + ": running"
		}
		return head + ": " + pastTense(v.Status)
	}
	counts := map[engine.Status]int{}
	for _, s := range v.Stages {
		counts[s.State]++
	}
	var parts []string
	known := 0
	for _, st := range stateOrder {
		if c := counts[st]; c > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c, pastTense(st)))
			known += c
		}
	}
	if known < n {
		parts = append(parts, fmt.Sprintf("%d unknown", n-known))
	}
	return head + ": " + strings.Join(parts, ", ")
}

// runVerdict is the summary's opening sentence.
func runVerdict(v runView) string {
	id := "Run"
	if v.RunID != "" {
		id = "Run `" + v.RunID + "`"
	}
	if v.Status == "" {
		return emoji(stateRunning) + " " + id + " is running."
	}
	s := fmt.Sprintf("%s %s **%s**", emoji(v.Status), id, pastTense(v.Status))
	if v.Duration > 0 {
		s += " in " + formatDuration(v.Duration)
	}
	if v.Reason != "" && v.Status != engine.StatusSuccess {
		s += ": " + inline(v.Reason)
	}
	return s + "."
}

// Colours are GitHub's own (Primer) for the same states, so the graph
// reads like the rest of the page.
var mermaidClasses = []struct {
	state engine.Status
	style string
}{
	{engine.StatusSuccess, "fill:#dafbe1,stroke:#1a7f37,color:#1a7f37"},
	{engine.StatusFailure, "fill:#ffebe9,stroke:#cf222e,color:#cf222e"},
	{engine.StatusTimedOut, "fill:#fff8c5,stroke:#9a6700,color:#9a6700"},
	{engine.StatusCancelled, "fill:#eaeef2,stroke:#57606a,color:#57606a"},
	{engine.StatusSkipped, "fill:#f6f8fa,stroke:#8c959f,color:#57606a,stroke-dasharray:4 3"},
	{stateRunning, "fill:#ddf4ff,stroke:#0969da,color:#0969da"},
	{statePending, "fill:#ffffff,stroke:#8c959f,color:#57606a"},
}

// mermaid draws the stages left to right, in order, coloured by state.
func mermaid(b *strings.Builder, stages []stageRow) {
	b.WriteString("```mermaid\ngraph LR\n")
	used := map[engine.Status]bool{}
	for i, s := range stages {
		class := string(s.State)
		if !knownState(s.State) {
			class = "unknown"
		}
		used[s.State] = true
		label := strings.ReplaceAll(s.Name, `"`, "#quot;") + " " + emoji(s.State)
		fmt.Fprintf(b, "  s%d[\"%s\"]:::%s\n", i, label, class)
	}
	for i := 1; i < len(stages); i++ {
		fmt.Fprintf(b, "  s%d --> s%d\n", i-1, i)
	}
	for _, c := range mermaidClasses {
		if used[c.state] {
			fmt.Fprintf(b, "  classDef %s %s\n", c.state, c.style)
		}
	}
	b.WriteString("```\n")
}

func knownState(s engine.Status) bool {
	for _, c := range mermaidClasses {
		if c.state == s {
			return true
		}
	}
	return false
}

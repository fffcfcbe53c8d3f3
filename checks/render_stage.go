package checks

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/stagegate/stagegate/pipeline/engine"
)

// stageView is what a stage's check shows.
type stageView struct {
	Name     string
	State    engine.Status
	Reason   string
	Duration time.Duration
	// Total is how many main actions the stage has, for progress.
	Total     int
	Actions   []actionRow
	Rollback  []actionRow
	Artifacts []string
	Logs      []logView
	// AnnotationsOver counts annotations found past the cap.
	AnnotationsOver int
	// Gate is the deploy gate last shown for the stage, if any.
	Gate *Gate
}

// actionRow is one action in a stage's table.
type actionRow struct {
	Name     string
	State    engine.Status
	ExitCode int
	Duration time.Duration
	Attempts int
	// Summary is the Markdown an integration gave, such as the table
	// of a change set.
	Summary string
}

// maxArtifactsShown keeps the artifact list from crowding the table out.
const maxArtifactsShown = 20

// renderStage renders a stage's check: a title that says what happened,
// a summary with the actions' table and the stage's reason, and the log
// tails as text.
func renderStage(v stageView) output {
	var b strings.Builder
	head := emoji(v.State) + " **" + strings.ReplaceAll(string(v.State), "_", " ") + "**"
	if v.Duration > 0 && v.State != stateRunning {
		head += " in " + formatDuration(v.Duration)
	}
	b.WriteString(head + "\n")
	if v.Reason != "" {
		b.WriteString("\n**Reason:** " + inline(v.Reason) + "\n")
	}
	if v.Gate != nil {
		gateSection(&b, *v.Gate)
	}
	if len(v.Actions) > 0 {
		b.WriteString("\n")
		actionTable(&b, v.Actions)
	}
	actionSummaries(&b, v.Actions)
	if len(v.Rollback) > 0 {
		b.WriteString("\n**Rollback (on_failure)**\n\n")
		actionTable(&b, v.Rollback)
		actionSummaries(&b, v.Rollback)
	}
	if n := len(v.Artifacts); n > 0 {
		names := make([]string, 0, min(n, maxArtifactsShown))
		for _, a := range v.Artifacts[:min(n, maxArtifactsShown)] {
			names = append(names, "`"+strings.Join(strings.Fields(a), " ")+"`")
		}
		line := "\n**Artifacts:** " + strings.Join(names, ", ")
		if n > maxArtifactsShown {
			line += fmt.Sprintf(" and %d more", n-maxArtifactsShown)
		}
		b.WriteString(line + "\n")
	}
	if v.AnnotationsOver > 0 {
		fmt.Fprintf(&b, "\n_Only the first %d annotations are shown; %d more are in the log._\n", maxAnnotations, v.AnnotationsOver)
	}
	out := output{Title: truncate(stageTitle(v), maxTitle), Summary: clip(b.String(), outputBudget)}
	if len(v.Logs) > 0 {
		out.Text = renderLogs(v.Logs, outputBudget)
	}
	return out
}

// actionSummaries shows what integrations said under the table, each
// headed by its action. The stage's summary is cut as a whole to
// GitHub's limit; each summary was bounded by the engine already.
func actionSummaries(b *strings.Builder, rows []actionRow) {
	for _, a := range rows {
		if strings.TrimSpace(a.Summary) == "" {
			continue
		}
		b.WriteString("\n#### `" + strings.ReplaceAll(a.Name, "`", "") + "`\n\n" + strings.TrimRight(a.Summary, "\n") + "\n")
	}
}

func actionTable(b *strings.Builder, rows []actionRow) {
	cells := make([][]string, len(rows))
	for i, a := range rows {
		exit, attempts := "–", "–"
		if a.Attempts > 0 {
			attempts = strconv.Itoa(a.Attempts)
			if a.ExitCode >= 0 && a.State != stateRunning {
				exit = strconv.Itoa(a.ExitCode)
			}
		}
		dur := formatDuration(a.Duration)
		if a.State == stateRunning {
			dur = ""
		}
		cells[i] = []string{"`" + a.Name + "`", result(a.State), exit, dur, attempts}
	}
	table(b, []string{"Action", "Result", "Exit code", "Duration", "Attempts"}, cells)
}

// stageTitle says in a line what the stage did: "build: success in
// 12.3s", "test: unit failed (exit 1)".
func stageTitle(v stageView) string {
	switch v.State {
	case engine.StatusSuccess:
		if v.Duration <= 0 {
			return v.Name + ": success"
		}
		return fmt.Sprintf("%s: success in %s", v.Name, formatDuration(v.Duration))
	case stateRunning:
		done := 0
		for _, a := range v.Actions {
			if a.State != stateRunning {
				done++
			}
		}
		if v.Total > 0 {
			return fmt.Sprintf("%s: running (%d of %d %s done)", v.Name, done, v.Total, plural(v.Total, "action", "actions"))
		}
		return v.Name + ": running"
	case engine.StatusFailure, engine.StatusTimedOut:
		var bad []actionRow
		for _, a := range v.Actions {
			if a.State == engine.StatusFailure || a.State == engine.StatusTimedOut {
				bad = append(bad, a)
			}
		}
		if len(bad) == 0 {
			if v.Gate != nil && len(v.Actions) == 0 && v.Reason != "" {
				// The gate refused: the reason is the refusal.
				return v.Name + ": " + strings.Join(strings.Fields(v.Reason), " ")
			}
			return v.Name + ": " + pastTense(v.State)
		}
		s := fmt.Sprintf("%s: %s %s", v.Name, bad[0].Name, pastTense(bad[0].State))
		if bad[0].State == engine.StatusFailure && bad[0].ExitCode > 0 {
			s += fmt.Sprintf(" (exit %d)", bad[0].ExitCode)
		}
		if len(bad) > 1 {
			s += fmt.Sprintf(", +%d more", len(bad)-1)
		}
		return s
	}
	return v.Name + ": " + strings.ReplaceAll(string(v.State), "_", " ")
}

// Package console shows runs, plans and results on a terminal: a live
// view when stdout is a terminal, plain prefixed lines otherwise, and the
// summary and explanation tables of the CLI.
package console

import (
	"fmt"
	"time"

	"github.com/stagegate/stagegate/pipeline/engine"
)

// Style turns colour and symbols on or off.
type Style struct {
	Color bool
}

const (
	ansiReset = "\x1b[0m"
	ansiRed   = "\x1b[31m"
	ansiGreen = "\x1b[32m"
	ansiYell  = "\x1b[33m"
	ansiDim   = "\x1b[2m"
	ansiBold  = "\x1b[1m"
)

func (s Style) paint(color, text string) string {
	if !s.Color || color == "" {
		return text
	}
	return color + text + ansiReset
}

// icon is the one-character mark of a status.
func (s Style) icon(st engine.Status) string {
	mark, color := statusMark(st)
	return s.paint(color, mark)
}

// statusCell is a status with its mark, for tables.
func statusCell(st engine.Status) cell {
	mark, color := statusMark(st)
	return cell{text: mark + " " + string(st), color: color}
}

func statusMark(st engine.Status) (mark, color string) {
	switch st {
	case engine.StatusSuccess:
		return "✓", ansiGreen
	case engine.StatusFailure:
		return "✗", ansiRed
	case engine.StatusTimedOut:
		return "⧖", ansiRed
	case engine.StatusCancelled:
		return "⊘", ansiYell
	case engine.StatusSkipped:
		return "–", ansiDim
	}
	return "·", ansiDim
}

// describeEnd says how something ended, with the exit code where it
// tells more than the status.
func describeEnd(r engine.ActionResult) string {
	switch r.Status {
	case engine.StatusFailure:
		if r.ExitCode != 0 {
			return fmt.Sprintf("failure (exit %d)", r.ExitCode)
		}
	case engine.StatusSkipped:
		return "skipped"
	}
	return string(r.Status)
}

// formatDuration keeps durations short and readable: 340ms, 2.4s, 3m05s.
func formatDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "-"
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

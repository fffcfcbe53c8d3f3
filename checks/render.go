package checks

import (
	"fmt"
	"strings"
	"time"

	"github.com/stagegate/stagegate/pipeline/engine"
)

// States a stage or action is shown in before it has an engine.Status.
const (
	statePending engine.Status = "pending"
	stateRunning engine.Status = "running"
)

// output is a check's rendered output, before annotations.
type output struct {
	Title, Summary, Text string
}

// maxTitle keeps titles to one readable line; GitHub documents no limit
// for them but truncates them in every view.
const maxTitle = 255

// stateOrder is the order states are counted in a title: the ones that
// need attention first.
var stateOrder = []engine.Status{
	engine.StatusSuccess, engine.StatusFailure, engine.StatusTimedOut,
	engine.StatusCancelled, engine.StatusSkipped, stateRunning, statePending,
}

func emoji(s engine.Status) string {
	switch s {
	case engine.StatusSuccess:
		return "✅"
	case engine.StatusFailure:
		return "❌"
	case engine.StatusTimedOut:
		return "⏱️"
	case engine.StatusCancelled:
		return "🚫"
	case engine.StatusSkipped:
		return "⏭️"
	case stateRunning:
		return "🔄"
	case statePending:
		return "⏳"
	}
	return "❔"
}

// pastTense words a state for sentences such as "2 succeeded".
func pastTense(s engine.Status) string {
	switch s {
	case engine.StatusSuccess:
		return "succeeded"
	case engine.StatusFailure:
		return "failed"
	case engine.StatusTimedOut:
		return "timed out"
	}
	return string(s)
}

func result(s engine.Status) string {
	return emoji(s) + " " + strings.ReplaceAll(string(s), "_", " ")
}

// formatDuration is short and steady: tenths of seconds under a minute,
// then minutes and seconds, then hours and minutes.
func formatDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "–"
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Hour:
		d = d.Round(time.Second)
		return fmt.Sprintf("%dm %ds", int(d/time.Minute), int(d%time.Minute/time.Second))
	}
	d = d.Round(time.Minute)
	return fmt.Sprintf("%dh %dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

// inline makes text safe as one line of Markdown. Outside code spans
// "<" is escaped, as GitHub would otherwise take "<branch>" for a tag
// and drop it; inside them it shows as is, and an escape would show.
func inline(s string) string { return escapeText(s, false) }

// cell makes text safe in a Markdown table cell, where a pipe ends the
// cell even inside a code span unless escaped.
func cell(s string) string { return escapeText(s, true) }

func escapeText(s string, inTable bool) string {
	s = strings.Join(strings.Fields(s), " ")
	var b strings.Builder
	inCode := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '`':
			inCode = !inCode
			b.WriteByte(c)
		case c == '|' && inTable:
			b.WriteString(`\|`)
		case c == '<' && !inCode:
			b.WriteString("&lt;")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// table renders a Markdown table, escaping each cell.
func table(b *strings.Builder, header []string, rows [][]string) {
	b.WriteString("| " + strings.Join(header, " | ") + " |\n|")
	for range header {
		b.WriteString(" --- |")
	}
	b.WriteString("\n")
	for _, r := range rows {
		b.WriteString("|")
		for _, c := range r {
			if c = cell(c); c == "" {
				b.WriteString(" |")
				continue
			}
			b.WriteString(" " + c + " |")
		}
		b.WriteString("\n")
	}
}

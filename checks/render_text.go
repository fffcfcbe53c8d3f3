package checks

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// GitHub documents 65,535 characters for a check's summary and text, but
// enforces it in bytes ("summary exceeds a maximum bytesize of 65535",
// github/docs#35252). Bytes bound characters and UTF-16 units alike, so
// counting bytes is right whichever GitHub counts; the margin covers
// what we cannot see, such as a normalisation on their side.
const (
	maxOutputBytes = 65535
	outputBudget   = 65000
)

// logView is one fenced block of the check's text.
type logView struct {
	Heading string
	Lines   []string
	// Cut counts lines already dropped before Lines.
	Cut int
}

// renderLogs renders log tails as fenced blocks, oldest block first and
// newest line last, in at most limit bytes. When they do not fit, each
// block keeps its last lines, since that is where a failure shows: the
// space is shared fairly, a block needing less than its share giving
// the rest to the others, rather than the newest block taking it all.
func renderLogs(blocks []logView, limit int) string {
	type plan struct {
		v        logView
		fence    string
		overhead int
		size     int
		share    int
	}
	const noteReserve = len("… 18446744073709551615 earlier lines cut\n")
	plans := make([]plan, 0, len(blocks))
	total := 0
	for _, v := range blocks {
		p := plan{v: v, fence: fenceFor(v.Lines)}
		p.overhead = len("**") + len(v.Heading) + len("**\n\n") + 2*(len(p.fence)+1) + noteReserve + len("\n")
		for _, l := range v.Lines {
			p.size += len(l) + 1
		}
		plans = append(plans, p)
		total += p.overhead
	}
	droppedBlocks := 0
	header := ""
	// Only a pathological number of blocks gets here; whole blocks go,
	// oldest first, so that the rest still show something useful.
	for len(plans) > 0 && total+len(header) > limit/2 {
		total -= plans[0].overhead
		plans = plans[1:]
		droppedBlocks++
		header = fmt.Sprintf("_… %d earlier %s cut_\n\n", droppedBlocks, plural(droppedBlocks, "log", "logs"))
	}
	avail := limit - total - len(header)
	order := make([]int, len(plans))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return plans[a].size - plans[b].size })
	for k, i := range order {
		share := avail / (len(order) - k)
		plans[i].share = min(plans[i].size, share)
		avail -= plans[i].share
	}

	var b strings.Builder
	b.WriteString(header)
	for i, p := range plans {
		if i > 0 {
			b.WriteString("\n")
		}
		shown, partial := tailFit(p.v.Lines, p.share)
		cut := p.v.Cut + len(p.v.Lines) - len(shown)
		if partial != "" {
			cut--
		}
		fmt.Fprintf(&b, "**%s**\n\n%s\n", p.v.Heading, p.fence)
		if cut > 0 {
			fmt.Fprintf(&b, "… %d earlier %s cut\n", cut, plural(cut, "line", "lines"))
		}
		if partial != "" {
			b.WriteString(partial + "\n")
		}
		for _, l := range shown {
			b.WriteString(l + "\n")
		}
		b.WriteString(p.fence + "\n")
	}
	return b.String()
}

// tailFit returns the last lines that fit in budget bytes, a newline
// each. When not even the last line fits, partial is its end, cut at a
// rune boundary and marked with an ellipsis.
func tailFit(lines []string, budget int) (shown []string, partial string) {
	used, i := 0, len(lines)
	for i > 0 && used+len(lines[i-1])+1 <= budget {
		used += len(lines[i-1]) + 1
		i--
	}
	if i == len(lines) && i > 0 {
		if keep := budget - len("…") - 1; keep > 0 {
			partial = "…" + suffixBytes(lines[i-1], keep)
			return lines[i:], partial
		}
	}
	return lines[i:], ""
}

// suffixBytes is the longest end of s of at most n bytes that starts on
// a rune boundary.
func suffixBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := len(s) - n
	for i < len(s) && !utf8.RuneStart(s[i]) {
		i++
	}
	return s[i:]
}

// prefixBytes is the longest start of s of at most n bytes that ends on
// a rune boundary.
func prefixBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// fenceFor is a code fence that no line of the content can close:
// longer than any run of backticks in it, as CommonMark requires.
func fenceFor(lines []string) string {
	longest := 0
	for _, l := range lines {
		run := 0
		for i := 0; i < len(l); i++ {
			if l[i] != '`' {
				run = 0
				continue
			}
			run++
			longest = max(longest, run)
		}
	}
	return strings.Repeat("`", max(3, longest+1))
}

// clip cuts Markdown to limit bytes at a line boundary, saying so.
func clip(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	const note = "\n\n_… cut to fit GitHub's size limit_\n"
	cut := prefixBytes(s, limit-len(note))
	if i := strings.LastIndexByte(cut, '\n'); i > 0 {
		cut = cut[:i]
	}
	return cut + note
}

// truncate shortens a single-line string to at most n runes, for
// fields GitHub limits in characters (titles).
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// WithNote puts note above a check's summary, cutting the result to
// GitHub's limit, which counts bytes (65,535), not characters: the cut
// falls on a line, or else a rune, boundary and says so.
func WithNote(note, summary string) string {
	return clip(note+"\n\n"+summary, maxOutputBytes)
}

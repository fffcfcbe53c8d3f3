package checks

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// maxTailBytes bounds the log kept per attempt of an action. A check's
// text holds at most maxOutputBytes, so no single block can ever show
// more; keeping more would only cost memory for a chatty build.
const maxTailBytes = 64 << 10

// logBlock is the tail of one attempt of one action's log.
type logBlock struct {
	action   string
	attempt  int
	rollback bool
	lines    []string
	size     int // bytes of lines, a newline each
	dropped  int // lines dropped from the front to bound memory
	parse    parseState
}

func (b *logBlock) add(line string) {
	b.lines = append(b.lines, line)
	b.size += len(line) + 1
	// Reslicing from the front lets append reallocate only the live
	// tail, so memory stays bounded without copying on every line.
	for b.size > maxTailBytes && len(b.lines) > 1 {
		b.size -= len(b.lines[0]) + 1
		b.lines[0] = ""
		b.lines = b.lines[1:]
		b.dropped++
	}
}

func (b *logBlock) heading() string {
	h := b.action
	if b.rollback {
		h = "on_failure: " + h
	}
	if b.attempt > 1 {
		h += fmt.Sprintf(" (attempt %d)", b.attempt)
	}
	return h
}

func (b *logBlock) view() logView {
	return logView{Heading: b.heading(), Lines: b.lines, Cut: b.dropped}
}

// sanitizeLine removes what renders as noise or is refused by GitHub in
// a log line: ANSI escape sequences (colours, cursor moves) and control
// characters other than tab. Compilers that colour their output would
// otherwise also hide their file:line prefixes from the annotation
// parser.
func sanitizeLine(s string) string {
	clean := true
	for i := 0; i < len(s) && clean; i++ {
		c := s[i]
		// 0xc2 0x80-0x9f is a C1 control character in UTF-8.
		clean = !(c < 0x20 && c != '\t' || c == 0x7f || c == 0xc2 && i+1 < len(s) && s[i+1] < 0xa0)
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == 0x1b:
			i += escapeLen(s[i:])
			continue
		case r == 0x9b: // the one-character CSI
			i += n + csiLen(s[i+n:])
			continue
		case r == '\t':
			b.WriteByte('\t')
		case r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0:
			// dropped
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// escapeLen is the length of the escape sequence at the start of s,
// which starts with ESC.
func escapeLen(s string) int {
	if len(s) < 2 {
		return len(s)
	}
	switch s[1] {
	case '[':
		return 2 + csiLen(s[2:])
	case ']': // OSC, ended by BEL or ESC \ (hyperlinks, titles)
		for i := 2; i < len(s); i++ {
			if s[i] == 0x07 {
				return i + 1
			}
			if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '\\' {
				return i + 2
			}
		}
		return len(s)
	}
	return 2
}

// csiLen is the length of a CSI sequence's parameters and final byte.
func csiLen(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x40 && s[i] <= 0x7e {
			return i + 1
		}
	}
	return len(s)
}

package web

import (
	"strconv"
	"strings"
)

// Segment is a run of a log line's text in one style. Class names the
// style's CSS classes ("" for plain text); Text is the text as printed,
// never HTML: templates and the script escape it.
type Segment struct {
	Class string `json:"c,omitempty"`
	Text  string `json:"t"`
}

// sgrState is the style the SGR codes seen so far select.
type sgrState struct {
	fg, bg                          int // 0 default, 1..16 a palette colour (30-37, 90-97 → 1..16)
	bold, faint, italic, under, rev bool
}

func (s sgrState) class() string {
	var parts []string
	if s.fg != 0 {
		parts = append(parts, "f"+strconv.Itoa(s.fg))
	}
	if s.bg != 0 {
		parts = append(parts, "b"+strconv.Itoa(s.bg))
	}
	for _, f := range []struct {
		on   bool
		name string
	}{{s.bold, "sb"}, {s.faint, "sf"}, {s.italic, "si"}, {s.under, "su"}, {s.rev, "sr"}} {
		if f.on {
			parts = append(parts, f.name)
		}
	}
	return strings.Join(parts, " ")
}

// apply changes the state by one SGR sequence's parameters. Colours of
// the 256-colour palette map to the 16 basic ones where they are those
// (0-15) and are dropped otherwise, as are 24-bit colours: a class per
// colour would be a style sheet of thousands of rules, and inline styles
// are what the pages' content security policy forbids.
func (s *sgrState) apply(params []int) {
	if len(params) == 0 {
		*s = sgrState{}
		return
	}
	for i := 0; i < len(params); i++ {
		p := params[i]
		switch {
		case p == 0:
			*s = sgrState{}
		case p == 1:
			s.bold = true
		case p == 2:
			s.faint = true
		case p == 3:
			s.italic = true
		case p == 4:
			s.under = true
		case p == 7:
			s.rev = true
		case p == 22:
			s.bold, s.faint = false, false
		case p == 23:
			s.italic = false
		case p == 24:
			s.under = false
		case p == 27:
			s.rev = false
		case p >= 30 && p <= 37:
			s.fg = p - 29
		case p == 39:
			s.fg = 0
		case p >= 40 && p <= 47:
			s.bg = p - 39
		case p == 49:
			s.bg = 0
		case p >= 90 && p <= 97:
			s.fg = p - 81
		case p >= 100 && p <= 107:
			s.bg = p - 91
		case p == 38 || p == 48:
			c, skip := extendedColour(params[i+1:])
			i += skip
			if p == 38 {
				s.fg = c
			} else {
				s.bg = c
			}
		}
	}
}

// extendedColour reads the rest of a 38 or 48 sequence: 5;n or 2;r;g;b.
// It returns the basic colour (0 for none) and how many parameters it
// used.
func extendedColour(rest []int) (int, int) {
	if len(rest) == 0 {
		return 0, 0
	}
	switch rest[0] {
	case 5:
		if len(rest) < 2 {
			return 0, 1
		}
		if n := rest[1]; n >= 0 && n < 16 {
			return n + 1, 2
		}
		return 0, 2
	case 2:
		return 0, min(len(rest), 4)
	}
	return 0, 1
}

// maxSGRParams bounds the parameters of one sequence read: a line of
// ";;;;" must not make a long slice.
const maxSGRParams = 32

// renderANSI splits a log line into styled segments. SGR sequences
// (ESC [ ... m) set the style; every other escape sequence (cursor moves,
// titles, hyperlinks) and control character but tab is dropped, since a
// page is not a terminal. The text of the segments is the line's text
// otherwise unchanged.
func renderANSI(line string) []Segment {
	if strings.IndexFunc(line, isControl) < 0 {
		return []Segment{{Text: line}}
	}
	var (
		out   []Segment
		st    sgrState
		cur   strings.Builder
		class string
	)
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, Segment{Class: class, Text: cur.String()})
			cur.Reset()
		}
	}
	for i := 0; i < len(line); {
		c := line[i]
		if c == 0x1b {
			n, params, sgr := escape(line[i:])
			i += n
			if sgr {
				flush()
				st.apply(params)
				class = st.class()
			}
			continue
		}
		if c < 0x20 && c != '\t' || c == 0x7f {
			i++
			continue
		}
		cur.WriteByte(c)
		i++
	}
	flush()
	if out == nil {
		out = []Segment{{Text: ""}}
	}
	return out
}

func isControl(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f }

// escape measures the escape sequence at the start of s (s[0] is ESC)
// and, when it is an SGR sequence, returns its parameters.
func escape(s string) (n int, params []int, sgr bool) {
	if len(s) < 2 {
		return len(s), nil, false
	}
	switch s[1] {
	case '[': // CSI: parameters 0x30-0x3f, intermediates 0x20-0x2f, a final 0x40-0x7e
		j := 2
		for j < len(s) && s[j] >= 0x30 && s[j] <= 0x3f {
			j++
		}
		body := s[2:j]
		for j < len(s) && s[j] >= 0x20 && s[j] <= 0x2f {
			j++
		}
		if j >= len(s) {
			return len(s), nil, false
		}
		if s[j] != 'm' || j != 2+len(body) {
			return j + 1, nil, false
		}
		return j + 1, sgrParams(body), true
	case ']': // OSC: ends at BEL or ESC \
		for j := 2; j < len(s); j++ {
			if s[j] == 0x07 {
				return j + 1, nil, false
			}
			if s[j] == 0x1b && j+1 < len(s) && s[j+1] == '\\' {
				return j + 2, nil, false
			}
		}
		return len(s), nil, false
	}
	return 2, nil, false
}

func sgrParams(body string) []int {
	if body == "" {
		return nil
	}
	var out []int
	for f := range strings.SplitSeq(body, ";") {
		if len(out) == maxSGRParams {
			break
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 || n > 255 {
			n = -1 // unknown: ignored by apply; empty means 0 only as the sole field
			if f == "" {
				n = 0
			}
		}
		out = append(out, n)
	}
	return out
}

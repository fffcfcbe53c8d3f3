package pipeline

import "bytes"

// Limits of a pipeline file. Files are written by anyone who can push,
// and are parsed inside the App's process: each limit keeps one file from
// costing the server more than a real pipeline ever needs.
const (
	// MaxFileSize is the largest pipeline file, in bytes.
	MaxFileSize = 1 << 20
	// MaxDepth is how deeply collections may nest.
	MaxDepth = 64
	// MaxStages is the most stages a pipeline may have.
	MaxStages = 50
	// MaxActions is the most actions a stage may have, on_failure
	// actions included.
	MaxActions = 100
	// MaxKeys is the most keys a block mapping may hold: goccy's parser
	// costs time quadratic in it (8,000 keys take two seconds).
	MaxKeys = 256
)

// utf8BOM is the byte-order mark some editors put at the start of a file.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// depthScan finds where the nesting of data first exceeds max, or a
// block mapping holds more than MaxKeys keys, reading
// the raw bytes once, before the YAML parser: goccy's parser costs time
// and memory quadratic in the nesting of flow collections (`[[[[…`) and
// of compact block sequences (`- - - -…`), so a 200 KB file would take
// gigabytes.
//
// It counts what the parser would nest: flow brackets, outside quoted
// scalars, comments and block scalars; block levels by indentation; and
// each `- ` or `? ` that opens a compact collection on a line. It may
// count a little more than the parser (a `[` that starts the continuation
// line of a plain scalar), never less, so that what it lets through the
// parser handles in linear time; the converter then checks the exact
// depth. Inside a plain scalar in block context, brackets are text, as
// they are to YAML: `run: test [ -f x ]` nests nothing.
func depthScan(data []byte, max int) (p Pos, tooDeep, tooMany bool) {
	s := scanner{data: data, line: 1}
	p, over := s.run(max)
	return p, over && !s.tooMany, s.tooMany
}

type scanner struct {
	data []byte
	i    int
	line int
	// lineStart is the offset of the current line's first byte.
	lineStart int
	// indents are the open block levels, by the column of their content,
	// and keys how many keys each has had.
	indents []int
	keys    []int
	// tooMany is set when a mapping holds more than MaxKeys keys.
	tooMany bool
	// flow is the depth of open flow collections.
	flow int
	// keyCol is the column of the last plain scalar, a key when ": "
	// follows it.
	keyCol int
}

func (s *scanner) pos() Pos { return Pos{Line: s.line, Col: s.i - s.lineStart + 1} }

func (s *scanner) depth() int { return len(s.indents) + s.flow }

func (s *scanner) push(col int) {
	s.indents = append(s.indents, col)
	s.keys = append(s.keys, 0)
}

func (s *scanner) pop() {
	s.indents = s.indents[:len(s.indents)-1]
	s.keys = s.keys[:len(s.keys)-1]
}

func (s *scanner) newline() {
	s.i++
	s.line++
	s.lineStart = s.i
}

func (s *scanner) run(max int) (Pos, bool) {
	for s.i < len(s.data) {
		if s.flow > 0 {
			// Inside a flow collection lines carry on where they were:
			// indentation means nothing.
			if p, over := s.flowLine(max); over {
				return p, true
			}
			continue
		}
		if p, over := s.blockLine(max); over {
			return p, true
		}
	}
	return Pos{}, false
}

// blockLine scans one line in block context, from its first byte.
func (s *scanner) blockLine(max int) (Pos, bool) {
	indent := 0
	for s.i < len(s.data) && s.data[s.i] == ' ' {
		s.i++
		indent++
	}
	if s.i >= len(s.data) {
		return Pos{}, false
	}
	switch s.data[s.i] {
	case '\n':
		s.newline()
		return Pos{}, false
	case '#':
		s.skipLine()
		return Pos{}, false
	}
	for len(s.indents) > 0 && s.indents[len(s.indents)-1] > indent {
		s.pop()
	}
	if len(s.indents) == 0 || s.indents[len(s.indents)-1] < indent {
		s.push(indent)
	}
	counted := false
	if s.depth() > max {
		return s.pos(), true
	}
	// owner is the column of what a block scalar on this line belongs to.
	owner := indent
	for s.i < len(s.data) {
		c := s.data[s.i]
		switch {
		case c == '\n':
			s.newline()
			return Pos{}, false
		case c == ' ' || c == '\t':
			s.i++
		case c == '#':
			s.skipLine()
			return Pos{}, false
		case (c == '-' || c == '?' || c == ':') && s.spaceAfter():
			// A compact collection starts after "- " or "? ": its content
			// is a level deeper. ": " starts a value on the same level.
			if c != ':' {
				owner = s.i - s.lineStart
				s.push(owner + 2)
				if s.depth() > max {
					return s.pos(), true
				}
			} else if !counted {
				// The line's first key is an entry of the innermost level.
				counted = true
				if s.keys[len(s.keys)-1]++; s.keys[len(s.keys)-1] > MaxKeys {
					s.tooMany = true
					return s.pos(), true
				}
			}
			s.i++
		case c == '[' || c == '{':
			s.flow++
			if s.depth() > max {
				return s.pos(), true
			}
			s.i++
			return s.flowLine(max)
		case c == '"' || c == '\'':
			s.quoted(c)
		case c == '|' || c == '>':
			s.blockScalar(owner)
			return Pos{}, false
		case c == '&' || c == '!':
			// An anchor or a tag: the node itself comes after it.
			s.skipWord()
		default:
			// A plain scalar, which may hold a key: "key: value". Read to
			// the ": " that ends a key, or to the end of the line.
			s.plain()
			if s.i < len(s.data) && s.data[s.i] == ':' {
				owner = s.keyCol
				continue
			}
		}
	}
	return Pos{}, false
}

// flowLine scans inside flow collections until they all close, or the
// end of the data.
func (s *scanner) flowLine(max int) (Pos, bool) {
	for s.i < len(s.data) && s.flow > 0 {
		c := s.data[s.i]
		switch c {
		case '\n':
			s.newline()
		case '[', '{':
			s.flow++
			if s.depth() > max {
				return s.pos(), true
			}
			s.i++
		case ']', '}':
			s.flow--
			s.i++
		case '"', '\'':
			if s.tokenStart() {
				s.quoted(c)
			} else {
				s.i++
			}
		case '#':
			if s.tokenStart() {
				s.skipLine()
			} else {
				s.i++
			}
		default:
			s.i++
		}
	}
	if s.flow == 0 && s.i < len(s.data) {
		// The rest of the line is in block context again (a comment, a
		// stray value the parser will refuse).
		return s.restOfLine(max)
	}
	return Pos{}, false
}

// restOfLine scans what follows a closed flow collection on its line.
func (s *scanner) restOfLine(max int) (Pos, bool) {
	for s.i < len(s.data) {
		switch c := s.data[s.i]; c {
		case '\n':
			s.newline()
			return Pos{}, false
		case '#':
			s.skipLine()
			return Pos{}, false
		case '[', '{':
			s.flow++
			if s.depth() > max {
				return s.pos(), true
			}
			s.i++
			return s.flowLine(max)
		case '"', '\'':
			s.quoted(c)
		default:
			s.i++
		}
	}
	return Pos{}, false
}

// tokenStart reports whether the byte at s.i starts a token in flow
// context: a quote or a comment only counts there.
func (s *scanner) tokenStart() bool {
	if s.i == s.lineStart {
		return true
	}
	switch s.data[s.i-1] {
	case ' ', '\t', '[', '{', ',', ':':
		return true
	}
	return false
}

// spaceAfter reports whether the byte after s.i is a space, a tab or the
// end of a line.
func (s *scanner) spaceAfter() bool {
	if s.i+1 >= len(s.data) {
		return true
	}
	switch s.data[s.i+1] {
	case ' ', '\t', '\n', '\r':
		return true
	}
	return false
}

func (s *scanner) skipLine() {
	if j := bytes.IndexByte(s.data[s.i:], '\n'); j >= 0 {
		s.i += j
		s.newline()
		return
	}
	s.i = len(s.data)
}

func (s *scanner) skipWord() {
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case ' ', '\t', '\n':
			return
		}
		s.i++
	}
}

// quoted skips a quoted scalar, which may span lines.
func (s *scanner) quoted(q byte) {
	s.i++
	for s.i < len(s.data) {
		c := s.data[s.i]
		switch {
		case c == '\n':
			s.newline()
			continue
		case q == '"' && c == '\\':
			s.i++
			if s.i < len(s.data) && s.data[s.i] == '\n' {
				s.newline()
				continue
			}
		case c == q:
			if q == '\'' && s.i+1 < len(s.data) && s.data[s.i+1] == '\'' {
				s.i += 2
				continue
			}
			s.i++
			return
		}
		s.i++
	}
}

// plain skips a plain scalar in block context up to the ": " that ends a
// key, a " #" comment, or the end of the line.
func (s *scanner) plain() {
	s.keyCol = s.i - s.lineStart
	for s.i < len(s.data) {
		c := s.data[s.i]
		switch {
		case c == '\n':
			return
		case c == ':' && s.spaceAfter():
			return
		case c == '#' && s.i > s.lineStart && (s.data[s.i-1] == ' ' || s.data[s.i-1] == '\t'):
			return
		}
		s.i++
	}
}

// blockScalar skips a literal or folded scalar: the indicator's line,
// then the lines indented deeper than the first line of content, which
// must be deeper than owner, the column of the key or entry it belongs to.
func (s *scanner) blockScalar(owner int) {
	s.skipLine()
	content := -1
	for s.i < len(s.data) {
		indent := 0
		for s.i+indent < len(s.data) && s.data[s.i+indent] == ' ' {
			indent++
		}
		rest := s.i + indent
		blank := rest >= len(s.data) || s.data[rest] == '\n' || s.data[rest] == '\r'
		switch {
		case blank:
		case content < 0 && indent > owner:
			content = indent
		case content < 0 || indent < content:
			return
		}
		s.i = rest
		s.skipLine()
	}
}

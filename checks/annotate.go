package checks

import (
	"path"
	"regexp"
	"strconv"
	"strings"
)

// Annotation levels, as GitHub spells them.
const (
	levelFailure = "failure"
	levelWarning = "warning"
	levelNotice  = "notice"
)

// GitHub's limits on an annotation.
const (
	maxAnnotationTitle = 255
	// maxAnnotationMessage is well under GitHub's 64 KB: an annotation
	// is read inline in a diff, and one huge line is better read in the
	// log.
	maxAnnotationMessage = 4 << 10
	// maxAnnotations caps one check: past a few hundred, annotations
	// bury the diff rather than explain it, and each 50 costs a request.
	maxAnnotations = 200
	// annotationsPerRequest is GitHub's limit.
	annotationsPerRequest = 50
)

// annotation is a check run annotation. It is comparable, which is how
// duplicates (a line printed by a retry, or by vet and the compiler) are
// found.
type annotation struct {
	Path               string
	StartLine, EndLine int
	// StartCol and EndCol are 0 when unknown, and only set on a
	// single-line annotation: GitHub rejects columns across lines.
	StartCol, EndCol int
	Level            string
	Message          string
	Title            string
}

// annotationSet holds a check's annotations, deduplicated and capped.
type annotationSet struct {
	list []annotation
	seen map[annotation]bool
	// over counts the distinct annotations past the cap.
	over int
}

func (s *annotationSet) add(a annotation) {
	if s.seen[a] {
		return
	}
	if s.seen == nil {
		s.seen = make(map[annotation]bool)
	}
	s.seen[a] = true
	if len(s.list) >= maxAnnotations {
		s.over++
		return
	}
	s.list = append(s.list, a)
}

// fileIndex tells the annotation parser which paths are the repository's.
// A path printed by a tool is only worth annotating when GitHub can show
// it on a file; anything else ("12:30:45: started") is noise that only
// looks like a location.
type fileIndex struct {
	has   func(string) bool
	named func(string) []string
	// workspace is the checkout's absolute path, slash-separated, for
	// tools that print absolute paths.
	workspace string
}

// resolve turns a path printed by an action run in dir into a repository
// path, or reports that it names no file of the repository.
func (ix fileIndex) resolve(p, dir string) (string, bool) {
	if ix.has == nil {
		return "", false
	}
	if path.IsAbs(p) {
		rel, ok := strings.CutPrefix(p, ix.workspace+"/")
		if ix.workspace == "" || !ok {
			return "", false
		}
		return ix.check(rel)
	}
	// A relative path is relative to the action's dir; a tool that
	// prints paths from the repository root is the other common case.
	if dir != "" && dir != "." {
		if r, ok := ix.check(path.Join(dir, p)); ok {
			return r, true
		}
	}
	return ix.check(p)
}

func (ix fileIndex) check(p string) (string, bool) {
	p = path.Clean(p)
	if p == "." || p == ".." || strings.HasPrefix(p, "../") || path.IsAbs(p) {
		return "", false
	}
	return p, ix.has(p)
}

// byBase resolves a Go test line's base name to the one repository file
// of that name; with several, guessing would annotate the wrong file.
func (ix fileIndex) byBase(name string) (string, bool) {
	if ix.named == nil {
		return "", false
	}
	paths := ix.named(name)
	if len(paths) != 1 {
		return "", false
	}
	return paths[0], true
}

// parseState follows one action attempt's output across lines, to tell
// the output of failed Go tests from that of passing ones: with -v,
// t.Log lines of passing tests look exactly like failures, and only the
// "--- FAIL" or "--- PASS" line that follows them tells.
type parseState struct {
	pending []annotation
	// inFail is set below a "--- FAIL" line, where go test without -v
	// prints a failed test's output.
	inFail bool
}

// maxPending bounds the Go test lines held while waiting for a verdict.
const maxPending = maxAnnotations

var (
	// locationRE wants a space after the last colon, as every compiler
	// prints one: without it "a.ts:3:4 - error" would read as line 3
	// with the message "4 - error".
	locationRE = regexp.MustCompile(`^([^\s:]+):(\d+)(?::(\d+))?: +(\S.*)$`)
	goTestRE   = regexp.MustCompile(`^\s+([^\s/:]+\.go):(\d+): (.*)$`)
)

// parseLine reads one sanitized log line of an action run in dir, and
// returns the annotations it yields. A Go test line may yield nothing
// now and several later, when its test's verdict is read.
func parseLine(ix fileIndex, st *parseState, dir, line string) []annotation {
	trimmed := strings.TrimLeft(line, " \t")
	if strings.HasPrefix(trimmed, "::") {
		if a, ok := parseCommand(ix, dir, trimmed); ok {
			return []annotation{a}
		}
		return nil
	}
	if out, done := goTestVerdict(st, line, trimmed); done {
		return out
	}
	// Cheap tests first: most lines are neither form, and the engine
	// waits while a line is parsed.
	if !strings.Contains(line, ": ") {
		return nil
	}
	if m := goTestLine(line); m != nil {
		p, ok := ix.byBase(m[1])
		n, _ := strconv.Atoi(m[2])
		if !ok || n < 1 {
			return nil
		}
		a := annotation{Path: p, StartLine: n, EndLine: n, Level: levelFailure, Message: message(m[3])}
		if st.inFail {
			return []annotation{a}
		}
		if len(st.pending) < maxPending {
			st.pending = append(st.pending, a)
		}
		return nil
	}
	if line != trimmed {
		// Indented lines are continuations of something else: a test
		// message's later lines, a stack trace.
		return nil
	}
	return parseLocation(ix, dir, line)
}

// goTestVerdict handles the lines by which go test tells how a test or
// package ended, releasing or dropping the held lines.
func goTestVerdict(st *parseState, line, trimmed string) (out []annotation, done bool) {
	switch {
	case strings.HasPrefix(trimmed, "--- FAIL:"):
		out, st.pending, st.inFail = st.pending, nil, true
	case strings.HasPrefix(trimmed, "--- PASS:"), strings.HasPrefix(trimmed, "--- SKIP:"):
		st.pending, st.inFail = nil, false
	case strings.HasPrefix(line, "=== "):
		st.inFail = false
	case line == "PASS" || strings.HasPrefix(line, "ok "):
		st.pending, st.inFail = nil, false
	case line == "FAIL" || strings.HasPrefix(line, "FAIL\t"):
		out, st.pending, st.inFail = st.pending, nil, false
	default:
		return nil, false
	}
	return out, true
}

func goTestLine(line string) []string {
	if line == "" || line[0] != ' ' && line[0] != '\t' || !strings.Contains(line, ".go:") {
		return nil
	}
	return goTestRE.FindStringSubmatch(line)
}

// finish is called when the attempt ends: lines still held belong to a
// test that never got a verdict, which in a failed attempt means it was
// the one running when the action failed or timed out.
func (st *parseState) finish(failed bool) []annotation {
	out := st.pending
	st.pending, st.inFail = nil, false
	if !failed {
		return nil
	}
	return out
}

// parseLocation reads the path:line[:col]: message form of compilers,
// vet and linters.
func parseLocation(ix fileIndex, dir, line string) []annotation {
	m := locationRE.FindStringSubmatch(line)
	if m == nil {
		return nil
	}
	p, ok := ix.resolve(m[1], dir)
	n, _ := strconv.Atoi(m[2])
	if !ok || n < 1 {
		return nil
	}
	a := annotation{Path: p, StartLine: n, EndLine: n, Level: levelFor(m[4]), Message: message(m[4])}
	if c, _ := strconv.Atoi(m[3]); c > 0 {
		a.StartCol, a.EndCol = c, c
	}
	return []annotation{a}
}

// levelFor reads the severity a compiler puts before its message (gcc,
// clang, rustc, tsc); without one the line is taken as an error.
func levelFor(msg string) string {
	lower := strings.ToLower(msg)
	switch {
	case strings.HasPrefix(lower, "warning"):
		return levelWarning
	case strings.HasPrefix(lower, "note"), strings.HasPrefix(lower, "info"):
		return levelNotice
	}
	return levelFailure
}

func message(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > maxAnnotationMessage {
		s = prefixBytes(s, maxAnnotationMessage-len("…")) + "…"
	}
	return s
}

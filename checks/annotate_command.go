package checks

import (
	"strconv"
	"strings"
)

// GitHub Actions' runner escapes workflow command values this way
// (ActionCommand.cs): a property may not hold the ":" and "," that
// delimit it, and any value is one line. The message, past the last
// "::", is only unescaped for line breaks and "%". A Replacer decodes in
// one pass, so "%253A" is the text "%3A", as the runner's encoder meant.
var (
	unescapeProperty = strings.NewReplacer("%25", "%", "%0D", "\r", "%0A", "\n", "%3A", ":", "%2C", ",")
	unescapeData     = strings.NewReplacer("%25", "%", "%0D", "\r", "%0A", "\n")
)

var commandLevels = map[string]string{
	"error":   levelFailure,
	"warning": levelWarning,
	"notice":  levelNotice,
}

// parseCommand reads a ::error, ::warning or ::notice workflow command:
//
//	::error file=app.go,line=10,col=15,endLine=12,endColumn=3,title=T::message
//
// A command without a file is kept only in the log: a check annotation
// must point at a file. When the reporter was given no file list the
// path is trusted, since an action that writes the command means it.
func parseCommand(ix fileIndex, dir, line string) (annotation, bool) {
	rest := line[len("::"):]
	head, data, ok := strings.Cut(rest, "::")
	if !ok {
		return annotation{}, false
	}
	name, props, _ := strings.Cut(head, " ")
	level, ok := commandLevels[name]
	if !ok {
		return annotation{}, false
	}
	p := map[string]string{}
	for _, kv := range strings.Split(props, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if ok && k != "" {
			p[k] = unescapeProperty.Replace(v)
		}
	}
	file := strings.TrimSpace(p["file"])
	if file == "" {
		return annotation{}, false
	}
	var resolved string
	if ix.has == nil {
		resolved, ok = fileIndex{has: func(string) bool { return true }, workspace: ix.workspace}.resolve(file, "")
	} else {
		resolved, ok = ix.resolve(file, dir)
	}
	if !ok {
		return annotation{}, false
	}
	msg := message(unescapeData.Replace(data))
	if msg == "" {
		msg = name
	}
	a := annotation{Path: resolved, Level: level, Message: msg}
	if t := strings.TrimSpace(p["title"]); t != "" {
		a.Title = truncate(t, maxAnnotationTitle)
	}
	placeLines(&a, positive(p["line"]), positive(p["endLine"]), positive(p["col"]), positive(p["endColumn"]))
	return a, true
}

// placeLines sets an annotation's lines and columns under GitHub's
// rules: lines are required (a command without one points at the file's
// start), the end is not before the start, and columns are sent only for
// a single line, as GitHub rejects them otherwise.
func placeLines(a *annotation, line, endLine, col, endCol int) {
	if line == 0 {
		line, col, endCol = 1, 0, 0
	}
	if endLine < line {
		endLine = line
	}
	a.StartLine, a.EndLine = line, endLine
	if line != endLine || col == 0 {
		return
	}
	a.StartCol, a.EndCol = col, max(col, endCol)
}

// positive parses a 1-based number, 0 when absent or not one.
func positive(s string) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 1 {
		return 0
	}
	return n
}

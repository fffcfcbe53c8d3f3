package pipeline

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Error is one problem in a pipeline file, at the key or value at fault.
type Error struct {
	File string
	Line int
	Col  int
	Msg  string
}

// Error formats the problem as file:line:col: message, the form editors
// and CI logs turn into links.
func (e *Error) Error() string {
	if e.File == "" {
		return fmt.Sprintf("%d:%d: %s", e.Line, e.Col, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

// Errors is every problem found in a pipeline file. Parse reports them all
// at once so that a user fixes a file in one round trip.
type Errors []*Error

// Error lists the problems one a line, in file order.
func (es Errors) Error() string {
	sorted := slices.Clone(es)
	sortErrors(sorted)
	lines := make([]string, len(sorted))
	for i, e := range sorted {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

func sortErrors(es Errors) {
	slices.SortStableFunc(es, func(a, b *Error) int {
		return cmp.Or(
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Col, b.Col),
			strings.Compare(a.Msg, b.Msg),
		)
	})
}

// errorList collects problems while a file is decoded. A node reached
// through several aliases is checked once per alias, so the same problem
// can be found more than once; it is kept once.
type errorList struct {
	file string
	errs Errors
	seen map[Error]bool
}

func newErrorList(file string) *errorList {
	return &errorList{file: file, seen: make(map[Error]bool)}
}

func (l *errorList) add(p Pos, format string, args ...any) {
	e := Error{File: l.file, Line: p.Line, Col: p.Col, Msg: fmt.Sprintf(format, args...)}
	if l.seen[e] {
		return
	}
	l.seen[e] = true
	l.errs = append(l.errs, &e)
}

// err returns the collected problems, sorted, or nil when there are none.
func (l *errorList) err() error {
	if len(l.errs) == 0 {
		return nil
	}
	sortErrors(l.errs)
	return l.errs
}

// suggest returns the candidate closest to word, or "" when none is close
// enough to be what the user meant.
func suggest(word string, candidates []string) string {
	best, bestDist := "", -1
	limit := min(max(len(word)/3, 1), 3)
	for _, c := range candidates {
		d := editDistance(strings.ToLower(word), c)
		if d <= limit && (bestDist < 0 || d < bestDist) {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance is the optimal string alignment distance: Levenshtein
// plus transposition of neighbours, the most common typo ("stagse").
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	// Three rows suffice: transposition looks two rows back.
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// unknownKey is the message for a key not valid where it is: with a
// suggestion when one is close, else with the valid keys, so that the
// user never has to look them up.
func unknownKey(key, where string, valid []string) string {
	msg := fmt.Sprintf("unknown key %q in %s", key, where)
	if s := suggest(key, valid); s != "" {
		return fmt.Sprintf("%s; did you mean %q?", msg, s)
	}
	return fmt.Sprintf("%s; valid keys are %s", msg, strings.Join(valid, ", "))
}

// unknownEvent always lists the valid events: there are few, and a user
// may not know which GitHub events stagegate supports.
func unknownEvent(name string, events []string) string {
	msg := fmt.Sprintf("unknown event %q in \"on\"", name)
	if s := suggest(name, events); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	}
	return fmt.Sprintf("%s (valid events are %s)", msg, strings.Join(events, ", "))
}

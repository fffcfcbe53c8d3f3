package pipeline

import (
	"fmt"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
)

// conditionEnv is what an `if:` expression sees. Its field tags are the
// names users write.
type conditionEnv struct {
	Event        string   `expr:"event"`
	Branch       string   `expr:"branch"`
	Tag          string   `expr:"tag"`
	BaseBranch   string   `expr:"base_branch"`
	SHA          string   `expr:"sha"`
	PR           int      `expr:"pr"`
	Actor        string   `expr:"actor"`
	ChangedFiles []string `expr:"changed_files"`
	// Changed is changed(glob...): whether any changed file matches the
	// globs. Unknown changed files count as a match, as in path filters.
	Changed func(globs ...string) bool `expr:"changed"`
}

func newConditionEnv(ev Event) conditionEnv {
	return conditionEnv{
		Event:        string(ev.Kind),
		Branch:       ev.Branch,
		Tag:          ev.Tag,
		BaseBranch:   ev.BaseBranch,
		SHA:          ev.SHA,
		PR:           ev.PR,
		Actor:        ev.Actor,
		ChangedFiles: ev.ChangedFiles,
		Changed: func(globs ...string) bool {
			return changedMatch(globs, ev.ChangedFiles)
		},
	}
}

// compileCondition type-checks an `if:` expression against the event
// context; it must yield a bool.
func compileCondition(src string) (*vm.Program, error) {
	return expr.Compile(src,
		expr.Env(conditionEnv{}),
		expr.AsBool(),
	)
}

// evalCondition runs a compiled condition for an event.
func evalCondition(prog *vm.Program, ev Event) (bool, error) {
	out, err := expr.Run(prog, newConditionEnv(ev))
	if err != nil {
		return false, err
	}
	b, ok := out.(bool)
	if !ok {
		return false, fmt.Errorf("condition yielded %T, not bool", out)
	}
	return b, nil
}

// changedMatch reports whether any file matches the globs; a nil list
// (unknown) matches.
func changedMatch(globs, files []string) bool {
	if files == nil {
		return true
	}
	for _, f := range files {
		if MatchGlobs(globs, f) {
			return true
		}
	}
	return false
}

// MatchGlobs reports whether path passes a list of doublestar globs in
// which a leading ! excludes: the last glob that matches decides. A list
// of only excludes starts from "everything", since on its own it could
// never match.
func MatchGlobs(globs []string, path string) bool {
	matched := true
	for _, g := range globs {
		if len(g) == 0 || g[0] != '!' {
			matched = false
			break
		}
	}
	for _, g := range globs {
		neg := len(g) > 0 && g[0] == '!'
		if neg {
			g = g[1:]
		}
		if ok, _ := doublestar.Match(g, path); ok {
			matched = !neg
		}
	}
	return matched
}

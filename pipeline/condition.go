package pipeline

import (
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
	"github.com/expr-lang/expr/vm/runtime"
)

// An `if:` is written by anyone who can push and is compiled and run
// inside the App's process when a run is planned, so it gets budgets that
// no condition over an event comes near, each checked before the work it
// bounds is done.
const (
	// maxConditionLen is the longest `if:`, in bytes.
	maxConditionLen = 4096
	// maxConditionNodes bounds the parsed expression.
	maxConditionNodes = 500
	// conditionMemory is expr's memory budget: the elements of the
	// ranges, arrays and maps an evaluation makes, counted before each is
	// made.
	conditionMemory = 100_000
	// conditionSteps bounds the iterations of loops (all, any, filter,
	// ...) and the files changed() looks at, counted before each, over
	// all the conditions of one plan.
	conditionSteps = 100_000
	// conditionTime bounds the wall time of all the conditions of one
	// plan, checked at every step.
	conditionTime = time.Second
	// maxConditionString is the longest string `+` may build.
	maxConditionString = 8192
)

// conditionBuiltins are expr's builtins an `if:` may use: tests and
// lookups whose results are no larger than their inputs. Those that
// build values of a size the expression chooses (repeat, join, replace,
// split, string, map, reduce, sortBy, groupBy, toJSON, ...) are left
// out, as are now() and date(), which would make a plan depend on the
// hour.
var conditionBuiltins = []string{
	"all", "none", "any", "one", "filter", "find", "findIndex", "findLast", "findLastIndex", "count",
	"len", "abs", "ceil", "floor", "round", "int", "float", "max", "min", "first", "last", "get", "type",
	"trim", "trimPrefix", "trimSuffix", "upper", "lower", "indexOf", "lastIndexOf", "hasPrefix", "hasSuffix",
}

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
	Changed func(globs ...string) (bool, error) `expr:"changed"`
	// Step is called before every iteration of a loop; compileCondition
	// puts the calls in. Calling it by hand only spends budget.
	Step func() (bool, error) `expr:"__step"`
}

// meter is one evaluation's budget of steps and time.
type meter struct {
	steps    int
	deadline time.Time
}

func (m *meter) spend(n int) error {
	m.steps += n
	if m.steps > conditionSteps {
		return fmt.Errorf("the condition exceeds its budget of %d loop steps", conditionSteps)
	}
	if time.Now().After(m.deadline) {
		return fmt.Errorf("the condition exceeds its time budget of %v", conditionTime)
	}
	return nil
}

func newConditionEnv(ev Event, m *meter) conditionEnv {
	return conditionEnv{
		Event:        string(ev.Kind),
		Branch:       ev.Branch,
		Tag:          ev.Tag,
		BaseBranch:   ev.BaseBranch,
		SHA:          ev.SHA,
		PR:           ev.PR,
		Actor:        ev.Actor,
		ChangedFiles: ev.ChangedFiles,
		Changed: func(globs ...string) (bool, error) {
			if err := m.spend(len(ev.ChangedFiles) + 1); err != nil {
				return false, err
			}
			return changedMatch(globs, ev.ChangedFiles), nil
		},
		Step: func() (bool, error) { return true, m.spend(1) },
	}
}

// compileCondition type-checks an `if:` expression against the event
// context; it must yield a bool. It is the same for `stagegate validate`
// and for the planner, so what one refuses the other does.
func compileCondition(src string) (*vm.Program, error) {
	if len(src) > maxConditionLen {
		return nil, fmt.Errorf("the condition is %d bytes; it may be at most %d", len(src), maxConditionLen)
	}
	opts := []expr.Option{
		expr.Env(conditionEnv{}),
		expr.AsBool(),
		expr.MaxNodes(maxConditionNodes),
		expr.DisableAllBuiltins(),
	}
	for _, name := range conditionBuiltins {
		opts = append(opts, expr.EnableBuiltin(name))
	}
	patch := &budgetPatch{}
	opts = append(opts,
		expr.Function(addFunc, addValues, new(func(string, string) string), new(func(any, any) any)),
		expr.Patch(patch),
	)
	prog, err := expr.Compile(src, opts...)
	if err != nil {
		return nil, err
	}
	if patch.refused != nil {
		return nil, patch.refused.Bind(file.NewSource(src))
	}
	return prog, nil
}

// addFunc replaces `+` wherever it may join strings.
const addFunc = "__add"

// addValues is `+` with strings bounded: `let b = a + a` forty times
// would otherwise build a terabyte. The length is checked before the
// string is built.
func addValues(args ...any) (any, error) {
	a, aok := args[0].(string)
	b, bok := args[1].(string)
	if aok && bok {
		if len(a)+len(b) > maxConditionString {
			return nil, fmt.Errorf("the condition builds a string longer than %d bytes", maxConditionString)
		}
		return a + b, nil
	}
	return runtime.Add(args[0], args[1]), nil
}

// budgetPatch puts a call to __step at the start of every loop body, and
// routes every `+` that is not between numbers through addValues. It
// also finds the builtins expr parses whatever options say (map, reduce,
// sortBy, groupBy, sum: those taking a predicate), which are refused
// unless allowed.
type budgetPatch struct {
	refused *file.Error
}

func (p *budgetPatch) Visit(n *ast.Node) {
	switch x := (*n).(type) {
	case *ast.BuiltinNode:
		if p.refused == nil && !slices.Contains(conditionBuiltins, x.Name) {
			p.refused = &file.Error{Location: x.Location(), Message: fmt.Sprintf("%s() is not available in conditions: it can build values of any size", x.Name)}
		}
	case *ast.PredicateNode:
		step := &ast.CallNode{Callee: &ast.IdentifierNode{Value: "__step"}}
		x.Node = &ast.SequenceNode{Nodes: []ast.Node{step, x.Node}}
	case *ast.BinaryNode:
		if x.Operator == "+" && !(isNumber(x.Left.Type()) && isNumber(x.Right.Type())) {
			ast.Patch(n, &ast.CallNode{Callee: &ast.IdentifierNode{Value: addFunc}, Arguments: []ast.Node{x.Left, x.Right}})
		}
	}
}

func isNumber(t reflect.Type) bool {
	if t == nil {
		return false
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

// newMeter starts the step and time budget of one plan: every condition
// of a pipeline spends from it, so fifty stages cannot take fifty times
// as long.
func newMeter() *meter { return &meter{deadline: time.Now().Add(conditionTime)} }

// evalCondition runs a compiled condition for an event within its memory
// budget and what is left of m's steps and time.
func evalCondition(prog *vm.Program, ev Event, m *meter) (bool, error) {
	if err := m.spend(0); err != nil {
		return false, err
	}
	machine := vm.VM{MemoryBudget: conditionMemory}
	out, err := machine.Run(prog, newConditionEnv(ev, m))
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

package pipeline

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/expr-lang/expr/vm"
)

// maxValues bounds the values the decoder visits. Aliases let a small
// file name a huge tree (a list of aliases to a list of aliases...); a
// real pipeline has a few thousand values at most.
const maxValues = 100_000

// decoder turns nodes into the model, checking every rule on the way
// and reporting every problem it finds rather than the first.
type decoder struct {
	errs   *errorList
	budget int
	// conds caches compiled conditions by source: a stage repeated
	// through aliases is compiled once.
	conds map[string]*vm.Program
	// integrations checks the actions' `uses:` and `with:`.
	integrations Integrations
	// roleARN and region check `aws:`.
	roleARN, region *regexp.Regexp
}

func newDecoder(errs *errorList) *decoder {
	return &decoder{errs: errs, budget: maxValues, conds: make(map[string]*vm.Program), integrations: NewIntegrations(),
		roleARN: regexp.MustCompile(roleARNPattern), region: regexp.MustCompile(regionPattern)}
}

// spend charges n visited values to the budget and reports, once, when
// it is used up.
func (d *decoder) spend(n int, p Pos) bool {
	if d.budget < 0 {
		return false
	}
	d.budget -= n
	if d.budget < 0 {
		d.errs.add(p, "the file expands to more than %d values through aliases", maxValues)
		return false
	}
	return true
}

// fields are the entries of a mapping by key.
type fields map[string]pair

func (f fields) has(key string) bool {
	_, ok := f[key]
	return ok
}

// object checks that n is a mapping whose keys are those of the model
// struct t, with t's required keys present. what names n in a type error;
// where names it in other messages.
func (d *decoder) object(n *node, what, where string, t reflect.Type) (fields, bool) {
	if n.kind != kindMap {
		d.typeErr(n, what, "a mapping")
		return nil, false
	}
	if !d.spend(len(n.pairs), n.pos) {
		return nil, false
	}
	valid := yamlKeys(t)
	f := make(fields, len(n.pairs))
	for _, pr := range n.pairs {
		if !slices.Contains(valid, pr.key.text) {
			d.errs.add(pr.key.pos, "%s", unknownKey(pr.key.text, where, valid))
			continue
		}
		f[pr.key.text] = pr
	}
	for _, key := range requiredKeys(t) {
		if !f.has(key) {
			d.errs.add(n.pos, "%s is missing required key %q", where, key)
		}
	}
	return f, true
}

func (d *decoder) typeErr(n *node, what, want string) {
	if n.kind == kindBad {
		return
	}
	d.errs.add(n.pos, "%s must be %s, not %s", what, want, n.kind.phrase())
}

func (d *decoder) str(n *node, what string) (string, bool) {
	if n.kind != kindString {
		d.typeErr(n, what, "a string")
		return "", false
	}
	return n.text, true
}

func (d *decoder) list(n *node, what string) ([]*node, bool) {
	if n.kind != kindList {
		d.typeErr(n, what, "a list")
		return nil, false
	}
	if !d.spend(len(n.items), n.pos) {
		return nil, false
	}
	return n.items, true
}

// strList decodes a list of strings, reporting each item that is not one.
func (d *decoder) strList(n *node, what string) ([]string, []*node) {
	items, ok := d.list(n, what)
	if !ok {
		return nil, nil
	}
	var strs []string
	var nodes []*node
	for _, item := range items {
		if s, ok := d.str(item, "each entry of "+what); ok {
			strs = append(strs, s)
			nodes = append(nodes, item)
		}
	}
	return strs, nodes
}

// integer decodes a whole number in [lo, hi]. `1.0` is refused: the
// schema says integer, and a fraction is most likely a mistake.
func (d *decoder) integer(n *node, what string, lo, hi int) (int, bool) {
	switch {
	case n.kind == kindFloat:
		d.errs.add(n.pos, "%s must be a whole number, not %s", what, n.text)
		return 0, false
	case n.kind != kindInt:
		d.typeErr(n, what, "a whole number")
		return 0, false
	case !n.numOK || n.num < int64(lo) || n.num > int64(hi):
		d.errs.add(n.pos, "%s must be from %d to %d, not %s", what, lo, hi, n.text)
		return 0, false
	}
	return int(n.num), true
}

// enum decodes a string that must be one of the values the model's tag
// for key allows.
func (d *decoder) enum(n *node, t reflect.Type, key string) (string, bool) {
	s, ok := d.str(n, fmt.Sprintf("%q", key))
	if !ok {
		return "", false
	}
	allowed := tagEnum(t, key)
	if !slices.Contains(allowed, s) {
		d.errs.add(n.pos, "invalid %s %q; must be one of %s", key, s, strings.Join(allowed, ", "))
		return "", false
	}
	return s, true
}

// env decodes a mapping of environment variables. Values may be any
// scalar and are kept as written, so that `1.10` is not turned into 1.1.
func (d *decoder) env(n *node, what string) map[string]string {
	if n.kind != kindMap {
		d.typeErr(n, what, "a mapping")
		return nil
	}
	if !d.spend(len(n.pairs), n.pos) {
		return nil
	}
	env := make(map[string]string, len(n.pairs))
	for _, pr := range n.pairs {
		name, v := pr.key.text, pr.value
		if reason := checkEnvName(name); reason != "" {
			d.errs.add(pr.key.pos, "%q in %s %s", name, what, reason)
		}
		switch v.kind {
		case kindString, kindInt, kindFloat, kindBool:
			env[name] = v.text
		case kindNull:
			d.errs.add(v.pos, "variable %q in %s has no value; write %s: \"\" for an empty string", name, what, name)
		default:
			d.typeErr(v, fmt.Sprintf("variable %q in %s", name, what), "a string, number or boolean")
		}
	}
	return env
}

// envNames decodes pass_env or secrets: names of host variables.
func (d *decoder) envNames(n *node, what string) ([]string, []*node) {
	names, nodes := d.strList(n, what)
	first := make(map[string]Pos)
	for i, name := range names {
		p := nodes[i].pos
		if reason := checkEnvName(name); reason != "" {
			d.errs.add(p, "%q in %s %s", name, what, reason)
		}
		if at, dup := first[name]; dup {
			d.errs.add(p, "%q is listed twice in %s (first at %d:%d)", name, what, at.Line, at.Col)
			continue
		}
		first[name] = p
	}
	return names, nodes
}

// globs decodes a list of doublestar globs. inWorkspace also requires
// them to name files inside the workspace.
func (d *decoder) globs(n *node, what string, inWorkspace bool) []string {
	globs, nodes := d.strList(n, what)
	for i, g := range globs {
		reason := checkGlob(g)
		if reason == "" && inWorkspace {
			reason = checkInWorkspace(g)
		}
		if reason != "" {
			d.errs.add(nodes[i].pos, "glob %q in %s %s", g, what, reason)
		}
	}
	return globs
}

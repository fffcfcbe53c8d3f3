package pipeline

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/expr-lang/expr/file"
)

// named remembers where a name was first used, to report a second use.
type named struct {
	name string
	pos  Pos
}

// stages decodes the stage list and checks names across stages.
func (d *decoder) stages(n *node) []*Stage {
	items, ok := d.list(n, `"stages"`)
	if !ok {
		return nil
	}
	if len(items) == 0 {
		d.errs.add(n.pos, "the pipeline must have at least one stage")
	}
	if len(items) > MaxStages {
		// Each stage costs API calls on every push: refuse the file
		// rather than decode a thousand stages.
		d.errs.add(items[MaxStages].pos, "a pipeline may have at most %d stages; this is stage %d of %d", MaxStages, MaxStages+1, len(items))
		return nil
	}
	var stages []*Stage
	byName := make(map[string]named)
	byEnv := make(map[string]named)
	for i, item := range items {
		s, nameNode := d.stage(item, i+1)
		if s == nil {
			continue
		}
		stages = append(stages, s)
		if nameNode == nil || checkName(s.Name) != "" {
			continue
		}
		at := nameNode.pos
		if first, dup := byName[s.Name]; dup {
			if at == first.pos {
				// The same node again, through an alias: point at the use.
				at = item.pos
			}
			d.errs.add(at, "duplicate stage name %q (first at %d:%d)", s.Name, first.pos.Line, first.pos.Col)
			continue
		}
		byName[s.Name] = named{s.Name, at}
		form := envForm(s.Name)
		if first, clash := byEnv[form]; clash {
			d.errs.add(at, "stage names %q (at %d:%d) and %q are the same in output variables, %s%s_<KEY>; rename one",
				first.name, first.pos.Line, first.pos.Col, s.Name, outputPrefix, form)
			continue
		}
		byEnv[form] = named{s.Name, at}
	}
	return stages
}

// stage decodes one stage; it returns nil when the item is not a mapping.
func (d *decoder) stage(n *node, index int) (*Stage, *node) {
	where := fmt.Sprintf("stage %d", index)
	var nameNode *node
	if n.kind == kindMap {
		for _, pr := range n.pairs {
			if pr.key.text == "name" && pr.value.kind == kindString && checkName(pr.value.text) == "" {
				nameNode = pr.value
				where = fmt.Sprintf("stage %q", pr.value.text)
			}
		}
	}
	f, ok := d.object(n, `each entry of "stages"`, where, reflect.TypeFor[Stage]())
	if !ok {
		return nil, nil
	}
	s := &Stage{Pos: n.pos}
	if pr, ok := f["name"]; ok {
		s.Name = d.name(pr.value, "stage")
	}
	if pr, ok := f["if"]; ok {
		s.If = d.condition(s, pr.value)
	}
	d.deployKeys(s, f)
	if pr, ok := f["env"]; ok {
		s.Env = d.env(pr.value, `"env"`)
	}
	if pr, ok := f["aws"]; ok {
		s.AWS = d.aws(pr.value)
	}
	if pr, ok := f["runner"]; ok {
		s.Runner = d.runner(pr.value)
	}
	actionNames := make(map[string]named)
	if pr, ok := f["actions"]; ok {
		s.Actions = d.actions(pr.value, `"actions"`, where, actionNames)
		if pr.value.kind == kindList && len(pr.value.items) == 0 {
			d.errs.add(pr.value.pos, "%s must have at least one action", where)
		}
	}
	if pr, ok := f["on_failure"]; ok {
		s.OnFailure = d.actions(pr.value, `"on_failure"`, where, actionNames)
	}
	d.countActions(f, where)
	return s, nameNode
}

// countActions reports a stage with more than MaxActions actions,
// on_failure included, at the first one too many.
func (d *decoder) countActions(f fields, where string) {
	var items []*node
	for _, key := range []string{"actions", "on_failure"} {
		if pr, ok := f[key]; ok && pr.value.kind == kindList {
			items = append(items, pr.value.items...)
		}
	}
	if len(items) > MaxActions {
		d.errs.add(items[MaxActions].pos, "%s has %d actions; a stage may have at most %d, on_failure included", where, len(items), MaxActions)
	}
}

// name decodes a stage or action name.
func (d *decoder) name(n *node, what string) string {
	s, ok := d.str(n, `"name"`)
	if !ok {
		return ""
	}
	if s == "" {
		d.errs.add(n.pos, "%s name must not be empty", what)
	} else if reason := checkName(s); reason != "" {
		d.errs.add(n.pos, "%s name %q %s", what, s, reason)
	}
	return s
}

// condition decodes and compiles an `if:` expression.
func (d *decoder) condition(s *Stage, n *node) string {
	src, ok := d.str(n, `"if"`)
	if !ok {
		return ""
	}
	if strings.TrimSpace(src) == "" {
		d.errs.add(n.pos, `"if" must not be empty; leave it out to always run the stage`)
		return src
	}
	if prog, ok := d.conds[src]; ok {
		s.cond = prog
		return src
	}
	prog, err := compileCondition(src)
	if err != nil {
		d.conditionErr(n, err)
		return src
	}
	d.conds[src] = prog
	s.cond = prog
	return src
}

// conditionErr reports an expr-lang error at the spot in the file where
// that can be known: inside a one-line scalar written without escapes.
func (d *decoder) conditionErr(n *node, err error) {
	p, msg := n.pos, err.Error()
	var fe *file.Error
	if errors.As(err, &fe) {
		msg = fe.Message
		if n.textCol > 0 && fe.Line == 1 && fe.Column >= 0 && fe.Column <= len([]rune(n.text)) {
			p.Col = n.textCol + fe.Column
		}
	}
	d.errs.add(p, "invalid \"if\" condition: %s", strings.TrimSpace(msg))
}

// deployKeys decodes the keys of a deploy stage, refusing those that
// need an environment on a stage without one.
func (d *decoder) deployKeys(s *Stage, f fields) {
	pr, deploy := f["environment"]
	if deploy {
		if env, ok := d.str(pr.value, `"environment"`); ok {
			if reason := checkEnvironment(env); reason != "" {
				d.errs.add(pr.value.pos, "\"environment\" %s", reason)
			}
			s.Environment = env
		}
	}
	for _, key := range deployOnlyKeys {
		if pr, ok := f[key]; ok && !deploy {
			d.errs.add(pr.key.pos, "%q is only allowed on a deploy stage (one with \"environment\")", key)
		}
	}
	if pr, ok := f["url"]; ok {
		s.URL, _ = d.str(pr.value, `"url"`)
	}
	if pr, ok := f["approval"]; ok {
		if a, ok := d.enum(pr.value, reflect.TypeFor[Stage](), "approval"); ok {
			s.Approval = Approval(a)
		}
	}
	if pr, ok := f["deployers"]; ok {
		deployers, nodes := d.strList(pr.value, `"deployers"`)
		for i, who := range deployers {
			if !validDeployer(who) {
				d.errs.add(nodes[i].pos, "deployer %q is neither a GitHub login nor an @org/team", who)
			}
		}
		s.Deployers = deployers
	}
	if pr, ok := f["require"]; ok {
		require, nodes := d.strList(pr.value, `"require"`)
		for i, name := range require {
			if strings.TrimSpace(name) == "" {
				d.errs.add(nodes[i].pos, "a required check needs a name")
			}
		}
		s.Require = require
	}
	if s.Deploy() && s.Approval == "" {
		s.Approval = ApprovalNone
	}
}

// actions decodes a list of actions. names is shared by a stage's
// actions and on_failure actions: both report under the stage's name.
func (d *decoder) actions(n *node, what, stage string, names map[string]named) []*Action {
	items, ok := d.list(n, what)
	if !ok {
		return nil
	}
	var actions []*Action
	for i, item := range items {
		a, nameNode := d.action(item, what, i+1)
		if a == nil {
			continue
		}
		actions = append(actions, a)
		if nameNode == nil || checkName(a.Name) != "" {
			continue
		}
		at := nameNode.pos
		if first, dup := names[a.Name]; dup {
			if at == first.pos {
				at = item.pos
			}
			d.errs.add(at, "duplicate action name %q in %s (first at %d:%d)", a.Name, stage, first.pos.Line, first.pos.Col)
			continue
		}
		names[a.Name] = named{a.Name, at}
	}
	return actions
}

// action decodes one action; it returns nil when the item is not a
// mapping.
func (d *decoder) action(n *node, list string, index int) (*Action, *node) {
	where := fmt.Sprintf("action %d of %s", index, list)
	var nameNode *node
	if n.kind == kindMap {
		for _, pr := range n.pairs {
			if pr.key.text == "name" && pr.value.kind == kindString && checkName(pr.value.text) == "" {
				nameNode = pr.value
				where = fmt.Sprintf("action %q", pr.value.text)
			}
		}
	}
	f, ok := d.object(n, "each entry of "+list, where, reflect.TypeFor[Action]())
	if !ok {
		return nil, nil
	}
	a := &Action{Pos: n.pos}
	if pr, ok := f["name"]; ok {
		a.Name = d.name(pr.value, "action")
	}
	if pr, ok := f["run"]; ok {
		if run, ok := d.str(pr.value, `"run"`); ok {
			if strings.TrimSpace(run) == "" {
				d.errs.add(pr.value.pos, `"run" must not be empty`)
			}
			a.Run = run
		}
	}
	d.actionKind(a, n, where, f)
	if pr, ok := f["aws"]; ok {
		a.AWS = d.aws(pr.value)
	}
	if pr, ok := f["runner"]; ok {
		a.Runner = d.runner(pr.value)
		if a.Uses != "" {
			d.errs.add(pr.key.pos, `%s has "runner" and "uses"; a runner executes run: scripts, integrations run on this machine`, where)
		}
	}
	if pr, ok := f["dir"]; ok {
		if dir, ok := d.str(pr.value, `"dir"`); ok {
			if dir == "" {
				d.errs.add(pr.value.pos, `"dir" must not be empty; leave it out to run in the workspace`)
			} else if reason := checkInWorkspace(dir); reason != "" {
				d.errs.add(pr.value.pos, "\"dir\" %s", reason)
			}
			a.Dir = dir
		}
	}
	if pr, ok := f["run_order"]; ok {
		a.RunOrder, _ = d.integer(pr.value, `"run_order"`, 1, 999)
	}
	if pr, ok := f["env"]; ok {
		a.Env = d.env(pr.value, `"env"`)
	}
	if pr, ok := f["timeout"]; ok {
		a.Timeout = d.timeout(pr.value)
	}
	if pr, ok := f["retries"]; ok {
		a.Retries, _ = d.integer(pr.value, `"retries"`, 0, 10)
	}
	if pr, ok := f["artifacts"]; ok {
		a.Artifacts = d.globs(pr.value, `"artifacts"`, true)
	}
	return a, nameNode
}

func (d *decoder) timeout(n *node) Duration {
	if n.kind != kindString {
		d.typeErr(n, `"timeout"`, "a duration such as 90s or 15m")
		return 0
	}
	dur, reason := checkDuration(n.text)
	if reason != "" {
		d.errs.add(n.pos, "invalid timeout %q: %s", n.text, reason)
	}
	return Duration(dur)
}

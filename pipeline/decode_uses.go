package pipeline

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// aws decodes an `aws:` mapping.
func (d *decoder) aws(n *node) *AWS {
	f, ok := d.object(n, `"aws"`, `"aws"`, reflect.TypeFor[AWS]())
	if !ok {
		return nil
	}
	a := &AWS{Pos: n.pos}
	if len(f) == 0 && len(n.pairs) == 0 {
		d.errs.add(n.pos, `"aws" must name a role or a region; leave it out for neither`)
	}
	if pr, ok := f["role"]; ok {
		if role, ok := d.str(pr.value, `"role"`); ok {
			if !d.roleARN.MatchString(role) {
				d.errs.add(pr.value.pos, `"role" %q is not an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>)`, role)
			}
			a.Role = role
		}
	}
	if pr, ok := f["region"]; ok {
		if region, ok := d.str(pr.value, `"region"`); ok {
			if !d.region.MatchString(region) {
				d.errs.add(pr.value.pos, `"region" %q is not an AWS region such as us-east-1`, region)
			}
			a.Region = region
		}
	}
	return a
}

// actionKind checks that an action runs a script or uses an integration,
// not both, and decodes the integration's parameters.
func (d *decoder) actionKind(a *Action, n *node, where string, f fields) {
	run, hasRun := f["run"]
	uses, hasUses := f["uses"]
	with, hasWith := f["with"]
	switch {
	case hasRun && hasUses:
		d.errs.add(uses.key.pos, `%s has both "run" (at %d:%d) and "uses"; an action runs a script or uses an integration, not both`,
			where, run.key.pos.Line, run.key.pos.Col)
	case !hasRun && !hasUses:
		if n.kind == kindMap {
			d.errs.add(n.pos, `%s needs "run" (a script) or "uses" (an integration such as aws/s3)`, where)
		}
	}
	if hasWith && !hasUses {
		d.errs.add(with.key.pos, `"with" gives an integration's parameters; %s has no "uses"`, where)
	}
	if !hasUses {
		return
	}
	name, ok := d.str(uses.value, `"uses"`)
	if !ok {
		return
	}
	a.Uses = name
	in, known := d.integrations[name]
	if !known {
		msg := fmt.Sprintf("unknown integration %q", name)
		names := d.integrations.Names()
		if s := suggest(name, names); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		}
		d.errs.add(uses.value.pos, "%s (known integrations are %s)", msg, strings.Join(names, ", "))
		return
	}
	if !hasWith {
		if req := requiredParams(in); len(req) > 0 {
			d.errs.add(uses.key.pos, "%s needs \"with\" with %s for %s", where, quoteList(req), name)
		}
		return
	}
	a.With = d.with(in, with.value)
}

func requiredParams(in *Integration) []string {
	var req []string
	for _, p := range in.Params {
		if p.Required {
			req = append(req, p.Name)
		}
	}
	return req
}

// with decodes an integration's parameters by their declared kinds.
func (d *decoder) with(in *Integration, n *node) map[string]any {
	if n.kind != kindMap {
		d.typeErr(n, `"with"`, "a mapping")
		return nil
	}
	if !d.spend(len(n.pairs), n.pos) {
		return nil
	}
	valid := make([]string, len(in.Params))
	for i, p := range in.Params {
		valid[i] = p.Name
	}
	out := make(map[string]any, len(n.pairs))
	for _, pr := range n.pairs {
		p, ok := in.Param(pr.key.text)
		if !ok {
			d.errs.add(pr.key.pos, "%s", unknownKey(pr.key.text, fmt.Sprintf(`"with" of %s`, in.Name), valid))
			continue
		}
		if v, ok := d.param(in, p, pr.value); ok {
			out[p.Name] = v
		}
	}
	var missing []string
	for _, p := range in.Params {
		if _, ok := out[p.Name]; !ok && p.Required && !slices.ContainsFunc(n.pairs, func(pr pair) bool { return pr.key.text == p.Name }) {
			missing = append(missing, p.Name)
		}
	}
	if len(missing) > 0 {
		d.errs.add(n.pos, `"with" of %s is missing required %s`, in.Name, quoteList(missing))
	}
	if len(in.OneOf) > 0 {
		var given []string
		for _, k := range in.OneOf {
			if slices.ContainsFunc(n.pairs, func(pr pair) bool { return pr.key.text == k }) {
				given = append(given, k)
			}
		}
		if len(given) != 1 {
			d.errs.add(n.pos, `"with" of %s needs exactly one of %s, not %d`, in.Name, quoteList(in.OneOf), len(given))
		}
	}
	for _, pr := range n.pairs {
		var lacking []string
		for _, k := range in.Requires[pr.key.text] {
			if !slices.ContainsFunc(n.pairs, func(o pair) bool { return o.key.text == k }) {
				lacking = append(lacking, k)
			}
		}
		if len(lacking) > 0 {
			d.errs.add(pr.key.pos, `%q of %s needs %s beside it`, pr.key.text, in.Name, quoteList(lacking))
		}
	}
	return out
}

// param decodes one parameter's value.
func (d *decoder) param(in *Integration, p Param, n *node) (any, bool) {
	what := fmt.Sprintf("%q of %s", p.Name, in.Name)
	switch p.Kind {
	case ParamString:
		s, ok := d.str(n, what)
		return s, ok && d.checkString(in, p, n, s, what)
	case ParamBool:
		if n.kind != kindBool {
			d.typeErr(n, what, "true or false")
			return nil, false
		}
		return n.text == "true", true
	case ParamList:
		items, nodes := d.strList(n, what)
		ok := true
		for i, s := range items {
			ok = d.checkString(in, p, nodes[i], s, "each entry of "+what) && ok
		}
		return items, ok && items != nil
	case ParamMap:
		return d.scalarMap(n, what)
	case ParamDuration:
		if n.kind != kindString {
			d.typeErr(n, what, string(p.Kind))
			return nil, false
		}
		if _, reason := checkDuration(n.text); reason != "" {
			d.errs.add(n.pos, "%s %q: %s", what, n.text, reason)
			return nil, false
		}
		return n.text, true
	case ParamFileOrMap:
		if n.kind == kindString {
			return n.text, d.checkString(in, Param{Name: p.Name, Path: true}, n, n.text, what)
		}
		if n.kind != kindMap {
			d.typeErr(n, what, string(p.Kind))
			return nil, false
		}
		return d.scalarMap(n, what)
	case ParamJSON:
		return d.jsonParam(n, what)
	}
	panic(fmt.Sprintf("integration %s: parameter %s has unknown kind %q", in.Name, p.Name, p.Kind))
}

func (d *decoder) checkString(in *Integration, p Param, n *node, s, what string) bool {
	switch {
	case p.Path && s == "":
		d.errs.add(n.pos, "%s must not be empty", what)
	case p.Path && checkInWorkspace(s) != "":
		d.errs.add(n.pos, "%s %s", what, checkInWorkspace(s))
	case len(p.Enum) > 0 && !slices.Contains(p.Enum, s):
		d.errs.add(n.pos, "%s: %q is not one of %s", what, s, strings.Join(p.Enum, ", "))
	case !in.match(p, s):
		d.errs.add(n.pos, "%s %q is not %s", what, s, p.Shape)
	default:
		return true
	}
	return false
}

// scalarMap decodes a mapping whose values are scalars, kept as written.
func (d *decoder) scalarMap(n *node, what string) (map[string]string, bool) {
	if n.kind != kindMap {
		d.typeErr(n, what, "a mapping")
		return nil, false
	}
	if !d.spend(len(n.pairs), n.pos) {
		return nil, false
	}
	m := make(map[string]string, len(n.pairs))
	ok := true
	for _, pr := range n.pairs {
		switch v := pr.value; v.kind {
		case kindString, kindInt, kindFloat, kindBool:
			m[pr.key.text] = v.text
		default:
			d.typeErr(v, fmt.Sprintf("%q in %s", pr.key.text, what), "a string, number or boolean")
			ok = false
		}
	}
	return m, ok
}

package pipeline

import (
	"fmt"
	"reflect"
	"strings"
)

// pipeline decodes the document's root.
func (d *decoder) pipeline(root *node) *Pipeline {
	p := &Pipeline{Mode: ModeSuperseded}
	t := reflect.TypeFor[Pipeline]()
	f, ok := d.object(root, "the pipeline", "pipeline", t)
	if !ok {
		return p
	}
	if pr, ok := f["name"]; ok {
		p.Name, _ = d.str(pr.value, `"name"`)
	}
	if pr, ok := f["on"]; ok {
		p.On = d.triggers(pr.value)
	}
	if pr, ok := f["mode"]; ok {
		if m, ok := d.enum(pr.value, t, "mode"); ok {
			p.Mode = Mode(m)
		}
	}
	if pr, ok := f["env"]; ok {
		p.Env = d.env(pr.value, `"env"`)
	}
	var passNodes []*node
	if pr, ok := f["pass_env"]; ok {
		p.PassEnv, passNodes = d.envNames(pr.value, `"pass_env"`)
	}
	if pr, ok := f["secrets"]; ok {
		var secretNodes []*node
		p.Secrets, secretNodes = d.envNames(pr.value, `"secrets"`)
		d.passedTwice(p.PassEnv, passNodes, p.Secrets, secretNodes)
	}
	if pr, ok := f["environments"]; ok {
		p.Environments = d.environments(pr.value, p.Secrets)
	}
	if pr, ok := f["aws"]; ok {
		p.AWS = d.aws(pr.value)
	}
	if pr, ok := f["stages"]; ok {
		p.Stages = d.stages(pr.value)
	}
	return p
}

// passedTwice reports a variable listed both as plain and as secret:
// whether it would be masked and withheld from forks is then unclear.
func (d *decoder) passedTwice(pass []string, passNodes []*node, secrets []string, secretNodes []*node) {
	passed := make(map[string]Pos, len(pass))
	for i, name := range pass {
		if _, dup := passed[name]; !dup {
			passed[name] = passNodes[i].pos
		}
	}
	for i, name := range secrets {
		if at, both := passed[name]; both {
			d.errs.add(secretNodes[i].pos, "%q is in both \"pass_env\" (at %d:%d) and \"secrets\"; list it once", name, at.Line, at.Col)
		}
	}
}

// triggers decodes `on:` in any of GitHub Actions' three forms: an event
// name, a list of event names, or a mapping of events to their filters.
func (d *decoder) triggers(n *node) *Triggers {
	t := &Triggers{}
	events := eventNames()
	switch n.kind {
	case kindString:
		d.event(t, n, events)
	case kindList:
		items, ok := d.list(n, `"on"`)
		if !ok {
			return t
		}
		if len(items) == 0 {
			d.errs.add(n.pos, `"on" must name at least one event; valid events are %s`, strings.Join(events, ", "))
		}
		first := make(map[string]Pos)
		for _, item := range items {
			if item.kind != kindString {
				d.typeErr(item, `each event in "on"`, "a string")
				continue
			}
			if at, dup := first[item.text]; dup {
				d.errs.add(item.pos, "event %q is listed twice in \"on\" (first at %d:%d)", item.text, at.Line, at.Col)
				continue
			}
			first[item.text] = item.pos
			d.event(t, item, events)
		}
	case kindMap:
		if len(n.pairs) == 0 {
			d.errs.add(n.pos, `"on" must name at least one event; valid events are %s`, strings.Join(events, ", "))
		}
		d.spend(len(n.pairs), n.pos)
		for _, pr := range n.pairs {
			d.eventFilters(t, pr, events)
		}
	default:
		d.typeErr(n, `"on"`, "an event name, a list of event names or a mapping")
	}
	return t
}

// event enables an event with no filters.
func (d *decoder) event(t *Triggers, n *node, events []string) {
	switch n.text {
	case string(EventPush):
		t.Push = &PushTrigger{}
	case string(EventPullRequest):
		t.PullRequest = &PullRequestTrigger{}
	default:
		d.errs.add(n.pos, "%s", unknownEvent(n.text, events))
	}
}

// eventFilters decodes one entry of the mapping form of `on:`. A null
// value, as in `push:`, enables the event with no filters.
func (d *decoder) eventFilters(t *Triggers, pr pair, events []string) {
	name := pr.key.text
	what := fmt.Sprintf("%q", "on."+name)
	switch name {
	case string(EventPush):
		t.Push = &PushTrigger{}
		f := d.filters(pr.value, what, reflect.TypeFor[PushTrigger]())
		t.Push.Branches = d.filterGlobs(f, name, "branches")
		t.Push.Tags = d.filterGlobs(f, name, "tags")
		t.Push.Paths = d.filterGlobs(f, name, "paths")
	case string(EventPullRequest):
		t.PullRequest = &PullRequestTrigger{}
		f := d.filters(pr.value, what, reflect.TypeFor[PullRequestTrigger]())
		t.PullRequest.Branches = d.filterGlobs(f, name, "branches")
		t.PullRequest.Paths = d.filterGlobs(f, name, "paths")
	default:
		d.errs.add(pr.key.pos, "%s", unknownEvent(name, events))
	}
}

func (d *decoder) filters(n *node, what string, t reflect.Type) fields {
	if n.kind == kindNull {
		return nil
	}
	f, _ := d.object(n, what, what, t)
	return f
}

// filterGlobs decodes one filter list. An empty list is refused: it
// would match nothing, which is never what was meant.
func (d *decoder) filterGlobs(f fields, event, key string) []string {
	pr, ok := f[key]
	if !ok {
		return nil
	}
	what := fmt.Sprintf("%q", "on."+event+"."+key)
	if pr.value.kind == kindList && len(pr.value.items) == 0 {
		d.errs.add(pr.value.pos, "%s must list at least one glob", what)
		return nil
	}
	return d.globs(pr.value, what, false)
}

package pipeline

import (
	"fmt"
	"reflect"
	"strings"
)

// environments decodes the top-level `environments:` map. pipelineSecrets
// are the pipeline-wide secrets: a name may not be both, since a
// pipeline-wide secret reaches every stage and an environment's only its
// deploys.
func (d *decoder) environments(n *node, pipelineSecrets []string) map[string]*EnvironmentPolicy {
	if n.kind != kindMap {
		d.typeErr(n, `"environments"`, "a mapping of environment names to their policies")
		return nil
	}
	if !d.spend(len(n.pairs), n.pos) {
		return nil
	}
	pipelineWide := make(map[string]bool, len(pipelineSecrets))
	for _, s := range pipelineSecrets {
		pipelineWide[s] = true
	}
	out := make(map[string]*EnvironmentPolicy, len(n.pairs))
	for _, pr := range n.pairs {
		name := pr.key.text
		if reason := checkEnvironment(name); reason != "" {
			d.errs.add(pr.key.pos, "environment name %q %s", name, reason)
			continue
		}
		if first := findFold(out, name); first != nil {
			// GitHub's environment names ignore case: two entries would be
			// one environment with two policies.
			d.errs.add(pr.key.pos, "environment %q is listed twice, ignoring case (first at %d:%d)", name, first.Pos.Line, first.Pos.Col)
			continue
		}
		e := d.environment(pr.value, name, pr.key.pos)
		if e == nil {
			continue
		}
		out[name] = e
	}
	d.secretsInBoth(n, pipelineWide)
	return out
}

// findFold finds the policy whose name equals name ignoring case.
func findFold(m map[string]*EnvironmentPolicy, name string) *EnvironmentPolicy {
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

// environment decodes one environment's policy; a null value is a policy
// that says nothing, which still names the environment.
func (d *decoder) environment(n *node, name string, at Pos) *EnvironmentPolicy {
	e := &EnvironmentPolicy{Pos: at}
	if n.kind == kindNull {
		return e
	}
	where := fmt.Sprintf("environment %q", name)
	t := reflect.TypeFor[EnvironmentPolicy]()
	f, ok := d.object(n, where, where, t)
	if !ok {
		return nil
	}
	if pr, ok := f["approval"]; ok {
		if a, ok := d.enum(pr.value, t, "approval"); ok {
			e.Approval = Approval(a)
		}
	}
	if pr, ok := f["deployers"]; ok {
		deployers, nodes := d.strList(pr.value, `"deployers"`)
		for i, who := range deployers {
			if !validDeployer(who) {
				d.errs.add(nodes[i].pos, "deployer %q is neither a GitHub login nor an @org/team", who)
			}
		}
		e.Deployers = deployers
	}
	for _, key := range []string{"branches", "tags"} {
		pr, ok := f[key]
		if !ok {
			continue
		}
		what := fmt.Sprintf("%q of %s", key, where)
		if pr.value.kind == kindList && len(pr.value.items) == 0 {
			d.errs.add(pr.value.pos, "%s must list at least one glob; leave it out to allow every %s", what, strings.TrimSuffix(key, "es"))
			continue
		}
		globs := d.globs(pr.value, what, false)
		if key == "branches" {
			e.Branches = globs
		} else {
			e.Tags = globs
		}
	}
	if pr, ok := f["require"]; ok {
		require, nodes := d.strList(pr.value, `"require"`)
		for i, name := range require {
			if strings.TrimSpace(name) == "" {
				d.errs.add(nodes[i].pos, "a required check needs a name")
			}
		}
		e.Require = require
	}
	if pr, ok := f["secrets"]; ok {
		e.Secrets, _ = d.envNames(pr.value, fmt.Sprintf("\"secrets\" of %s", where))
	}
	if pr, ok := f["aws"]; ok {
		e.AWS = d.aws(pr.value)
	}
	return e
}

// secretsInBoth reports a name listed both as a pipeline-wide secret and
// as an environment's: which stages get it would be unclear.
func (d *decoder) secretsInBoth(n *node, pipelineWide map[string]bool) {
	for _, pr := range n.pairs {
		if pr.value.kind != kindMap {
			continue
		}
		for _, field := range pr.value.pairs {
			if field.key.text != "secrets" || field.value.kind != kindList {
				continue
			}
			for _, item := range field.value.items {
				if item.kind == kindString && pipelineWide[item.text] {
					d.errs.add(item.pos, "%q is both a pipeline-wide secret and a secret of environment %q; list it once", item.text, pr.key.text)
				}
			}
		}
	}
}

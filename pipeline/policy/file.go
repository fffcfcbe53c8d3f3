package policy

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/stagegate/stagegate/pipeline"
)

// FromPipeline lists what pipeline file p, called name in messages, says
// about environment env: its `environments:` entry and the deploy keys
// of each stage deploying there, each a source of its own so that their
// lists restrict one another. Names match without regard to case, as
// GitHub's environment names do.
//
// ev, when not nil, is the event of the run being deployed. A stage whose
// `if:` does not hold for it would not deploy on that ref from p, so it
// does not define the environment for it: a default branch whose deploy
// stage says `if: branch == "main"` lets no other branch deploy by
// dropping the condition. Its restrictions still count.
func FromPipeline(p *pipeline.Pipeline, env, name string, trusted bool, ev *pipeline.Event) []Source {
	if p == nil {
		return nil
	}
	var out []Source
	for key, e := range p.Environments {
		if !strings.EqualFold(key, env) || e == nil {
			continue
		}
		r := Rules{Approval: e.Approval, Deployers: e.Deployers, Require: e.Require, Secrets: e.Secrets, AWS: e.AWS}
		if len(e.Branches) > 0 || len(e.Tags) > 0 {
			r.Refs = &RefRule{Branches: e.Branches, Tags: e.Tags}
		}
		out = append(out, Source{Name: fmt.Sprintf("environments.%s of %s", key, name), Trusted: trusted, Defines: true, Rules: r})
	}
	for _, st := range p.Stages {
		if !st.Deploy() || !strings.EqualFold(st.Environment, env) {
			continue
		}
		src := Source{
			Name: fmt.Sprintf("stage %s of %s", st.Name, name), Trusted: trusted, Defines: true,
			Rules: Rules{Approval: st.Approval, Deployers: st.Deployers, Require: st.Require, AWS: stageAWS(p, st)},
		}
		if ev != nil && st.If != "" && !pipeline.StageRuns(st, *ev) {
			src.Defines = false
			src.Withheld = fmt.Sprintf("%s deploys there only when its if `%s` holds, and it does not on %s", src.Name, strings.TrimSpace(st.If), ev.Describe())
		}
		out = append(out, src)
	}
	return out
}

// PipelineSecrets are the pipeline-wide secrets a run of commit gets: the
// names it lists that the trusted file lists too. Without a trusted file
// there are none.
func PipelineSecrets(commit, trusted *pipeline.Pipeline) []string {
	if commit == nil || trusted == nil {
		return nil
	}
	var out []string
	for _, name := range commit.Secrets {
		if slices.Contains(trusted.Secrets, name) {
			out = append(out, name)
		}
	}
	return out
}

// EnvironmentsChanged lists, sorted, the environments whose entries in
// commit's `environments:` differ from trusted's: added, removed or
// changed.
func EnvironmentsChanged(commit, trusted *pipeline.Pipeline) []string {
	var a, b map[string]*pipeline.EnvironmentPolicy
	if commit != nil {
		a = commit.Environments
	}
	if trusted != nil {
		b = trusted.Environments
	}
	var out []string
	for _, name := range slices.Sorted(maps.Keys(a)) {
		if other, ok := b[name]; !ok || !samePolicy(a[name], other) {
			out = append(out, name)
		}
	}
	for name := range b {
		if _, ok := a[name]; !ok {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// samePolicy compares two entries, positions aside.
func samePolicy(a, b *pipeline.EnvironmentPolicy) bool {
	var x, y pipeline.EnvironmentPolicy
	if a != nil {
		x = *a
	}
	if b != nil {
		y = *b
	}
	x.Pos, y.Pos = pipeline.Pos{}, pipeline.Pos{}
	for _, a := range []**pipeline.AWS{&x.AWS, &y.AWS} {
		if *a != nil {
			c := **a
			c.Pos = pipeline.Pos{}
			*a = &c
		}
	}
	return reflect.DeepEqual(x, y)
}

// stageAWS is the role and region a stage's actions have unless they
// name their own: the pipeline's aws: under the stage's.
func stageAWS(p *pipeline.Pipeline, st *pipeline.Stage) *pipeline.AWS {
	return pipeline.EffectiveAWS(p, st, &pipeline.Action{})
}

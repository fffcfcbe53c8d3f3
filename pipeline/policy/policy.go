// Package policy merges the deploy policy of an environment from the
// places it may come from, and evaluates it: which refs may deploy, who
// may approve, which checks count, which secrets a deploy gets. It is
// pure: the app loads the sources (files, GitHub's settings) and asks.
//
// The rule is that the strictest of all sources wins, and that only
// trusted sources (reviewed code, GitHub's settings) can make an
// environment exist, grant secrets or name extra deployers. The commit
// being deployed is a source too, untrusted: it can add restrictions and
// nothing else.
package policy

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/stagegate/stagegate/pipeline"
)

// Rules are what one source says about one environment. The zero value
// says nothing.
type Rules struct {
	// Approval is manual, none, or empty when the source does not say.
	Approval pipeline.Approval
	// Deployers may approve besides writers (logins and @org/team).
	// Empty means the source does not say.
	Deployers []string
	// Reviewers are GitHub's required reviewers: when set, only they may
	// approve, and a deploy always needs an approval.
	Reviewers []string
	// PreventSelfReview keeps whoever started the run from approving it.
	PreventSelfReview bool
	// Refs restricts the branches and tags that may deploy; nil allows
	// every ref.
	Refs *RefRule
	// Require names checks that must be present and pass.
	Require []string
	// Secrets are the environment's secrets. Empty means the source does
	// not say.
	Secrets []string
	// WaitTimer delays a deploy once its gate is reached.
	WaitTimer time.Duration
	// AWS is the role and region deploys act with; only a trusted
	// source's counts.
	AWS *pipeline.AWS
}

// RefRule is one source's restriction of the refs that may deploy.
type RefRule struct {
	// Branches and Tags are doublestar globs (! excludes, the last match
	// decides). With only one of them set, refs of the other kind may not
	// deploy; with neither, only ProtectedOnly restricts.
	Branches, Tags []string
	// ProtectedOnly allows only branches with branch protection (GitHub's
	// "Protected branches only"); tags may not deploy.
	ProtectedOnly bool
}

// Source is one place a policy comes from.
type Source struct {
	// Name says where, in messages: "acme/web's .stagegate.yml on main".
	Name string
	// Trusted sources are reviewed code or GitHub's settings.
	Trusted bool
	// Defines is set when the source names the environment: a trusted
	// source doing so is what makes the environment deployable.
	Defines bool
	// Withheld says why a trusted source that names the environment does
	// not define it for this deploy, for the refusal.
	Withheld string
	Rules    Rules
}

// Ref is what is being deployed: a branch or a tag, and for a branch
// whether GitHub protects it.
type Ref struct {
	Branch, Tag string
	Protected   bool
}

func (r Ref) String() string {
	if r.Tag != "" {
		return "tag " + r.Tag
	}
	return "branch " + r.Branch
}

// Policy is the merged policy of one environment.
type Policy struct {
	Environment string
	// Defined lists the trusted sources that name the environment; none
	// means the environment may not be deployed to.
	Defined []string
	// Manual is set when a deploy needs an approval; ManualBy names the
	// sources that ask for it.
	Manual   bool
	ManualBy []string
	// PreventSelfReview keeps the run's actor from approving.
	PreventSelfReview bool
	// Require is every required check name; Exclusive is set when a
	// trusted source lists them, and then only they count.
	Require   []string
	Exclusive bool
	// Secrets are the trusted sources' secrets, narrowed by untrusted ones.
	Secrets []string
	// WaitTimer is the longest of the sources' timers; WaitTimerBy names it.
	WaitTimer   time.Duration
	WaitTimerBy string
	// AWS is the role (and region) of the first trusted source naming a
	// role, the environment's entry before a deploy stage's and the
	// repository's file before the organization's default; AWSBy names
	// it. The deployed commit's file cannot choose another for a deploy.
	AWS   *pipeline.AWS
	AWSBy string

	withheld  []string // why trusted sources naming it do not define it here
	deployers []list   // each list must allow a non-writer
	reviewers []list   // each list must include the approver
	refs      []refSource
}

type list struct {
	source  string
	trusted bool
	names   []string
}

type refSource struct {
	source string
	rule   RefRule
}

// Merge merges what the sources say about environment env: the strictest
// of them wins.
func Merge(env string, sources []Source) Policy {
	p := Policy{Environment: env}
	var trustedSecrets, narrowSecrets [][]string
	for _, s := range sources {
		r := s.Rules
		if s.Trusted && s.Defines {
			p.Defined = append(p.Defined, s.Name)
		}
		if s.Trusted && s.Withheld != "" {
			p.withheld = append(p.withheld, s.Withheld)
		}
		if r.Approval == pipeline.ApprovalManual {
			p.Manual = true
			p.ManualBy = append(p.ManualBy, s.Name)
		}
		if len(r.Reviewers) > 0 {
			p.Manual = true
			p.ManualBy = append(p.ManualBy, s.Name)
			p.reviewers = append(p.reviewers, list{s.Name, s.Trusted, r.Reviewers})
		}
		p.PreventSelfReview = p.PreventSelfReview || r.PreventSelfReview
		if len(r.Deployers) > 0 {
			p.deployers = append(p.deployers, list{s.Name, s.Trusted, r.Deployers})
		}
		if r.Refs != nil {
			p.refs = append(p.refs, refSource{s.Name, *r.Refs})
		}
		for _, name := range r.Require {
			if !slices.Contains(p.Require, name) {
				p.Require = append(p.Require, name)
			}
		}
		if s.Trusted && len(r.Require) > 0 {
			p.Exclusive = true
		}
		if len(r.Secrets) > 0 {
			if s.Trusted {
				trustedSecrets = append(trustedSecrets, r.Secrets)
			} else {
				narrowSecrets = append(narrowSecrets, r.Secrets)
			}
		}
		if r.WaitTimer > p.WaitTimer {
			p.WaitTimer, p.WaitTimerBy = r.WaitTimer, s.Name
		}
		if s.Trusted && p.AWS == nil && r.AWS != nil && r.AWS.Role != "" {
			aws := *r.AWS
			p.AWS, p.AWSBy = &aws, s.Name
		}
	}
	for _, names := range trustedSecrets {
		for _, n := range names {
			if !slices.Contains(p.Secrets, n) {
				p.Secrets = append(p.Secrets, n)
			}
		}
	}
	for _, names := range narrowSecrets {
		p.Secrets = slices.DeleteFunc(p.Secrets, func(n string) bool { return !slices.Contains(names, n) })
	}
	return p
}

// Known reports whether a trusted source defines the environment.
func (p Policy) Known() bool { return len(p.Defined) > 0 }

// AllowsRef says whether ref may deploy to the environment, and if not,
// which rule refuses it, in words for the deploy's check.
func (p Policy) AllowsRef(ref Ref) (bool, string) {
	if !p.Known() && len(p.withheld) > 0 {
		return false, fmt.Sprintf("environment %s is not defined for %s: %s", p.Environment, ref, strings.Join(p.withheld, "; "))
	}
	if !p.Known() {
		return false, fmt.Sprintf("environment %s is not defined by the default branch's %s, the organization's default or GitHub's environment settings; it can be deployed to once it is, in reviewed code",
			p.Environment, pipeline.DefaultFile)
	}
	for _, rs := range p.refs {
		if ok, why := rs.rule.allows(ref); !ok {
			return false, fmt.Sprintf("environment %s allows %s (%s); %s is not allowed", p.Environment, why, rs.source, ref)
		}
	}
	return true, ""
}

// allows says whether ref passes the rule; when not, why describes what
// the rule allows.
func (r RefRule) allows(ref Ref) (bool, string) {
	switch {
	case r.ProtectedOnly && (ref.Tag != "" || !ref.Protected):
		return false, "only protected branches"
	case ref.Tag != "" && len(r.Tags) > 0:
		return pipeline.MatchGlobs(r.Tags, ref.Tag), "tags " + bracket(r.Tags) + r.branchesToo()
	case ref.Tag != "" && len(r.Branches) > 0:
		return false, "only branches " + bracket(r.Branches)
	case ref.Tag == "" && len(r.Branches) > 0:
		return pipeline.MatchGlobs(r.Branches, ref.Branch), "branches " + bracket(r.Branches) + r.tagsToo()
	case ref.Tag == "" && len(r.Tags) > 0:
		return false, "only tags " + bracket(r.Tags)
	}
	return true, ""
}

func (r RefRule) branchesToo() string {
	if len(r.Branches) == 0 {
		return ""
	}
	return " and branches " + bracket(r.Branches)
}

func (r RefRule) tagsToo() string {
	if len(r.Tags) == 0 {
		return ""
	}
	return " and tags " + bracket(r.Tags)
}

func bracket(globs []string) string { return "[" + strings.Join(globs, ", ") + "]" }

// Approver is what the app knows of someone approving a deploy.
type Approver struct {
	Login string
	// Writer: write, maintain or admin access to the repository.
	Writer bool
	// Permission is the access GitHub reports and Repo the repository,
	// for messages.
	Permission, Repo string
	// Member reports whether Login belongs to a team "org/slug".
	Member func(team string) (bool, error)
}

// MayApprove says whether a may approve a deploy of a run started by
// actor, and if not, why, in a sentence after "@login cannot deploy to
// <env>: ".
func (p Policy) MayApprove(a Approver, actor string) (bool, string, error) {
	if p.PreventSelfReview && strings.EqualFold(a.Login, actor) {
		return false, "GitHub's settings of the environment prevent approving one's own deploy", nil
	}
	for _, l := range p.reviewers {
		ok, err := l.includes(a)
		if err != nil || !ok {
			return false, fmt.Sprintf("only its required reviewers may approve (%s: %s)", l.source, strings.Join(l.names, ", ")), err
		}
	}
	if a.Writer {
		return true, "", nil
	}
	why := fmt.Sprintf("that needs write access to %s, and @%s has %s", a.Repo, a.Login, a.Permission)
	trusted := 0
	for _, l := range p.deployers {
		if l.trusted {
			trusted++
		}
	}
	if trusted == 0 {
		return false, why, nil
	}
	for _, l := range p.deployers {
		ok, err := l.includes(a)
		if err != nil || !ok {
			return false, fmt.Sprintf("%s, and is not one of the deployers of %s (%s)", why, l.source, strings.Join(l.names, ", ")), err
		}
	}
	return true, "", nil
}

// includes reports whether a is one of the list's logins or a member of
// one of its teams.
func (l list) includes(a Approver) (bool, error) {
	for _, name := range l.names {
		team, isTeam := strings.CutPrefix(name, "@")
		if !isTeam {
			if strings.EqualFold(name, a.Login) {
				return true, nil
			}
			continue
		}
		if a.Member == nil {
			continue
		}
		ok, err := a.Member(team)
		if err != nil {
			return false, fmt.Errorf("team %s: %w", name, err)
		}
		if ok {
			return true, nil
		}
	}
	return false, nil
}

package policy

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stagegate/stagegate/pipeline"
)

func trusted(name string, r Rules) Source {
	return Source{Name: name, Trusted: true, Defines: true, Rules: r}
}
func commit(r Rules) Source { return Source{Name: "the commit", Rules: r} }

func TestAllowsRef(t *testing.T) {
	mainOnly := &RefRule{Branches: []string{"main", "release/*"}}
	for _, tt := range []struct {
		name    string
		sources []Source
		ref     Ref
		ok      bool
		why     []string
	}{
		{"unknown environment", []Source{commit(Rules{})}, Ref{Branch: "main"}, false, []string{"not defined"}},
		{"defined only by the commit", []Source{{Name: "c", Defines: true}}, Ref{Branch: "main"}, false, []string{"not defined"}},
		{"no rule", []Source{trusted("main", Rules{})}, Ref{Branch: "anything"}, true, nil},
		{"branch matches", []Source{trusted("main", Rules{Refs: mainOnly})}, Ref{Branch: "release/1"}, true, nil},
		{"star stops at slash", []Source{trusted("main", Rules{Refs: mainOnly})}, Ref{Branch: "release/1/x"}, false, []string{"branches [main, release/*]", "branch release/1/x"}},
		{"branch refused, naming the source", []Source{trusted("main's file", Rules{Refs: mainOnly})}, Ref{Branch: "evil"}, false, []string{"main's file", "evil"}},
		{"tag with only branches", []Source{trusted("f", Rules{Refs: mainOnly})}, Ref{Tag: "v1"}, false, []string{"only branches"}},
		{"tag matches", []Source{trusted("f", Rules{Refs: &RefRule{Tags: []string{"v*"}}})}, Ref{Tag: "v1"}, true, nil},
		{"branch with only tags", []Source{trusted("f", Rules{Refs: &RefRule{Tags: []string{"v*"}}})}, Ref{Branch: "main"}, false, []string{"only tags"}},
		{"protected only, protected", []Source{trusted("gh", Rules{Refs: &RefRule{ProtectedOnly: true}})}, Ref{Branch: "main", Protected: true}, true, nil},
		{"protected only, unprotected", []Source{trusted("gh", Rules{Refs: &RefRule{ProtectedOnly: true}})}, Ref{Branch: "x"}, false, []string{"only protected branches"}},
		{"protected only, tag", []Source{trusted("gh", Rules{Refs: &RefRule{ProtectedOnly: true}})}, Ref{Tag: "v1", Protected: true}, false, nil},
		{"every source must allow", []Source{
			trusted("main", Rules{Refs: &RefRule{Branches: []string{"**"}}}),
			trusted("gh", Rules{Refs: &RefRule{Branches: []string{"main"}}}),
		}, Ref{Branch: "dev"}, false, []string{"gh"}},
		{"the commit can restrict", []Source{trusted("main", Rules{}), commit(Rules{Refs: &RefRule{Branches: []string{"main"}}})}, Ref{Branch: "dev"}, false, nil},
		{"the commit cannot widen", []Source{trusted("main", Rules{Refs: mainOnly}), commit(Rules{Refs: &RefRule{Branches: []string{"**"}}})}, Ref{Branch: "dev"}, false, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ok, why := Merge("production", tt.sources).AllowsRef(tt.ref)
			if ok != tt.ok {
				t.Fatalf("AllowsRef = %v (%s), want %v", ok, why, tt.ok)
			}
			for _, w := range tt.why {
				if !strings.Contains(why, w) {
					t.Errorf("why %q lacks %q", why, w)
				}
			}
		})
	}
}

func TestMergeStrictestWins(t *testing.T) {
	p := Merge("production", []Source{
		trusted("main", Rules{Approval: pipeline.ApprovalNone, Require: []string{"lint"}, Secrets: []string{"A", "B"}, WaitTimer: time.Minute}),
		trusted("org", Rules{Secrets: []string{"C"}}),
		trusted("gh", Rules{WaitTimer: 5 * time.Minute}),
		commit(Rules{Approval: pipeline.ApprovalManual, Require: []string{"e2e"}, Secrets: []string{"A", "C", "Z"}}),
	})
	if !p.Manual || !reflect.DeepEqual(p.ManualBy, []string{"the commit"}) {
		t.Errorf("manual %v by %v", p.Manual, p.ManualBy)
	}
	if !reflect.DeepEqual(p.Require, []string{"lint", "e2e"}) || !p.Exclusive {
		t.Errorf("require %v exclusive %v", p.Require, p.Exclusive)
	}
	// The commit narrows the trusted secrets and cannot add Z.
	if !reflect.DeepEqual(p.Secrets, []string{"A", "C"}) {
		t.Errorf("secrets %v", p.Secrets)
	}
	if p.WaitTimer != 5*time.Minute || p.WaitTimerBy != "gh" {
		t.Errorf("wait timer %v by %s", p.WaitTimer, p.WaitTimerBy)
	}
	// Required names from the commit alone never make the list exclusive:
	// that would let it ignore a failing check.
	if q := Merge("p", []Source{trusted("main", Rules{}), commit(Rules{Require: []string{"x"}})}); q.Exclusive || q.Manual {
		t.Errorf("commit-only require: %+v", q)
	}
	// Reviewers make approval manual whatever the files say.
	if q := Merge("p", []Source{trusted("main", Rules{Approval: pipeline.ApprovalNone}), trusted("gh", Rules{Reviewers: []string{"alice"}})}); !q.Manual {
		t.Errorf("reviewers did not make it manual: %+v", q)
	}
	// A commit's secrets never grant anything.
	if q := Merge("p", []Source{trusted("main", Rules{}), commit(Rules{Secrets: []string{"PROD"}})}); len(q.Secrets) != 0 {
		t.Errorf("commit granted secrets %v", q.Secrets)
	}
}

func TestMayApprove(t *testing.T) {
	teams := map[string][]string{"acme/release": {"rita"}}
	approver := func(login string, writer bool) Approver {
		return Approver{Login: login, Writer: writer, Repo: "acme/web", Permission: map[bool]string{true: "write", false: "read"}[writer],
			Member: func(team string) (bool, error) {
				for _, m := range teams[team] {
					if m == login {
						return true, nil
					}
				}
				return false, nil
			}}
	}
	for _, tt := range []struct {
		name    string
		sources []Source
		who     Approver
		actor   string
		ok      bool
		why     string
	}{
		{"writer", []Source{trusted("main", Rules{})}, approver("alice", true), "bob", true, ""},
		{"reader", []Source{trusted("main", Rules{})}, approver("mallory", false), "bob", false, "needs write access to acme/web, and @mallory has read"},
		{"trusted deployer", []Source{trusted("main", Rules{Deployers: []string{"mallory"}})}, approver("mallory", false), "", true, ""},
		{"team deployer", []Source{trusted("main", Rules{Deployers: []string{"@acme/release"}})}, approver("rita", false), "", true, ""},
		{"deployer named by the commit only", []Source{trusted("main", Rules{}), commit(Rules{Deployers: []string{"mallory"}})}, approver("mallory", false), "", false, "write access"},
		{"commit narrows deployers", []Source{trusted("main", Rules{Deployers: []string{"mallory", "rita"}}), commit(Rules{Deployers: []string{"rita"}})}, approver("mallory", false), "", false, "deployers of the commit"},
		{"every trusted list must allow", []Source{trusted("main", Rules{Deployers: []string{"mallory"}}), trusted("org", Rules{Deployers: []string{"rita"}})}, approver("mallory", false), "", false, "deployers of org"},
		{"reviewer", []Source{trusted("gh", Rules{Reviewers: []string{"alice"}})}, approver("alice", true), "", true, ""},
		{"writer who is not a reviewer", []Source{trusted("gh", Rules{Reviewers: []string{"alice"}})}, approver("bob", true), "", false, "only its required reviewers may approve (gh: alice)"},
		{"team reviewer", []Source{trusted("gh", Rules{Reviewers: []string{"@acme/release"}}), trusted("main", Rules{Deployers: []string{"rita"}})}, approver("rita", false), "", true, ""},
		{"self review prevented", []Source{trusted("gh", Rules{Reviewers: []string{"alice"}, PreventSelfReview: true})}, approver("alice", true), "Alice", false, "own deploy"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ok, why, err := Merge("production", tt.sources).MayApprove(tt.who, tt.actor)
			if err != nil || ok != tt.ok || !strings.Contains(why, tt.why) {
				t.Errorf("MayApprove = %v %q %v, want %v %q", ok, why, err, tt.ok, tt.why)
			}
		})
	}
	boom := errors.New("boom")
	failing := Approver{Login: "x", Member: func(string) (bool, error) { return false, boom }}
	if ok, _, err := Merge("p", []Source{trusted("main", Rules{Deployers: []string{"@acme/t"}})}).MayApprove(failing, ""); ok || !errors.Is(err, boom) {
		t.Errorf("a failed team lookup: %v %v", ok, err)
	}
}

func TestFromPipeline(t *testing.T) {
	p, err := pipeline.Parse("f.yml", []byte(`secrets: [NPM]
environments:
  Production: { approval: manual, branches: [main], deployers: [alice], secrets: [PROD] }
stages:
  - { name: ship, environment: production, require: [e2e], deployers: [bob], actions: [{ name: a, run: a }] }
  - { name: other, environment: staging, actions: [{ name: a, run: a }] }
`))
	if err != nil {
		t.Fatal(err)
	}
	src := FromPipeline(p, "production", "main's file", true, nil)
	if len(src) != 2 || !src[0].Defines || !src[0].Trusted || src[0].Rules.Refs == nil || src[1].Rules.Require[0] != "e2e" {
		t.Fatalf("sources %+v", src)
	}
	pol := Merge("production", src)
	if !pol.Manual || !reflect.DeepEqual(pol.Secrets, []string{"PROD"}) {
		t.Errorf("policy %+v", pol)
	}
	// Deployers from the entry and the stage restrict each other.
	if ok, _, _ := pol.MayApprove(Approver{Login: "alice"}, ""); ok {
		t.Error("alice is not a deployer of the stage")
	}
	if got := FromPipeline(p, "nowhere", "f", true, nil); len(got) != 0 {
		t.Errorf("an environment the file does not name: %+v", got)
	}

	branch, _ := pipeline.Parse("b.yml", []byte(`secrets: [NPM, PROD]
environments:
  production: { approval: none }
stages: [{ name: s, actions: [{ name: a, run: a }] }]
`))
	if got := PipelineSecrets(branch, p); !reflect.DeepEqual(got, []string{"NPM"}) {
		t.Errorf("pipeline secrets %v", got)
	}
	if got := PipelineSecrets(branch, nil); got != nil {
		t.Errorf("without a trusted file: %v", got)
	}
	if got := EnvironmentsChanged(branch, p); !reflect.DeepEqual(got, []string{"Production", "production"}) {
		t.Errorf("changed %v", got)
	}
	if got := EnvironmentsChanged(p, p); got != nil {
		t.Errorf("unchanged %v", got)
	}
}

// A trusted stage whose `if:` does not hold for the deploying run's event
// does not make the environment deployable for it, but its restrictions
// still count.
func TestFromPipelineStageCondition(t *testing.T) {
	p, err := pipeline.Parse("f.yml", []byte(`stages:
  - { name: ship, if: 'branch == "main"', environment: production, approval: manual, actions: [{ name: a, run: a }] }
`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		ev     *pipeline.Event
		known  bool
		reason string
	}{
		{"no event", nil, true, ""},
		{"main", &pipeline.Event{Kind: pipeline.EventPush, Branch: "main"}, true, ""},
		{"other branch", &pipeline.Event{Kind: pipeline.EventPush, Branch: "evil"}, false, "if `branch == \"main\"` holds"},
		{"tag", &pipeline.Event{Kind: pipeline.EventPush, Tag: "v1"}, false, "stage ship of main's file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pol := Merge("production", FromPipeline(p, "production", "main's file", true, tt.ev))
			if pol.Known() != tt.known || !pol.Manual {
				t.Fatalf("known %v manual %v, want known %v and manual", pol.Known(), pol.Manual, tt.known)
			}
			ok, why := pol.AllowsRef(Ref{Branch: "evil"})
			if ok != tt.known || !strings.Contains(why, tt.reason) {
				t.Errorf("AllowsRef = %v %q, want %v and %q", ok, why, tt.known, tt.reason)
			}
		})
	}
}

package policy

import (
	"testing"

	"github.com/stagegate/stagegate/pipeline"
)

// The role of a deploy comes from the first trusted source naming one;
// the deployed commit's own file never chooses it.
func TestMergeAWS(t *testing.T) {
	role := func(name string) *pipeline.AWS {
		return &pipeline.AWS{Role: "arn:aws:iam::123456789012:role/" + name, Region: "eu-west-1"}
	}
	tests := []struct {
		name    string
		sources []Source
		want    string // role name, "" for none
		by      string
	}{
		{"none", []Source{trusted("main", Rules{})}, "", ""},
		{"the commit alone", []Source{trusted("main", Rules{}), commit(Rules{AWS: role("admin")})}, "", ""},
		{"trusted over the commit", []Source{commit(Rules{AWS: role("admin")}), trusted("main", Rules{AWS: role("deployer")})}, "deployer", "main"},
		{"first trusted wins", []Source{trusted("environments.production", Rules{AWS: role("env")}), trusted("stage deploy", Rules{AWS: role("stage")})}, "env", "environments.production"},
		{"a region alone names no role", []Source{trusted("a", Rules{AWS: &pipeline.AWS{Region: "us-east-1"}}), trusted("b", Rules{AWS: role("b")})}, "b", "b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Merge("production", tt.sources)
			got := ""
			if p.AWS != nil {
				got = p.AWS.Role
			}
			if want := tt.want; want != "" {
				want = role(want).Role
				if got != want || p.AWSBy != tt.by {
					t.Errorf("role %q by %q, want %q by %q", got, p.AWSBy, want, tt.by)
				}
			} else if got != "" {
				t.Errorf("role %q by %q, want none", got, p.AWSBy)
			}
		})
	}
}

// A trusted file names an environment's role in its entry, or else
// through the aws: of its deploy stages there; the entry comes first.
func TestFromPipelineAWS(t *testing.T) {
	p, err := pipeline.Parse("p.yml", []byte(`aws: {region: eu-west-1}
environments:
  production: { aws: { role: "arn:aws:iam::123456789012:role/env" } }
stages:
  - name: deploy
    environment: production
    aws: { role: "arn:aws:iam::123456789012:role/stage" }
    actions: [{ name: ship, run: ./ship.sh }]
  - name: staging
    environment: staging
    aws: { role: "arn:aws:iam::123456789012:role/staging" }
    actions: [{ name: ship, run: ./ship.sh }]
`))
	if err != nil {
		t.Fatal(err)
	}
	prod := Merge("production", FromPipeline(p, "production", "main's file", true, nil))
	if prod.AWS == nil || prod.AWS.Role != "arn:aws:iam::123456789012:role/env" || prod.AWSBy != "environments.production of main's file" {
		t.Errorf("production: %+v by %q", prod.AWS, prod.AWSBy)
	}
	staging := Merge("staging", FromPipeline(p, "staging", "main's file", true, nil))
	if staging.AWS == nil || staging.AWS.Role != "arn:aws:iam::123456789012:role/staging" || staging.AWS.Region != "eu-west-1" {
		t.Errorf("staging: %+v by %q", staging.AWS, staging.AWSBy)
	}
	if other := Merge("production", FromPipeline(p, "production", "the commit", false, nil)); other.AWS != nil {
		t.Errorf("an untrusted file gave the role %+v", other.AWS)
	}
	// A change to an entry's role is a change of environments:.
	q, _ := pipeline.Parse("p.yml", []byte(`environments:
  production: { aws: { role: "arn:aws:iam::123456789012:role/admin" } }
stages: [{ name: s, actions: [{ name: a, run: a }] }]
`))
	same, _ := pipeline.Parse("p.yml", []byte("\n\nenvironments:\n  production: { aws: { role: \"arn:aws:iam::123456789012:role/env\" } }\nstages: [{ name: s, actions: [{ name: a, run: a }] }]\n"))
	if got := EnvironmentsChanged(q, p); len(got) != 1 || got[0] != "production" {
		t.Errorf("changed %v, want production", got)
	}
	if got := EnvironmentsChanged(same, p); len(got) != 0 {
		t.Errorf("changed %v for the same entry at other positions, want none", got)
	}
}

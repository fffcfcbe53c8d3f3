package pipeline

import (
	"fmt"
	"reflect"
	"regexp"

	"github.com/invopop/jsonschema"
)

// Runner types.
const (
	RunnerLocal     = "local"
	RunnerCodeBuild = "codebuild"
)

// RunnerSpec says where an action's run: script executes: on this
// machine (local, the default) or as a build of an AWS CodeBuild project.
// The parameters follow CodeBuild's StartBuild overrides, in snake_case.
type RunnerSpec struct {
	Type        string `yaml:"type" json:"type" jsonschema:"enum=local,enum=codebuild,description=local runs on this machine; codebuild runs the script as a build of an AWS CodeBuild project."`
	Project     string `yaml:"project" json:"project,omitempty" jsonschema:"maxLength=2048,description=CodeBuild project name or ARN (codebuild only; required there)."`
	Image       string `yaml:"image" json:"image,omitempty" jsonschema:"maxLength=2048,description=Build image overriding the project's, such as aws/codebuild/standard:7.0 (codebuild only)."`
	ComputeType string `yaml:"compute_type" json:"compute_type,omitempty" jsonschema:"pattern=^BUILD_[A-Z0-9_]+$,description=Compute type overriding the project's, such as BUILD_GENERAL1_MEDIUM (codebuild only)."`
	Privileged  bool   `yaml:"privileged" json:"privileged,omitempty" jsonschema:"description=Privileged mode, for Docker builds (codebuild only)."`

	Pos Pos `yaml:"-" json:"-"`
}

// EffectiveRunner is the action's runner, else its stage's; nil means
// local.
func EffectiveRunner(s *Stage, a *Action) *RunnerSpec {
	if a.Runner != nil {
		return a.Runner
	}
	return s.Runner
}

// RunnerName is the name of the runner that executes a: "" for the
// local default.
func RunnerName(s *Stage, a *Action) string {
	if r := EffectiveRunner(s, a); r != nil && r.Type != RunnerLocal {
		return r.Type
	}
	return ""
}

// Explain says in a phrase where the runner executes a script.
func (r *RunnerSpec) Explain() string {
	if r == nil || r.Type == RunnerLocal {
		return "on this machine"
	}
	s := fmt.Sprintf("as a build of CodeBuild project %s", r.Project)
	if r.Image != "" {
		s += ", image " + r.Image
	}
	if r.ComputeType != "" {
		s += ", " + r.ComputeType
	}
	if r.Privileged {
		s += ", privileged"
	}
	return s
}

// codeBuildProject is a CodeBuild project name or ARN
// (https://docs.aws.amazon.com/codebuild/latest/APIReference/API_CreateProject.html:
// name pattern [A-Za-z0-9][A-Za-z0-9\-_]{1,254}).
var codeBuildProject = regexp.MustCompile(`^([A-Za-z0-9][A-Za-z0-9_-]{1,254}|arn:aws[a-z-]*:codebuild:[a-z0-9-]+:[0-9]{12}:project/[A-Za-z0-9][A-Za-z0-9_-]{1,254})$`)

var computeType = regexp.MustCompile(`^BUILD_[A-Z0-9_]+$`)

// runner decodes a runner: mapping. Keys other than type belong to
// codebuild; a local runner with them is refused rather than ignored.
func (d *decoder) runner(n *node) *RunnerSpec {
	t := reflect.TypeFor[RunnerSpec]()
	f, ok := d.object(n, `"runner"`, `"runner"`, t)
	if !ok {
		return nil
	}
	r := &RunnerSpec{Pos: n.pos}
	if pr, ok := f["type"]; ok {
		r.Type, _ = d.enum(pr.value, t, "type")
	}
	str := func(key string, re *regexp.Regexp, want string) string {
		pr, ok := f[key]
		if !ok {
			return ""
		}
		if r.Type == RunnerLocal {
			d.errs.add(pr.key.pos, `"runner" key %q is for type codebuild, not local`, key)
		}
		s, ok := d.str(pr.value, fmt.Sprintf("%q", key))
		switch {
		case !ok:
		case s == "":
			d.errs.add(pr.value.pos, "%q must not be empty; leave it out for the project's", key)
		case re != nil && !re.MatchString(s):
			d.errs.add(pr.value.pos, "%q %q is not %s", key, s, want)
		case len(s) > 2048:
			d.errs.add(pr.value.pos, "%q is longer than 2048 characters", key)
		}
		return s
	}
	r.Project = str("project", codeBuildProject, "a CodeBuild project name (letters, digits, - and _) or project ARN")
	r.Image = str("image", nil, "")
	r.ComputeType = str("compute_type", computeType, "a CodeBuild compute type such as BUILD_GENERAL1_SMALL")
	if pr, ok := f["privileged"]; ok {
		if r.Type == RunnerLocal {
			d.errs.add(pr.key.pos, `"runner" key "privileged" is for type codebuild, not local`)
		}
		if pr.value.kind != kindBool {
			d.typeErr(pr.value, `"privileged"`, "true or false")
		} else {
			r.Privileged = pr.value.text == "true"
		}
	}
	if r.Type == RunnerCodeBuild && !f.has("project") {
		d.errs.add(n.pos, `"runner" of type codebuild is missing required key "project"`)
	}
	return r
}

// refineRunner adds to the runner's schema what the decoder checks and
// the tags cannot say: a codebuild runner names its project, a local one
// takes no CodeBuild key.
func refineRunner(s *jsonschema.Schema) {
	prop(s, "project").Pattern = codeBuildProject.String()
	prop(s, "image").MinLength = ptr(uint64(1))
	s.AllOf = []*jsonschema.Schema{
		{
			If:   withRequired(props("type", &jsonschema.Schema{Const: RunnerCodeBuild}), []string{"type"}),
			Then: &jsonschema.Schema{Required: []string{"project"}},
		},
		{
			If: withRequired(props("type", &jsonschema.Schema{Const: RunnerLocal}), []string{"type"}),
			Then: &jsonschema.Schema{Not: &jsonschema.Schema{AnyOf: []*jsonschema.Schema{
				{Required: []string{"project"}}, {Required: []string{"image"}},
				{Required: []string{"compute_type"}}, {Required: []string{"privileged"}},
			}}},
		},
	}
}

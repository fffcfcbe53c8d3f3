package pipeline

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// An integration is what an action runs with `uses:` instead of a script.
// The pipeline knows each one's parameters, to check `with:` where the
// file is read and to say in `explain` what it would do; running it is
// another package's business (see engine.Integrations), so that this one
// depends on no cloud's SDK.

// ParamKind is the YAML shape of an integration parameter, and the Go
// type its value has in Action.With.
type ParamKind string

// Parameter kinds.
const (
	// ParamString is a string.
	ParamString ParamKind = "a string"
	// ParamBool is a bool.
	ParamBool ParamKind = "a boolean"
	// ParamList is a []string.
	ParamList ParamKind = "a list of strings"
	// ParamMap is a map[string]string; values may be any scalar, kept
	// as written.
	ParamMap ParamKind = "a mapping of names to values"
	// ParamFileOrMap is a string naming a file in the workspace, or a
	// map[string]string.
	ParamFileOrMap ParamKind = "a file path or a mapping of names to values"
	// ParamDuration is a string holding a positive duration such as 10m,
	// kept as written.
	ParamDuration ParamKind = "a duration such as 90s or 15m"
	// ParamJSON is a JSON document: a mapping (nested values allowed),
	// or a string holding JSON. Its value is the JSON text.
	ParamJSON ParamKind = "a mapping or a JSON string"
)

// Param is one key of an integration's `with:`.
type Param struct {
	Name     string
	Kind     ParamKind
	Required bool
	// Pattern, when set, is what a string (a list's items, for a list)
	// must match; Shape names it in messages.
	Pattern string
	Shape   string
	// Enum, when set, lists the values a string or a list's items may take.
	Enum []string
	// Path makes a string a path in the workspace (relative, no "..").
	Path        bool
	Description string
}

// Integration describes an integration's parameters and what it does.
type Integration struct {
	Name    string
	Summary string
	Params  []Param
	// OneOf, when set, names parameters of which exactly one must be
	// given, such as the sources of a function's code.
	OneOf []string
	// Requires maps a parameter to those it needs beside it, such as an
	// S3 key to its bucket.
	Requires map[string][]string
	// Explain says what the action would do with these parameters; deploy
	// is whether its stage deploys to an environment.
	Explain func(with map[string]any, deploy bool) string

	patterns map[string]*regexp.Regexp
}

// Param returns the parameter named name.
func (in *Integration) Param(name string) (Param, bool) {
	for _, p := range in.Params {
		if p.Name == name {
			return p, true
		}
	}
	return Param{}, false
}

func (in *Integration) match(p Param, s string) bool {
	re := in.patterns[p.Name]
	return re == nil || re.MatchString(s)
}

// Integrations are the known integrations by `uses:` name.
type Integrations map[string]*Integration

// Shapes of AWS names and ARNs, as the AWS API references give them.
const (
	// https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
	bucketPattern = `^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`
	// https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStack.html
	stackPattern = `^[A-Za-z][A-Za-z0-9-]{0,127}$`
	// https://docs.aws.amazon.com/IAM/latest/APIReference/API_Role.html
	roleARNPattern = `^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$`
	// https://docs.aws.amazon.com/lambda/latest/api/API_UpdateFunctionCode.html
	functionPattern = `^(arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:)?[A-Za-z0-9_-]{1,64}$`
	// https://docs.aws.amazon.com/lambda/latest/api/API_CreateAlias.html
	// (at least one character that is not a digit)
	aliasPattern = `^[0-9]*[A-Za-z_-][A-Za-z0-9_-]*$`
	// A region such as us-east-1 or us-gov-west-1.
	regionPattern = `^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$`
)

// NewIntegrations returns the integrations stagegate runs.
func NewIntegrations() Integrations {
	all := []*Integration{
		{
			Name:    "aws/s3",
			Summary: "upload a workspace directory to an S3 bucket",
			Params: []Param{
				{Name: "bucket", Kind: ParamString, Required: true, Pattern: bucketPattern, Shape: "an S3 bucket name (3 to 63 lower-case letters, digits, dots and hyphens)", Description: "Bucket to upload to."},
				{Name: "source", Kind: ParamString, Required: true, Path: true, Description: "Directory of the workspace whose files are uploaded, such as dist."},
				{Name: "prefix", Kind: ParamString, Pattern: `^[^/]`, Shape: "a key prefix (it must not start with /)", Description: "Key prefix the files are uploaded under, such as site/."},
				{Name: "delete", Kind: ParamBool, Description: "Delete the keys under the prefix that the source no longer has."},
				{Name: "content_types", Kind: ParamMap, Description: "Content types by file glob, such as *.wasm: application/wasm; others are guessed from the file extension."},
				{Name: "cache_control", Kind: ParamString, Description: "Cache-Control header of every uploaded object."},
			},
			Explain: func(w map[string]any, _ bool) string {
				s := fmt.Sprintf("upload %s/ to s3://%s/%s", w["source"], w["bucket"], str(w["prefix"]))
				if w["delete"] == true {
					s += ", deleting keys under the prefix the source no longer has"
				}
				return s
			},
		},
		{
			Name:    "aws/cloudformation",
			Summary: "deploy a CloudFormation stack through a change set",
			Params: []Param{
				{Name: "stack", Kind: ParamString, Required: true, Pattern: stackPattern, Shape: "a stack name (a letter, then up to 127 letters, digits and hyphens)", Description: "Name of the stack, created if missing."},
				{Name: "template", Kind: ParamString, Required: true, Path: true, Description: "Template file in the workspace."},
				{Name: "parameters", Kind: ParamFileOrMap, Description: "Template parameters: a mapping, or a JSON file in the workspace holding one."},
				{Name: "capabilities", Kind: ParamList, Enum: []string{"CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"}, Description: "Capabilities the template needs."},
				{Name: "tags", Kind: ParamMap, Description: "Tags of the stack."},
				{Name: "role_arn", Kind: ParamString, Pattern: roleARNPattern, Shape: "an IAM role ARN (arn:aws:iam::<account>:role/<name>)", Description: "Role CloudFormation assumes to change the stack."},
				{Name: "template_bucket", Kind: ParamString, Pattern: bucketPattern, Shape: "an S3 bucket name (3 to 63 lower-case letters, digits, dots and hyphens)", Description: "Bucket a template over 51,200 bytes (up to 1 MB) is uploaded to for the change set, since CloudFormation takes larger ones only from S3."},
			},
			Explain: func(w map[string]any, deploy bool) string {
				s := fmt.Sprintf("create a change set of stack %s from %s", w["stack"], w["template"])
				if b := str(w["template_bucket"]); b != "" {
					s += fmt.Sprintf(" (through s3://%s if over 51,200 bytes)", b)
				}
				if deploy {
					return s + ", then execute it and follow the stack's events"
				}
				return s + " and show it, without executing it (only a deploy stage executes)"
			},
		},
	}
	all = append(all, &Integration{
		Name:    "aws/lambda",
		Summary: "update a Lambda function's code, publish a version and move an alias to it",
		Params: []Param{
			{Name: "function", Kind: ParamString, Required: true, Pattern: functionPattern, Shape: "a function name or ARN", Description: "Function to update."},
			{Name: "zip", Kind: ParamString, Path: true, Description: "Zip file of the workspace holding the code (at most 50 MB)."},
			{Name: "s3_bucket", Kind: ParamString, Pattern: bucketPattern, Shape: "an S3 bucket name (3 to 63 lower-case letters, digits, dots and hyphens)", Description: "Bucket of the code's zip; with s3_key."},
			{Name: "s3_key", Kind: ParamString, Description: "Key of the code's zip in s3_bucket."},
			{Name: "image_uri", Kind: ParamString, Pattern: `^[0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com/\S+$`, Shape: "an Amazon ECR image URI", Description: "Container image of the code."},
			{Name: "alias", Kind: ParamString, Pattern: aliasPattern, Shape: "an alias name (letters, digits, - and _, not only digits)", Description: "Alias moved to the published version, created if missing."},
		},
		OneOf:    []string{"zip", "s3_key", "image_uri"},
		Requires: map[string][]string{"s3_key": {"s3_bucket"}, "s3_bucket": {"s3_key"}},
		Explain: func(w map[string]any, deploy bool) string {
			src := str(w["zip"])
			switch {
			case w["s3_key"] != nil:
				src = fmt.Sprintf("s3://%s/%s", w["s3_bucket"], w["s3_key"])
			case w["image_uri"] != nil:
				src = str(w["image_uri"])
			}
			s := fmt.Sprintf("update function %s's code from %s and publish a version", w["function"], src)
			if a := str(w["alias"]); a != "" {
				s += ", then move alias " + a + " to it, and back if the version does not become Active"
			}
			if !deploy {
				s += "; outside a deploy stage it only says so"
			}
			return s
		},
	})
	all = append(all, deployIntegrations()...)
	all = append(all, beanstalkAndInvoke()...)
	m := make(Integrations, len(all))
	for _, in := range all {
		in.patterns = make(map[string]*regexp.Regexp)
		for _, p := range in.Params {
			if p.Pattern != "" {
				in.patterns[p.Name] = regexp.MustCompile(p.Pattern)
			}
		}
		m[in.Name] = in
	}
	return m
}

// Names lists the integrations' names in a stable order.
func (m Integrations) Names() []string {
	return slices.Sorted(maps.Keys(m))
}

// ExplainAction says what an action of a stage would do: its integration's
// explanation, or that it runs a script.
func (m Integrations) ExplainAction(st *Stage, a *Action) string {
	in, ok := m[a.Uses]
	if a.Uses == "" || !ok {
		return "run a script"
	}
	return in.Explain(a.With, st.Deploy())
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// quoteList quotes strings for messages: "a", "b" and "c".
func quoteList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

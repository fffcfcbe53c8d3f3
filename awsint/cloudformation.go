package awsint

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfn "github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/stagegate/stagegate/pipeline/engine"
)

// maxTemplateBody is the largest template CloudFormation takes inline
// (TemplateBody); a larger one must come from S3.
// https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateChangeSet.html
const maxTemplateBody = 51_200

// maxParametersFile bounds a parameters file read into memory.
const maxParametersFile = 1 << 20

// cloudFormation deploys a stack through a change set: it always creates
// and describes the change set; it executes it only when the call may
// apply (a deploy stage), and otherwise removes it again.
type cloudFormation struct {
	client *cfn.Client
	c      engine.IntegrationCall
	poll   time.Duration
	stack  string
	// template and its text, to point annotations at a resource's line.
	template, body string
}

func runCloudFormation(ctx context.Context, cfg aws.Config, c engine.IntegrationCall, poll time.Duration) (engine.IntegrationResult, error) {
	w := c.Action.With
	cf := &cloudFormation{client: cfn.NewFromConfig(cfg), c: c, poll: poll, stack: str(w["stack"])}
	in, err := cf.changeSetInput()
	if err != nil {
		return engine.IntegrationResult{}, fmt.Errorf("aws/cloudformation: %w", err)
	}
	if len(cf.body) > maxTemplateBody {
		url, remove, err := cf.uploadTemplate(ctx, cfg)
		if err != nil {
			return engine.IntegrationResult{}, fmt.Errorf("aws/cloudformation: %w", err)
		}
		defer remove()
		in.TemplateBody, in.TemplateURL = nil, aws.String(url)
	}
	res, err := cf.run(ctx, in)
	if err != nil {
		return res, fmt.Errorf("aws/cloudformation: stack %s: %w", cf.stack, err)
	}
	return res, nil
}

// changeSetInput reads the template and parameters from the workspace.
func (cf *cloudFormation) changeSetInput() (*cfn.CreateChangeSetInput, error) {
	w := cf.c.Action.With
	root, err := os.OpenRoot(cf.c.Workspace)
	if err != nil {
		return nil, fmt.Errorf("workspace: %w", err)
	}
	defer root.Close()
	body, err := readBounded(root, str(w["template"]), maxTemplateURL)
	if err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	if len(body) > maxTemplateBody && str(w["template_bucket"]) == "" {
		return nil, fmt.Errorf("template: %s is %d bytes, more than the %d CloudFormation takes inline: set template_bucket to pass it through S3", str(w["template"]), len(body), maxTemplateBody)
	}
	cf.template, cf.body = str(w["template"]), string(body)
	in := &cfn.CreateChangeSetInput{
		StackName:    aws.String(cf.stack),
		TemplateBody: aws.String(string(body)),
	}
	params, _ := w["parameters"].(map[string]string)
	if file, ok := w["parameters"].(string); ok {
		raw, err := readBounded(root, file, maxParametersFile)
		if err != nil {
			return nil, fmt.Errorf("parameters: %w", err)
		}
		if params, err = parseParameters(raw); err != nil {
			return nil, fmt.Errorf("parameters file %s: %w", file, err)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(params)) {
		in.Parameters = append(in.Parameters, types.Parameter{ParameterKey: aws.String(k), ParameterValue: aws.String(params[k])})
	}
	caps, _ := w["capabilities"].([]string)
	for _, c := range caps {
		in.Capabilities = append(in.Capabilities, types.Capability(c))
	}
	tags, _ := w["tags"].(map[string]string)
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		in.Tags = append(in.Tags, types.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	if role := str(w["role_arn"]); role != "" {
		in.RoleARN = aws.String(role)
	}
	return in, nil
}

// readBounded reads a workspace file of at most limit bytes.
func readBounded(root *os.Root, name string, limit int64) ([]byte, error) {
	f, err := root.Open(filepath.FromSlash(name))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", name, limit)
	}
	return b, nil
}

// parseParameters reads the parameters file forms people have: a
// mapping of names to values, CodePipeline's template configuration
// ({"Parameters": {...}}), or the AWS CLI's list of ParameterKey and
// ParameterValue.
func parseParameters(raw []byte) (map[string]string, error) {
	var list []struct{ ParameterKey, ParameterValue string }
	if err := json.Unmarshal(raw, &list); err == nil {
		m := make(map[string]string, len(list))
		for _, p := range list {
			if p.ParameterKey == "" {
				return nil, errors.New("an entry has no ParameterKey")
			}
			m[p.ParameterKey] = p.ParameterValue
		}
		return m, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, fmt.Errorf("not a JSON object or list: %w", err)
	}
	if inner, ok := obj["Parameters"]; ok {
		obj = nil
		if err := json.Unmarshal(inner, &obj); err != nil {
			return nil, fmt.Errorf("the Parameters key: %w", err)
		}
	}
	m := make(map[string]string, len(obj))
	for k, v := range obj {
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			// Numbers and booleans are written as they are.
			s = strings.TrimSpace(string(v))
			if strings.HasPrefix(s, "{") || strings.HasPrefix(s, "[") {
				return nil, fmt.Errorf("parameter %s is not a string, number or boolean", k)
			}
		}
		m[k] = s
	}
	return m, nil
}

// resourceLine is the line of the template that declares a resource, 1
// when it cannot be found (a JSON template on one line, say).
func resourceLine(body, logicalID string) int {
	for i, line := range strings.Split(body, "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, logicalID+":") || strings.HasPrefix(t, `"`+logicalID+`"`) {
			return i + 1
		}
	}
	return 1
}

package awsint

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// maxTaskDefinitionFile bounds a task definition file read into memory;
// ECS itself takes at most 64 KiB, but a file may be generously indented.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-quotas.html
const maxTaskDefinitionFile = 1 << 20

// registerInputOf is the RegisterTaskDefinition input that registers td
// again as it is. The fields are carried over by name, through JSON, so
// that a field the SDK learns later is kept too rather than silently
// dropped from the new revision: family, roles, every container,
// cpu and memory, network mode, volumes and the rest.
func registerInputOf(td *ecstypes.TaskDefinition, tags []ecstypes.Tag) (*ecs.RegisterTaskDefinitionInput, error) {
	b, err := json.Marshal(td)
	if err != nil {
		return nil, fmt.Errorf("task definition: %w", err)
	}
	in := &ecs.RegisterTaskDefinitionInput{}
	if err := json.Unmarshal(b, in); err != nil {
		return nil, fmt.Errorf("task definition: %w", err)
	}
	in.Tags = tags
	return in, nil
}

// withImage returns a copy of in whose container named container runs
// image instead.
func withImage(in *ecs.RegisterTaskDefinitionInput, container, image string) (*ecs.RegisterTaskDefinitionInput, error) {
	out := *in
	out.ContainerDefinitions = slices.Clone(in.ContainerDefinitions)
	var names []string
	for i, cd := range out.ContainerDefinitions {
		if aws.ToString(cd.Name) == container {
			out.ContainerDefinitions[i].Image = aws.String(image)
			return &out, nil
		}
		names = append(names, aws.ToString(cd.Name))
	}
	return nil, fmt.Errorf("task definition %s has no container %q; it has %s", aws.ToString(in.Family), container, strings.Join(names, ", "))
}

// readOnlyTaskFields are what DescribeTaskDefinition adds to a task
// definition that RegisterTaskDefinition does not take; a file saved
// from `aws ecs describe-task-definition` has them, and they are dropped.
var readOnlyTaskFields = []string{
	"taskDefinitionArn", "revision", "status", "requiresAttributes", "compatibilities",
	"registeredAt", "registeredBy", "deregisteredAt", "deleteRequestedAt",
}

// readTaskDefinitionFile reads a task definition file of the workspace:
// RegisterTaskDefinition's input as the AWS CLI's --cli-input-json takes
// it, or describe-task-definition's output. A key that is neither is an
// error, so that a misspelt one is not silently left out.
func readTaskDefinitionFile(root *os.Root, name, family string) (*ecs.RegisterTaskDefinitionInput, error) {
	raw, err := readBounded(root, name, maxTaskDefinitionFile)
	if err != nil {
		return nil, err
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, fmt.Errorf("%s: not a JSON object: %w", name, err)
	}
	if inner, ok := lookupFold(obj, "taskDefinition"); ok {
		tags, hasTags := lookupFold(obj, "tags")
		obj = nil
		if err := json.Unmarshal(inner, &obj); err != nil {
			return nil, fmt.Errorf("%s: taskDefinition: %w", name, err)
		}
		if hasTags {
			obj["tags"] = tags
		}
	}
	for k := range obj {
		for _, ro := range readOnlyTaskFields {
			if strings.EqualFold(k, ro) {
				delete(obj, k)
			}
		}
	}
	clean, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	dec := json.NewDecoder(bytes.NewReader(clean))
	dec.DisallowUnknownFields()
	in := &ecs.RegisterTaskDefinitionInput{}
	if err := dec.Decode(in); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(in.ContainerDefinitions) == 0 {
		return nil, fmt.Errorf("%s has no containerDefinitions", name)
	}
	if aws.ToString(in.Family) == "" {
		in.Family = aws.String(family)
	}
	return in, nil
}

func lookupFold(obj map[string]json.RawMessage, key string) (json.RawMessage, bool) {
	for k, v := range obj {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

// taskDiff lists what registering next changes from cur: each
// container's changed fields by the container's name, then the task's.
// Empty values count as absent, so that the defaults ECS fills in (an
// empty environment, say) are not shown as changes.
func taskDiff(cur, next *ecs.RegisterTaskDefinitionInput) ([]string, error) {
	a, err := asMap(cur)
	if err != nil {
		return nil, err
	}
	b, err := asMap(next)
	if err != nil {
		return nil, err
	}
	var lines []string
	ca, cb := containersByName(a["containerDefinitions"]), containersByName(b["containerDefinitions"])
	delete(a, "containerDefinitions")
	delete(b, "containerDefinitions")
	names := slices.Collect(maps.Keys(ca))
	for n := range cb {
		if _, ok := ca[n]; !ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	for _, n := range names {
		x, inA := ca[n]
		y, inB := cb[n]
		switch {
		case !inB:
			lines = append(lines, fmt.Sprintf("container %s: removed", n))
		case !inA:
			lines = append(lines, fmt.Sprintf("container %s: added, image %s", n, show(y["image"])))
		default:
			for _, l := range fieldDiff(x, y) {
				lines = append(lines, fmt.Sprintf("container %s: %s", n, l))
			}
		}
	}
	return append(lines, fieldDiff(a, b)...), nil
}

// fieldDiff lists the keys whose values differ.
func fieldDiff(a, b map[string]any) []string {
	keys := slices.Collect(maps.Keys(a))
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var lines []string
	for _, k := range keys {
		switch {
		case reflect.DeepEqual(a[k], b[k]):
		case k == "environment":
			lines = append(lines, "environment: "+envDiff(a[k], b[k]))
		default:
			lines = append(lines, fmt.Sprintf("%s: %s -> %s", k, show(a[k]), show(b[k])))
		}
	}
	return lines
}

// envDiff names the variables added (+), changed (~) and removed (-),
// without their values: a pull request's log is no place for what a
// production task definition holds in plain text.
func envDiff(a, b any) string {
	byName := func(v any) map[string]any {
		m := make(map[string]any)
		list, _ := v.([]any)
		for _, e := range list {
			if kv, ok := e.(map[string]any); ok {
				name, _ := kv["name"].(string)
				m[name] = kv["value"]
			}
		}
		return m
	}
	x, y := byName(a), byName(b)
	names := slices.Collect(maps.Keys(x))
	for n := range y {
		if _, ok := x[n]; !ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	var parts []string
	for _, n := range names {
		old, inX := x[n]
		v, inY := y[n]
		switch {
		case !inX:
			parts = append(parts, "+"+n)
		case !inY:
			parts = append(parts, "-"+n)
		case !reflect.DeepEqual(old, v):
			parts = append(parts, "~"+n)
		}
	}
	return strings.Join(parts, " ") + " (values not shown)"
}

// asMap is v as JSON values named as the API names them, without the
// empty ones.
func asMap(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	out, _ := apiKeys(m).(map[string]any)
	prune(out)
	return out, nil
}

// apiKeys renames the keys of JSON values from Go's field names to the
// API's: ExecutionRoleArn is executionRoleArn.
func apiKeys(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			r, n := utf8.DecodeRuneInString(k)
			m[string(unicode.ToLower(r))+k[n:]] = apiKeys(e)
		}
		return m
	case []any:
		for i, e := range v {
			v[i] = apiKeys(e)
		}
	}
	return v
}

func prune(m map[string]any) {
	for k, v := range m {
		switch v := v.(type) {
		case nil:
			delete(m, k)
		case string:
			if v == "" {
				delete(m, k)
			}
		case []any:
			if len(v) == 0 {
				delete(m, k)
			}
			for _, e := range v {
				if em, ok := e.(map[string]any); ok {
					prune(em)
				}
			}
		case map[string]any:
			if prune(v); len(v) == 0 {
				delete(m, k)
			}
		}
	}
}

func containersByName(v any) map[string]map[string]any {
	out := make(map[string]map[string]any)
	list, _ := v.([]any)
	for _, c := range list {
		if m, ok := c.(map[string]any); ok {
			name, _ := m["name"].(string)
			out[name] = m
		}
	}
	return out
}

// show writes a value for a diff line: strings bare, the rest as
// compact JSON, at most 200 bytes of it.
func show(v any) string {
	if v == nil {
		return "(none)"
	}
	s, ok := v.(string)
	if !ok {
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Sprint(v)
		}
		s = string(b)
	}
	if len(s) > 200 {
		cut := 200
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// errNotStable ends the wait for a service that took longer than the
// action's timeout to settle.
var errNotStable = errors.New("not stable in time")

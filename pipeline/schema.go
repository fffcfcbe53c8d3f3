package pipeline

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/invopop/jsonschema"
)

// SchemaID is where the committed schema is published, for editors'
// `# yaml-language-server: $schema=` lines and schema stores.
const SchemaID = "https://raw.githubusercontent.com/stagegate/stagegate/main/schema/stagegate.schema.json"

// Schema returns the JSON Schema (draft 2020-12) of the pipeline file,
// indented and stable from one call to the next. It is generated from
// the model's struct tags, then refined with the rules the tags cannot
// express, so that it accepts what Parse accepts as far as a schema can
// tell (duplicate names and `if:` expressions, for one, it cannot).
func Schema() []byte {
	r := &jsonschema.Reflector{
		FieldNameTag: "yaml",
		// Required keys are set from requiredKeys below: the yaml tags
		// have no omitempty to derive them from.
		RequiredFromJSONSchemaTags: true,
		ExpandedStruct:             true,
		Anonymous:                  true,
		Mapper:                     schemaMapper,
	}
	s := r.Reflect(&Pipeline{})
	s.ID = SchemaID
	s.Title = "stagegate pipeline (" + DefaultFile + ")"
	refineSchema(s)

	raw, err := json.Marshal(s)
	if err != nil {
		// The schema is built from constant types; failing to encode it
		// is a bug, not a condition to handle.
		panic(fmt.Errorf("encode schema: %w", err))
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, unescapeHTML(raw), "", "  "); err != nil {
		panic(fmt.Errorf("indent schema: %w", err))
	}
	buf.WriteByte('\n')
	return buf.Bytes()
}

var htmlEscapes = map[string]byte{"u003c": '<', "u003e": '>', "u0026": '&'}

// unescapeHTML undoes encoding/json's escaping of <, > and &, which the
// schema's nested marshalling applies whatever the encoder is told, so
// that the committed file reads "stagegate/<name>".
func unescapeHTML(js []byte) []byte {
	out := make([]byte, 0, len(js))
	for i := 0; i < len(js); i++ {
		if js[i] != '\\' || i+1 >= len(js) {
			out = append(out, js[i])
			continue
		}
		if rest := js[i+1:]; len(rest) >= 5 {
			if c := htmlEscapes[string(rest[:5])]; c != 0 {
				out = append(out, c)
				i += 5
				continue
			}
		}
		// Any other escape, \\ included, is copied whole so that its
		// second byte is never read as the start of an escape.
		out = append(out, js[i], js[i+1])
		i++
	}
	return out
}

// schemaMapper gives the types whose YAML form is not their Go form a
// schema of their own.
func schemaMapper(t reflect.Type) *jsonschema.Schema {
	switch t {
	case reflect.TypeFor[Duration]():
		return &jsonschema.Schema{
			Type:     "string",
			Pattern:  durationPattern,
			Examples: []any{"90s", "15m", "1h30m"},
		}
	case reflect.TypeFor[map[string]string]():
		// Every map in the model is an env block.
		return &jsonschema.Schema{Ref: "#/$defs/Env"}
	}
	return nil
}

// refineSchema adds what struct tags cannot say: required keys, the
// three forms of `on:`, env blocks, and the checks on names, globs and
// paths that Parse makes.
func refineSchema(root *jsonschema.Schema) {
	defs := root.Definitions
	objects := map[reflect.Type]*jsonschema.Schema{reflect.TypeFor[Pipeline](): root}
	for _, t := range []reflect.Type{
		reflect.TypeFor[Triggers](), reflect.TypeFor[PushTrigger](), reflect.TypeFor[PullRequestTrigger](),
		reflect.TypeFor[Stage](), reflect.TypeFor[Action](), reflect.TypeFor[EnvironmentPolicy](),
		reflect.TypeFor[RunnerSpec](),
	} {
		objects[t] = defs[t.Name()]
	}
	for t, s := range objects {
		s.Required = requiredKeys(t)
		for f := range fieldsOf(t) {
			if d := tagDescription(f); d != "" {
				prop(s, yamlName(f)).Description = d
			}
		}
	}

	envName := &jsonschema.Schema{Type: "string", Pattern: envNamePattern, Not: &jsonschema.Schema{Pattern: reservedPattern}}
	defs["Env"] = &jsonschema.Schema{
		Type:          "object",
		PropertyNames: envName,
		AdditionalProperties: &jsonschema.Schema{AnyOf: []*jsonschema.Schema{
			{Type: "string"}, {Type: "number"}, {Type: "boolean"},
		}},
	}
	envNames := func(s *jsonschema.Schema) {
		s.Items, s.UniqueItems = envName, true
	}
	envNames(prop(root, "pass_env"))
	envNames(prop(root, "secrets"))

	refineOn(root, defs)
	refineRunner(defs[reflect.TypeFor[RunnerSpec]().Name()])
	refineEnvironments(root, defs, envName)

	stage := defs["Stage"]
	nonBlank(prop(stage, "if"))
	env := prop(stage, "environment")
	env.MinLength, env.MaxLength = ptr(uint64(1)), ptr(uint64(maxEnvironmentLen))
	env.Not = &jsonschema.Schema{Pattern: controlPattern}
	prop(stage, "deployers").Items = &jsonschema.Schema{Type: "string", Pattern: deployerPattern}
	stage.DependentRequired = make(map[string][]string)
	for _, key := range deployOnlyKeys {
		stage.DependentRequired[key] = []string{"environment"}
	}

	refineUses(defs)
	action := defs["Action"]
	nonBlank(prop(action, "run"))
	dir := prop(action, "dir")
	dir.MinLength, dir.Not = ptr(uint64(1)), &jsonschema.Schema{Pattern: escapePattern}
	artifacts := prop(action, "artifacts")
	artifacts.Items = globSchema()
	artifacts.Items.Not = &jsonschema.Schema{AnyOf: []*jsonschema.Schema{
		{Const: "!"}, {Pattern: escapePattern},
	}}
}

// refineEnvironments checks environment names as Parse does, lets an
// entry be null, and gives the policy's lists their item rules.
func refineEnvironments(root *jsonschema.Schema, defs jsonschema.Definitions, envName *jsonschema.Schema) {
	envs := prop(root, "environments")
	envs.PropertyNames = &jsonschema.Schema{
		MinLength: ptr(uint64(1)), MaxLength: ptr(uint64(maxEnvironmentLen)),
		Not: &jsonschema.Schema{Pattern: controlPattern},
	}
	envs.AdditionalProperties = &jsonschema.Schema{AnyOf: []*jsonschema.Schema{
		{Type: "null"}, {Ref: "#/$defs/EnvironmentPolicy"},
	}}
	policy := defs["EnvironmentPolicy"]
	prop(policy, "deployers").Items = &jsonschema.Schema{Type: "string", Pattern: deployerPattern}
	for _, key := range []string{"branches", "tags"} {
		list := prop(policy, key)
		list.MinItems, list.Items = ptr(uint64(1)), globSchema()
		list.Items.Not = &jsonschema.Schema{Const: "!"}
	}
	prop(policy, "require").Items = &jsonschema.Schema{Type: "string", Pattern: `\S`}
	secrets := prop(policy, "secrets")
	secrets.Items, secrets.UniqueItems = envName, true
}

// refineOn gives `on:` its three forms: an event, a list of events, or
// a mapping of events to filters (null meaning no filters).
func refineOn(root *jsonschema.Schema, defs jsonschema.Definitions) {
	events := eventNames()
	enum := make([]any, len(events))
	for i, e := range events {
		enum[i] = e
	}
	defs["Event"] = &jsonschema.Schema{Type: "string", Enum: enum}
	event := func() *jsonschema.Schema { return &jsonschema.Schema{Ref: "#/$defs/Event"} }
	on := prop(root, "on")
	on.Ref = ""
	on.AnyOf = []*jsonschema.Schema{
		event(),
		{Type: "array", Items: event(), MinItems: ptr(uint64(1)), UniqueItems: true},
		{Ref: "#/$defs/Triggers"},
	}

	triggers := defs["Triggers"]
	triggers.MinProperties = ptr(uint64(1))
	for _, ev := range events {
		p := prop(triggers, ev)
		p.AnyOf = []*jsonschema.Schema{{Type: "null"}, {Ref: p.Ref}}
		p.Ref = ""
	}
	for _, name := range []string{"PushTrigger", "PullRequestTrigger"} {
		for list := range defs[name].Properties.ValuesFromOldest() {
			list.MinItems = ptr(uint64(1))
			list.Items = globSchema()
			list.Items.Not = &jsonschema.Schema{Const: "!"}
		}
	}
}

// tagDescription reads a field's description from its jsonschema tag.
// The reflector splits tags at commas, cutting descriptions that contain
// one; description= comes last in the model's tags, so it runs to the
// end.
func tagDescription(f reflect.StructField) string {
	_, d, ok := strings.Cut(f.Tag.Get("jsonschema"), "description=")
	if !ok {
		return ""
	}
	return strings.ReplaceAll(d, `\,`, ",")
}

// prop returns a property's schema; a missing one is a bug in this file.
func prop(s *jsonschema.Schema, key string) *jsonschema.Schema {
	p, ok := s.Properties.Get(key)
	if !ok {
		keys := slices.Collect(s.Properties.KeysFromOldest())
		panic(fmt.Sprintf("schema has no property %q, only %v", key, keys))
	}
	return p
}

func globSchema() *jsonschema.Schema {
	return &jsonschema.Schema{Type: "string", MinLength: ptr(uint64(1))}
}

// nonBlank makes a string hold more than white space.
func nonBlank(s *jsonschema.Schema) { s.Pattern = `\S` }

func ptr[T any](v T) *T { return &v }

package pipeline

import "github.com/invopop/jsonschema"

// refineUses gives actions their two forms (run or uses), `aws:` its
// shapes, and each integration's `with:` its parameters.
func refineUses(defs jsonschema.Definitions) {
	awsDef := defs["AWS"]
	awsDef.MinProperties = ptr(uint64(1))
	prop(awsDef, "role").Pattern = roleARNPattern
	prop(awsDef, "region").Pattern = regionPattern

	defs["Scalars"] = &jsonschema.Schema{
		Type: "object",
		AdditionalProperties: &jsonschema.Schema{AnyOf: []*jsonschema.Schema{
			{Type: "string"}, {Type: "number"}, {Type: "boolean"},
		}},
	}

	action := defs["Action"]
	action.OneOf = []*jsonschema.Schema{{Required: []string{"run"}}, {Required: []string{"uses"}}}
	action.DependentRequired = map[string][]string{"with": {"uses"}}
	m := NewIntegrations()
	names := m.Names()
	enum := make([]any, len(names))
	for i, n := range names {
		enum[i] = n
	}
	prop(action, "uses").Enum = enum
	for _, name := range names {
		in := m[name]
		with := &jsonschema.Schema{Type: "object", Properties: jsonschema.NewProperties(), AdditionalProperties: jsonschema.FalseSchema}
		for _, p := range in.Params {
			ps := paramSchema(p)
			ps.Description = p.Description
			with.Properties.Set(p.Name, ps)
		}
		with.Required = requiredParams(in)
		for _, k := range in.OneOf {
			with.OneOf = append(with.OneOf, &jsonschema.Schema{Required: []string{k}})
		}
		if len(in.Requires) > 0 {
			with.DependentRequired = in.Requires
		}
		action.AllOf = append(action.AllOf, &jsonschema.Schema{
			If:   withRequired(props("uses", &jsonschema.Schema{Const: name}), []string{"uses"}),
			Then: withRequired(props("with", with), requiredIf(len(with.Required) > 0, "with")),
		})
	}
}

func paramSchema(p Param) *jsonschema.Schema {
	str := func() *jsonschema.Schema {
		s := &jsonschema.Schema{Type: "string", Pattern: p.Pattern}
		for _, v := range p.Enum {
			s.Enum = append(s.Enum, v)
		}
		if p.Path {
			s.MinLength, s.Not = ptr(uint64(1)), &jsonschema.Schema{Pattern: escapePattern}
		}
		return s
	}
	switch p.Kind {
	case ParamBool:
		return &jsonschema.Schema{Type: "boolean"}
	case ParamList:
		return &jsonschema.Schema{Type: "array", Items: str()}
	case ParamMap:
		return &jsonschema.Schema{Ref: "#/$defs/Scalars"}
	case ParamDuration:
		return &jsonschema.Schema{Type: "string", Pattern: durationPattern}
	case ParamFileOrMap:
		p.Path = true
		return &jsonschema.Schema{AnyOf: []*jsonschema.Schema{str(), {Ref: "#/$defs/Scalars"}}}
	case ParamJSON:
		return &jsonschema.Schema{AnyOf: []*jsonschema.Schema{{Type: "string", MinLength: ptr(uint64(1))}, {Type: "object"}}}
	}
	return str()
}

func props(key string, s *jsonschema.Schema) *jsonschema.Schema {
	p := jsonschema.NewProperties()
	p.Set(key, s)
	return &jsonschema.Schema{Properties: p}
}

func requiredIf(cond bool, keys ...string) []string {
	if cond {
		return keys
	}
	return nil
}

func withRequired(s *jsonschema.Schema, required []string) *jsonschema.Schema {
	s.Required = required
	return s
}

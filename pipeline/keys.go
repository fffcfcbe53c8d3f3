package pipeline

import (
	"iter"
	"reflect"
	"slices"
	"strings"
)

// The keys of the file format come from the model's struct tags, for the
// decoder and the JSON Schema alike, so that the two cannot drift apart.

// yamlKeys lists a model struct's keys in field order.
func yamlKeys(t reflect.Type) []string {
	var keys []string
	for f := range fieldsOf(t) {
		keys = append(keys, yamlName(f))
	}
	return keys
}

// requiredKeys lists the keys a model struct cannot do without: those
// whose json tag lacks omitempty, as encoding/json reads the model.
func requiredKeys(t reflect.Type) []string {
	var keys []string
	for f := range fieldsOf(t) {
		opts := strings.Split(f.Tag.Get("json"), ",")[1:]
		if !slices.Contains(opts, "omitempty") && !slices.Contains(opts, "omitzero") {
			keys = append(keys, yamlName(f))
		}
	}
	return keys
}

// fieldsOf yields the fields of t that appear in the file.
func fieldsOf(t reflect.Type) iter.Seq[reflect.StructField] {
	return func(yield func(reflect.StructField) bool) {
		for f := range t.Fields() {
			if !f.IsExported() || yamlName(f) == "-" {
				continue
			}
			if !yield(f) {
				return
			}
		}
	}
}

func yamlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "" {
		return strings.ToLower(f.Name)
	}
	return name
}

// deployOnlyKeys are the stage keys that mean something only on a stage
// that deploys to an environment.
var deployOnlyKeys = [...]string{"url", "approval", "deployers", "require"}

// eventNames lists the events `on:` accepts, from the Triggers keys.
func eventNames() []string { return yamlKeys(reflect.TypeFor[Triggers]()) }

// tagEnum lists the values a key allows, from the enum= entries of its
// jsonschema tag, which also make the schema's enum.
func tagEnum(t reflect.Type, key string) []string {
	var values []string
	for f := range fieldsOf(t) {
		if yamlName(f) != key {
			continue
		}
		for opt := range strings.SplitSeq(f.Tag.Get("jsonschema"), ",") {
			if v, ok := strings.CutPrefix(opt, "enum="); ok {
				values = append(values, v)
			}
		}
	}
	return values
}

package githubtest

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// This file is a small JSON-schema validator producing GitHub's wording
// (GitHub validates request bodies with a Ruby JSON-schema library, whose
// messages these are). Endpoints build their checks from it; see
// checks_validate.go.

// validator collects schema violations as GitHub words them.
type validator struct{ lines []string }

func (v *validator) add(line string) { v.lines = append(v.lines, line) }

func (v *validator) required(obj map[string]any, keys ...string) {
	var missing []string
	for _, k := range keys {
		if _, ok := obj[k]; !ok {
			missing = append(missing, `"`+k+`"`)
		}
	}
	sort.Strings(missing) // GitHub lists them alphabetically
	switch len(missing) {
	case 0:
	case 1:
		v.add(missing[0] + " wasn't supplied.")
	default:
		v.add(strings.Join(missing, ", ") + " weren't supplied.")
	}
}

func (v *validator) typeErr(ptr, key string, val any, what string) {
	v.add(fmt.Sprintf("For '%sproperties/%s', %s is not %s.", ptr, key, rubyInspect(val), what))
}

func (v *validator) str(obj map[string]any, ptr, key string) *string {
	raw, ok := obj[key]
	if !ok {
		return nil
	}
	s, ok := raw.(string)
	if !ok {
		v.typeErr(ptr, key, raw, "a string")
		return nil
	}
	return &s
}

func (v *validator) integer(obj map[string]any, ptr, key string) *int {
	raw, ok := obj[key]
	if !ok {
		return nil
	}
	n, isNum := raw.(json.Number)
	i, err := n.Int64()
	if !isNum || err != nil || strings.ContainsAny(n.String(), ".eE") {
		v.typeErr(ptr, key, raw, "an integer")
		return nil
	}
	x := int(i)
	return &x
}

func (v *validator) object(obj map[string]any, ptr, key string) map[string]any {
	raw, ok := obj[key]
	if !ok {
		return nil
	}
	m, ok := raw.(map[string]any)
	if !ok {
		v.typeErr(ptr, key, raw, "an object")
	}
	return m
}

func (v *validator) array(obj map[string]any, ptr, key string) []any {
	raw, ok := obj[key]
	if !ok {
		return nil
	}
	a, ok := raw.([]any)
	if !ok {
		v.typeErr(ptr, key, raw, "an array")
		return nil
	}
	if a == nil {
		a = []any{}
	}
	return a
}

func (v *validator) enum(obj map[string]any, ptr, key string, allowed []string) *string {
	s := v.str(obj, ptr, key)
	if s != nil && !oneOf(*s, allowed...) {
		v.add(notMember(ptr+"properties/"+key, *s, allowed))
		return nil
	}
	return s
}

func (v *validator) dateTime(obj map[string]any, ptr, key string) *time.Time {
	s := v.str(obj, ptr, key)
	if s == nil {
		return nil
	}
	t, err := time.Parse(time.RFC3339, *s)
	if err != nil {
		v.add(fmt.Sprintf("For '%sproperties/%s', %s is not a valid date-time.", ptr, key, rubyInspect(*s)))
		return nil
	}
	t = t.UTC()
	return &t
}

// maxLen enforces a schema maxLength, counted in characters (runes).
func (v *validator) maxLen(s *string, n int) *string {
	if s != nil {
		if c := utf8.RuneCountInString(*s); c > n {
			v.add(fmt.Sprintf("Only %d characters are allowed; %d were supplied.", n, c))
		}
	}
	return s
}

func (v *validator) maxItems(a []any, n int) {
	if len(a) > n {
		v.add(fmt.Sprintf("No more than %d items are allowed; %d were supplied.", n, len(a)))
	}
}

func notMember(ptr, val string, allowed []string) string {
	if !strings.HasPrefix(ptr, "properties/") {
		ptr = "properties/" + ptr
	}
	return fmt.Sprintf("For '%s', %s is not a member of %s.", ptr, rubyInspect(val), rubyInspect(toAny(allowed)))
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// rubyInspect renders a JSON value the way Ruby's #inspect does, which is
// how GitHub's validator quotes offending values.
func rubyInspect(v any) string {
	switch x := v.(type) {
	case nil:
		return "nil"
	case string:
		b, _ := json.Marshal(x)
		return string(b)
	case json.Number:
		return x.String()
	case bool:
		return fmt.Sprint(x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = rubyInspect(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		var parts []string
		for _, k := range sortedKeys(x) {
			parts = append(parts, rubyInspect(k)+"=>"+rubyInspect(x[k]))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprint(v)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func derefInt(i *int) int {
	if i == nil {
		return 0
	}
	return *i
}

package githubtest

// More of the schema validator (schema.go) for the newer endpoints.

// nullableStr reads a string that may also be null (nil result for both
// null and absent).
func (v *validator) nullableStr(obj map[string]any, ptr, key string) *string {
	if raw, ok := obj[key]; ok && raw == nil {
		return nil
	}
	return v.str(obj, ptr, key)
}

func (v *validator) boolean(obj map[string]any, ptr, key string) *bool {
	raw, ok := obj[key]
	if !ok {
		return nil
	}
	b, ok := raw.(bool)
	if !ok {
		v.typeErr(ptr, key, raw, "a boolean")
		return nil
	}
	return &b
}

// stringList reads an array of strings; present says whether the key was
// given (an empty array is a value, not an absence).
func (v *validator) stringList(obj map[string]any, ptr, key string) (list []string, present bool) {
	arr := v.array(obj, ptr, key)
	if arr == nil {
		_, given := obj[key]
		return nil, given && len(v.lines) == 0
	}
	list = []string{}
	for _, e := range arr {
		s, ok := e.(string)
		if !ok {
			v.add("For '" + ptr + "properties/" + key + "/items', " + rubyInspect(e) + " is not a string.")
			continue
		}
		list = append(list, s)
	}
	return list, true
}

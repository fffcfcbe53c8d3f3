package pipeline

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// A payload written as YAML reaches the integration as the JSON it
// means, and a JSON string as written.
func TestJSONParam(t *testing.T) {
	p, err := ParseFile(filepath.Join("testdata", "valid", "uses_beanstalk_invoke.yml"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		action string
		want   any
	}{
		{"smoke", map[string]any{"url": "https://example.com", "retries": 3.0, "ratio": 0.5, "strict": true, "none": nil,
			"paths": []any{"/", "/health", map[string]any{"method": "HEAD"}}}},
		{"by-arn", map[string]any{"a": []any{1.0, 2.0}}},
	}
	for _, tt := range tests {
		var a *Action
		for _, x := range p.Stages[0].Actions {
			if x.Name == tt.action {
				a = x
			}
		}
		text, ok := a.With["payload"].(string)
		var got any
		if !ok || json.Unmarshal([]byte(text), &got) != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: payload %q, want the JSON of %v", tt.action, a.With["payload"], tt.want)
		}
	}
	in := NewIntegrations()
	if got := in.ExplainAction(p.Stages[0], p.Stages[0].Actions[0]); got == "" || !strings.Contains(got, "invoke Lambda function smoke-test:live") {
		t.Errorf("explain: %q", got)
	}
}

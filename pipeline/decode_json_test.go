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

func TestExplainBeanstalkAndInvoke(t *testing.T) {
	in := NewIntegrations()
	deploy := &Stage{Name: "ship", Environment: "production"}
	check := &Stage{Name: "check"}
	tests := []struct {
		st   *Stage
		a    *Action
		want string
	}{
		{deploy, &Action{Uses: "aws/elasticbeanstalk", With: map[string]any{"application": "web", "environment": "web-prod", "source": "dist", "bucket": "b", "key_prefix": "web/"}},
			"create a version of application web from dist/ zipped to s3://b/web/, move environment web-prod to it and wait for Ready and Green"},
		{check, &Action{Uses: "aws/elasticbeanstalk", With: map[string]any{"application": "web", "environment": "web-prod", "s3_bucket": "b", "s3_key": "k.zip"}},
			"from s3://b/k.zip, move environment web-prod to it and wait for Ready and Green; outside a deploy stage it only says so"},
		{check, &Action{Uses: "aws/invoke", With: map[string]any{"function": "smoke", "payload": `{"a":1}`}},
			"invoke Lambda function smoke and wait for its answer (7 bytes of payload); a JSON object it returns becomes outputs. It runs in any stage"},
	}
	for _, tt := range tests {
		if got := in.ExplainAction(tt.st, tt.a); !strings.Contains(got, tt.want) {
			t.Errorf("%s: %q, want %q in it", tt.a.Uses, got, tt.want)
		}
	}
}

package pipeline

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

var committedSchema = filepath.Join("..", "schema", "stagegate.schema.json")

// TestSchemaCommitted fails when the committed schema is stale; go test
// -update rewrites it.
func TestSchemaCommitted(t *testing.T) {
	got := Schema()
	if !bytes.Equal(got, Schema()) {
		t.Fatal("Schema() is not stable from one call to the next")
	}
	if *update {
		if err := os.WriteFile(committedSchema, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(committedSchema)
	if err != nil {
		t.Fatalf("%v (run go test ./pipeline -run TestSchemaCommitted -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is stale: run go test ./pipeline -run TestSchemaCommitted -update", committedSchema)
	}
}

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(Schema()))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(SchemaID, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(SchemaID)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// instance reads a YAML file as the JSON value a schema validator sees.
func instance(t *testing.T, path string) (any, error) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, err
	}
	return jsonschema.UnmarshalJSON(bytes.NewReader(js))
}

// schemaBlind are the invalid files whose problems a schema cannot see.
// Files that are not YAML convertible to JSON (syntax errors, undefined
// aliases, duplicate keys) are skipped as well.
var schemaBlind = map[string]bool{
	"multi_doc.yml": true, // the converter reads the first document only
}

// TestSchemaAgreesWithParser validates every testdata file against the
// schema: the valid ones must pass and the invalid ones must fail, except
// where the problem is beyond a schema.
func TestSchemaAgreesWithParser(t *testing.T) {
	s := compileSchema(t)
	validChecked, invalidChecked := 0, 0
	for _, path := range testFiles(t, "valid") {
		inst, err := instance(t, path)
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		validChecked++
		if err := s.Validate(inst); err != nil {
			t.Errorf("schema rejects valid %s: %v", path, err)
		}
	}
	for _, path := range testFiles(t, "invalid") {
		name := filepath.Base(path)
		inst, err := instance(t, path)
		if err != nil || schemaBlind[name] {
			continue
		}
		invalidChecked++
		if s.Validate(inst) == nil {
			t.Errorf("schema accepts invalid %s", path)
		}
	}
	// The skips above must not empty the loops: as of writing, 8 valid
	// files and 22 of the 27 invalid ones are validated.
	if validChecked < 8 || invalidChecked < 22 {
		t.Errorf("validated %d valid and %d invalid files, want at least 8 and 22", validChecked, invalidChecked)
	}
}

// TestSchemaRejects checks single rules on small documents, including
// those the invalid files mix with problems a schema cannot see.
func TestSchemaRejects(t *testing.T) {
	s := compileSchema(t)
	const stage = `{"name": "s", "actions": [{"name": "a", "run": "a"}]}`
	for _, doc := range []string{
		`{"stages": []}`,
		`{"stages": [{"name": "s", "actions": [{"name": "a", "run": "a", "timeout": "15"}]}]}`,
		`{"stages": [{"name": "s", "actions": [{"name": "a", "run": "a", "dir": "../x"}]}]}`,
		`{"stages": [{"name": "s", "actions": [{"name": "a", "run": "a", "artifacts": ["/x"]}]}]}`,
		`{"stages": [{"name": "s", "actions": [{"name": "a", "run": " "}]}]}`,
		`{"stages": [{"name": "s", "actions": [{"name": "a"}]}]}`,
		`{"stages": [{"name": "s", "actions": [{"name": "a", "run": "a", "uses": "aws/s3", "with": {"bucket": "bbb", "source": "d"}}]}]}`,
		`{"stages": [{"name": "s", "actions": [{"name": "a", "run": "a", "with": {"bucket": "bbb"}}]}]}`,
		`{"stages": [{"name": "s", "actions": [{"name": "a", "uses": "aws/s4"}]}]}`,
		`{"stages": [{"name": "s", "actions": [{"name": "a", "uses": "aws/s3"}]}]}`,
		`{"stages": [{"name": "s", "actions": [{"name": "a", "uses": "aws/s3", "with": {"bucket": "bbb"}}]}]}`,
		`{"stages": [{"name": "s", "actions": [{"name": "a", "uses": "aws/s3", "with": {"bucket": "B_B", "source": "d"}}]}]}`,
		`{"stages": [{"name": "s", "actions": [{"name": "a", "uses": "aws/s3", "with": {"bucket": "bbb", "source": "../d"}}]}]}`,
		`{"stages": [{"name": "s", "actions": [{"name": "a", "uses": "aws/s3", "with": {"bucket": "bbb", "source": "d", "buckit": "x"}}]}]}`,
		`{"stages": [{"name": "s", "actions": [{"name": "a", "uses": "aws/cloudformation", "with": {"stack": "s", "template": "t", "capabilities": ["X"]}}]}]}`,
		`{"stages": [{"name": "s", "actions": [{"name": "a", "uses": "aws/cloudformation", "with": {"stack": "s", "template": "t", "tags": {"a": []}}}]}]}`,
		`{"stages": [{"name": "s", "actions": [{"name": "a", "uses": "aws/ecs", "with": {"service": "w", "image": "nginx"}}]}]}`,
		`{"stages": [{"name": "s", "actions": [{"name": "a", "uses": "aws/ecs", "with": {"service": "w", "container": "c", "image": "nginx", "task_definition": "t.json"}}]}]}`,
		`{"stages": [{"name": "s", "actions": [{"name": "a", "uses": "aws/ecs", "with": {"service": "w", "container": "c", "image": "Nginx"}}]}]}`,
		`{"stages": [{"name": "s", "actions": [{"name": "a", "uses": "aws/ecs", "with": {"service": "w", "task_definition": "t.json", "timeout": "1d"}}]}]}`,
		`{"stages": [{"name": "s", "actions": [{"name": "a", "uses": "aws/codedeploy", "with": {"application": "a", "deployment_group": "g", "source": "d"}}]}]}`,
		`{"stages": [{"name": "s", "actions": [{"name": "a", "uses": "aws/codedeploy", "with": {"application": "a", "deployment_group": "g", "s3_bucket": "bbb", "s3_key": "r.rar"}}]}]}`,
		`{"stages": [{"name": "s", "aws": {}, "actions": [{"name": "a", "run": "a"}]}]}`,
		`{"stages": [` + stage + `], "aws": {"role": "arn:aws:iam::1:role/x"}}`,
		`{"stages": [` + stage + `], "aws": {"region": "Europe"}}`,
		`{"stages": [{"name": "s", "if": "", "actions": [{"name": "a", "run": "a"}]}]}`,
		`{"stages": [{"name": "s", "approval": "manual", "actions": [{"name": "a", "run": "a"}]}]}`,
		`{"stages": [{"name": "s", "environment": "a\tb", "actions": [{"name": "a", "run": "a"}]}]}`,
		`{"stages": [` + stage + `], "on": {}}`,
		`{"stages": [` + stage + `], "on": []}`,
		`{"stages": [` + stage + `], "on": "pus"}`,
		`{"stages": [` + stage + `], "on": {"push": {"branches": []}}}`,
		`{"stages": [` + stage + `], "on": {"push": {"branches": ["!"]}}}`,
		`{"stages": [` + stage + `], "env": {"STAGEGATE_X": "1"}}`,
		`{"stages": [` + stage + `], "env": {"A": null}}`,
		`{"stages": [` + stage + `], "pass_env": ["A", "A"]}`,
		`{"stages": [` + stage + `], "mode": "fast"}`,
		`{"stages": [` + stage + `], "extra": 1}`,
	} {
		inst, err := jsonschema.UnmarshalJSON(strings.NewReader(doc))
		if err != nil {
			t.Fatal(err)
		}
		if s.Validate(inst) == nil {
			t.Errorf("schema accepts %s", doc)
		}
	}
}

// TestSchemaClosed checks additionalProperties is false on every object
// with properties, so that the schema, like Parse, refuses unknown keys.
func TestSchemaClosed(t *testing.T) {
	var doc any
	if err := json.Unmarshal(Schema(), &doc); err != nil {
		t.Fatal(err)
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			// An if/then under allOf only adds rules to keys its parent
			// declares; the parent is closed.
			sub := strings.HasSuffix(path, "/if") || strings.HasSuffix(path, "/then")
			if _, ok := v["properties"]; ok && v["additionalProperties"] != false && !sub {
				t.Errorf("%s: additionalProperties is %v, want false", path, v["additionalProperties"])
			}
			for k, sub := range v {
				walk(path+"/"+k, sub)
			}
		case []any:
			for _, sub := range v {
				walk(path+"/[]", sub)
			}
		}
	}
	walk("#", doc)
}

// TestPatternsAgree checks the hand-written checks against the patterns
// the schema uses for them.
func TestPatternsAgree(t *testing.T) {
	samples := []string{
		"", "a", "A1", "_", "1x", "build", "build-x", "build_x", "x.y", "-x", ".x", "a b", "ünï", "a/b",
		"STAGEGATE_X", "STAGEGATE_", "stagegate_x", "GOPATH", "alice", "@acme/release", "@acme", "@/x",
		"a--b", "-bob", "@acme/re.lease", "@-a/b", strings.Repeat("a", 39), strings.Repeat("a", 40),
		"90s", "15m", "1h30m", "1.5h", ".5s", "5.s", "0", "1", "-5m", "+5m", "1µs", "1μs", "1us", "h", "1d",
		"prod", "pro\td", "a\x7fb", "a\u0085b", "ok/**", "/abs", "!/abs", "../x", "a/../b", "!..", "a..b", "..a",
	}
	re := func(p string) *regexp.Regexp { return regexp.MustCompile(p) }
	name, env, reserved := re(namePattern), re(envNamePattern), re(reservedPattern)
	deployer, duration, control, escape := re(deployerPattern), re(durationPattern), re(controlPattern), re(escapePattern)
	for _, s := range samples {
		if got, want := checkName(s) == "", name.MatchString(s) && len(s) <= maxNameLen; got != want {
			t.Errorf("checkName(%q) ok=%v, pattern says %v", s, got, want)
		}
		if got, want := checkEnvName(s) == "", env.MatchString(s) && !reserved.MatchString(s); got != want {
			t.Errorf("checkEnvName(%q) ok=%v, pattern says %v", s, got, want)
		}
		if got, want := validDeployer(s), deployer.MatchString(s); got != want {
			t.Errorf("validDeployer(%q) = %v, pattern says %v", s, got, want)
		}
		// The pattern is Go's syntax without a sign; the range is
		// beyond it.
		_, err := time.ParseDuration(s)
		unsigned := err == nil && s != "0" && !strings.ContainsAny(s[:1], "+-")
		if _, reason := checkDuration(s); unsigned != duration.MatchString(s) || reason == "" && !unsigned {
			t.Errorf("checkDuration(%q) reason %q, pattern match %v", s, reason, duration.MatchString(s))
		}
		if got, want := checkEnvironment(s) == "", s != "" && !control.MatchString(s); got != want {
			t.Errorf("checkEnvironment(%q) ok=%v, pattern says %v", s, got, want)
		}
		if got, want := checkInWorkspace(s) == "", !escape.MatchString(s); got != want {
			t.Errorf("checkInWorkspace(%q) ok=%v, pattern says %v", s, got, want)
		}
	}
}

func TestUnescapeHTML(t *testing.T) {
	for in, want := range map[string]string{
		`"a\u003cb\u003e \u0026"`: `"a<b> &"`,
		`"\\u003c"`:               `"\\u003c"`, // an escaped backslash, then text
		`"\\\u003c\n"`:            `"\\<\n"`,
		`"\u2028"`:                `"\u2028"`,
	} {
		if got := string(unescapeHTML([]byte(in))); got != want {
			t.Errorf("unescapeHTML(%s) = %s, want %s", in, got, want)
		}
	}
}

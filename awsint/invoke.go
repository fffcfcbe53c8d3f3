package awsint

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/stagegate/stagegate/pipeline/engine"
)

const (
	// maxInvokeOutputs bounds the outputs taken from a function's
	// answer, as the engine bounds an action's output file.
	maxInvokeOutputs = 1 << 20
	// maxErrorShown bounds the error payload quoted in the failure.
	maxErrorShown = 4 << 10
)

// outputKey is what an output may be called ($STAGEGATE_OUTPUT's rule),
// since outputs become variables of later stages.
var outputKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// runInvoke invokes a function synchronously, as CodePipeline's Invoke
// action does. A function error fails the action with the function's
// error payload; a JSON object it returns becomes the action's outputs.
// It runs in any stage: CodePipeline's users invoke functions for checks
// as well as deploys.
func runInvoke(ctx context.Context, cfg aws.Config, c engine.IntegrationCall, _ time.Duration) (engine.IntegrationResult, error) {
	w := c.Action.With
	fn, qualifier := str(w["function"]), str(w["qualifier"])
	payload := str(w["payload"])
	if payload == "" {
		payload = "{}"
	}
	in := &lambda.InvokeInput{
		FunctionName: &fn, Payload: []byte(payload),
		InvocationType: ltypes.InvocationTypeRequestResponse,
		// The last 4 KB of the function's log, for the action's.
		LogType: ltypes.LogTypeTail,
	}
	if qualifier != "" {
		in.Qualifier = &qualifier
	}
	c.Log(fmt.Sprintf("invoking %s with %d bytes of payload", describeFunction(fn, qualifier), len(payload)))
	out, err := lambda.NewFromConfig(cfg).Invoke(ctx, in)
	if err != nil {
		return engine.IntegrationResult{}, fmt.Errorf("aws/invoke: invoke %s: %w", fn, err)
	}
	if tail, err := base64.StdEncoding.DecodeString(aws.ToString(out.LogResult)); err == nil && len(tail) > 0 {
		for _, line := range strings.Split(strings.TrimRight(string(tail), "\n"), "\n") {
			c.Log("| " + line)
		}
	}
	c.Log(fmt.Sprintf("status %d, version %s, %d bytes returned", out.StatusCode, aws.ToString(out.ExecutedVersion), len(out.Payload)))
	if fe := aws.ToString(out.FunctionError); fe != "" {
		return engine.IntegrationResult{}, fmt.Errorf("aws/invoke: %s failed (%s): %s", fn, fe, errorText(out.Payload))
	}
	outputs, warnings := invokeOutputs(out.Payload)
	for _, w := range warnings {
		c.Log("warning: " + w)
	}
	return engine.IntegrationResult{Outputs: outputs}, nil
}

func describeFunction(fn, qualifier string) string {
	if qualifier == "" {
		return "function " + fn
	}
	return "function " + fn + " (" + qualifier + ")"
}

// errorText is a function error's payload for the failure: Lambda's
// {"errorMessage", "errorType"} shortened to its message and type, or
// the payload as it came, bounded.
func errorText(payload []byte) string {
	var e struct {
		Message string `json:"errorMessage"`
		Type    string `json:"errorType"`
	}
	text := string(payload)
	if json.Unmarshal(payload, &e) == nil && e.Message != "" {
		text = e.Message
		if e.Type != "" {
			text = e.Type + ": " + text
		}
	}
	text = strings.Join(strings.Fields(text), " ")
	if len(text) > maxErrorShown {
		text = strings.ToValidUTF8(text[:maxErrorShown], "") + "…"
	}
	return text
}

// invokeOutputs reads a JSON object's members as outputs: strings as
// they are, other values as their JSON text. What is not an object gives
// no outputs; members whose name cannot be a variable are skipped, and
// so is what passes maxInvokeOutputs.
func invokeOutputs(payload []byte) (map[string]string, []string) {
	var obj map[string]json.RawMessage
	if t := bytes.TrimSpace(payload); len(t) == 0 || t[0] != '{' || json.Unmarshal(t, &obj) != nil {
		if len(bytes.TrimSpace(payload)) > 0 && !bytes.Equal(bytes.TrimSpace(payload), []byte("null")) {
			return nil, []string{"the function returned no JSON object, so no outputs"}
		}
		return nil, nil
	}
	outputs := make(map[string]string, len(obj))
	var warnings []string
	size := 0
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !outputKey.MatchString(k) {
			warnings = append(warnings, fmt.Sprintf("%q cannot be an output's name (letters, digits and _, not starting with a digit); skipped", k))
			continue
		}
		raw := obj[k]
		v := string(raw)
		var s string
		if json.Unmarshal(raw, &s) == nil {
			v = s
		} else if string(raw) == "null" {
			v = ""
		} else {
			var b bytes.Buffer
			if json.Compact(&b, raw) == nil {
				v = b.String()
			}
		}
		if size += len(k) + len(v); size > maxInvokeOutputs {
			warnings = append(warnings, fmt.Sprintf("the outputs pass %d bytes; %s and the rest are skipped", maxInvokeOutputs, k))
			break
		}
		outputs[k] = v
	}
	return outputs, warnings
}

package awsint_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfn "github.com/aws/aws-sdk-go-v2/service/cloudformation"

	"github.com/stagegate/stagegate/internal/awstest"
)

const queueTemplate = `AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  QueueName: {Type: String}
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties: {QueueName: !Ref QueueName}
Outputs:
  QueueArn: {Value: !GetAtt Queue.Arn}
`

const queueAndTopicTemplate = queueTemplate + `  TopicArn: {Value: !Ref Topic}
` // Resources are appended below, YAML allows either order.

func withTopic() string {
	return strings.Replace(queueAndTopicTemplate, "Outputs:", "  Topic:\n    Type: AWS::SNS::Topic\nOutputs:", 1)
}

func TestCloudFormationPlanThenDeploy(t *testing.T) {
	ctx := context.Background()
	r := hostRunner(t)
	r.Poll = 50 * time.Millisecond
	client := cfn.NewFromConfig(awstest.Config(t))
	stack := awstest.Name(t, "web")
	queue := awstest.Name(t, "q")
	ws := t.TempDir()
	writeFiles(t, ws, map[string]string{
		"infra/stack.yml":   queueTemplate,
		"infra/params.json": `{"Parameters": {"QueueName": "` + queue + `"}}`,
	})
	with := map[string]any{"stack": stack, "template": "infra/stack.yml", "parameters": "infra/params.json", "tags": map[string]string{"team": "web"}}

	var summary string
	step := func(name string, apply bool) ([]string, map[string]string) {
		t.Helper()
		var log []string
		c := call(ws, "aws/cloudformation", with, &log)
		c.RunID, c.Apply = "run-1", apply
		res, err := r.Run(ctx, c)
		if err != nil {
			t.Fatalf("%s: %v\n%s", name, err, strings.Join(log, "\n"))
		}
		t.Logf("%s:\n%s", name, strings.Join(log, "\n"))
		summary = res.Summary
		return log, res.Outputs
	}

	// A pull request: the change set is shown, not executed, and the
	// stack it would create is not left behind.
	log, _ := step("plan", false)
	if !hasLine(log, "add", "Queue", "AWS::SQS::Queue") || !hasLine(log, "not executed") {
		t.Errorf("plan log lacks the added queue or the note:\n%s", strings.Join(log, "\n"))
	}
	if !strings.Contains(summary, "| Change | Logical ID | Type | Replacement |\n") || !strings.Contains(summary, "| add | `Queue` | `AWS::SQS::Queue` |") ||
		!strings.Contains(summary, "would make 1 change: 1 to add") || !strings.Contains(summary, "Not executed") {
		t.Errorf("plan summary lacks the table of the added queue:\n%s", summary)
	}
	if st := describe(t, client, stack); st != "" && st != "DELETE_COMPLETE" {
		t.Errorf("after a plan the stack is %s, want none", st)
	}

	// The deploy executes it and follows the events to the end.
	log, outs := step("deploy", true)
	if st := describe(t, client, stack); st != "CREATE_COMPLETE" {
		t.Fatalf("stack %s after the deploy, want CREATE_COMPLETE", st)
	}
	if !hasLine(log, "AWS::CloudFormation::Stack", "CREATE_IN_PROGRESS") || !hasLine(log, "stack CREATE_COMPLETE") {
		t.Errorf("deploy log lacks the stack's events:\n%s", strings.Join(log, "\n"))
	}
	// moto gives stacks made by change sets no Outputs; the resource
	// itself shows the template and its parameters were applied.
	res, err := client.DescribeStackResources(ctx, &cfn.DescribeStackResourcesInput{StackName: aws.String(stack)})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.StackResources) != 1 || !strings.HasSuffix(aws.ToString(res.StackResources[0].PhysicalResourceId), "/"+queue) {
		t.Errorf("stack resources %+v, want the queue named by the parameters file", res.StackResources)
	}
	if !strings.Contains(outs["stack_id"], ":stack/"+stack+"/") {
		t.Errorf("outputs %v, want the stack's id", outs)
	}

	// The same template again: nothing to do is success.
	log, outs = step("again", true)
	if !hasLine(log, "no changes") || outs["changes"] != "0" || !strings.Contains(summary, "no changes") {
		t.Errorf("redeploy: outputs %v, log:\n%s", outs, strings.Join(log, "\n"))
	}

	// A change on a pull request shows what would be added.
	writeFiles(t, ws, map[string]string{"infra/stack.yml": withTopic()})
	log, _ = step("plan topic", false)
	if !hasLine(log, "add", "Topic", "AWS::SNS::Topic") {
		t.Errorf("plan of a new topic:\n%s", strings.Join(log, "\n"))
	}
	if st := describe(t, client, stack); st != "CREATE_COMPLETE" {
		t.Errorf("a plan changed the stack to %s", st)
	}
}

func TestCloudFormationBadInput(t *testing.T) {
	ws := t.TempDir()
	writeFiles(t, ws, map[string]string{
		"big.yml":    strings.Repeat("#", 60_000),
		"huge.yml":   strings.Repeat("#", 1<<20+1),
		"ok.yml":     queueTemplate,
		"params.txt": "QueueName=x",
	})
	tests := []struct {
		name string
		with map[string]any
		want string
	}{
		{"missing template", map[string]any{"stack": "s", "template": "nope.yml"}, "nope.yml: no such file"},
		{"template too large inline", map[string]any{"stack": "s", "template": "big.yml"}, "big.yml is 60000 bytes, more than the 51200 CloudFormation takes inline: set template_bucket"},
		{"template too large for S3", map[string]any{"stack": "s", "template": "huge.yml", "template_bucket": "b-x"}, "huge.yml is larger than 1048576 bytes"},
		{"parameters not JSON", map[string]any{"stack": "s", "template": "ok.yml", "parameters": "params.txt"}, "parameters file params.txt: not a JSON object or list"},
	}
	r := hostRunner(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log []string
			_, err := r.Run(context.Background(), call(ws, "aws/cloudformation", tt.with, &log))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}

func hasLine(log []string, words ...string) bool {
	for _, l := range log {
		f := strings.Fields(l)
		ok := true
		for _, w := range words {
			if !strings.Contains(l, w) {
				ok = false
			}
		}
		if ok && len(f) > 0 {
			return true
		}
	}
	return false
}

func describe(t *testing.T, c *cfn.Client, stack string) string {
	t.Helper()
	out, err := c.DescribeStacks(context.Background(), &cfn.DescribeStacksInput{StackName: aws.String(stack)})
	if err != nil {
		if strings.Contains(err.Error(), "does not exist") {
			return ""
		}
		t.Fatal(err)
	}
	return string(out.Stacks[0].StackStatus)
}

package awsint_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/stagegate/stagegate/awsint"
)

// rollbackFake speaks CloudFormation's query protocol (form-encoded
// Action=..., XML answers, as the API reference's examples show:
// https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStackEvents.html)
// for what moto cannot show: an update whose resource fails, and the
// stack rolling back.
type rollbackFake struct {
	mu       sync.Mutex
	executed bool
	polls    int
}

const cfnNS = `xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"`

func (f *rollbackFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	action := r.Form.Get("Action")
	now := time.Now().UTC()
	ts := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339) }
	var result string
	switch action {
	case "DescribeStacks":
		status := "UPDATE_COMPLETE"
		if f.executed {
			f.polls++
			status = "UPDATE_IN_PROGRESS"
			if f.polls > 1 {
				status = "UPDATE_ROLLBACK_COMPLETE"
			}
		}
		result = fmt.Sprintf(`<Stacks><member><StackName>web</StackName><StackId>arn:aws:cloudformation:us-east-1:123456789012:stack/web/1</StackId>
<StackStatus>%s</StackStatus><CreationTime>%s</CreationTime></member></Stacks>`, status, ts(-time.Hour))
	case "CreateChangeSet":
		result = `<Id>arn:aws:cloudformation:us-east-1:123456789012:changeSet/cs/1</Id><StackId>arn:aws:cloudformation:us-east-1:123456789012:stack/web/1</StackId>`
	case "DescribeChangeSet":
		result = `<Status>CREATE_COMPLETE</Status><ExecutionStatus>AVAILABLE</ExecutionStatus><ChangeSetName>cs</ChangeSetName><StackName>web</StackName>
<Changes><member><Type>Resource</Type><ResourceChange><Action>Modify</Action><LogicalResourceId>Queue</LogicalResourceId>
<PhysicalResourceId>https://sqs/q</PhysicalResourceId><ResourceType>AWS::SQS::Queue</ResourceType><Replacement>True</Replacement></ResourceChange></member></Changes>`
	case "ExecuteChangeSet":
		f.executed = true
	case "DescribeStackEvents":
		// Newest first, as CloudFormation lists them.
		var evs []string
		ev := func(id, lid, typ, status, reason string, d time.Duration) {
			evs = append(evs, fmt.Sprintf(`<member><EventId>%s</EventId><StackName>web</StackName><StackId>x</StackId><LogicalResourceId>%s</LogicalResourceId>
<ResourceType>%s</ResourceType><ResourceStatus>%s</ResourceStatus><ResourceStatusReason>%s</ResourceStatusReason><Timestamp>%s</Timestamp></member>`,
				id, lid, typ, status, reason, ts(d)))
		}
		if f.polls > 1 {
			ev("e4", "web", "AWS::CloudFormation::Stack", "UPDATE_ROLLBACK_COMPLETE", "", 0)
			ev("e3", "web", "AWS::CloudFormation::Stack", "UPDATE_ROLLBACK_IN_PROGRESS", "The following resource(s) failed to update: [Queue].", -time.Second)
			ev("e2", "Queue", "AWS::SQS::Queue", "UPDATE_FAILED", "Resource handler returned message: &quot;Access denied for sqs:CreateQueue&quot;", -2*time.Second)
		}
		ev("e1", "web", "AWS::CloudFormation::Stack", "UPDATE_IN_PROGRESS", "User Initiated", -3*time.Second)
		ev("e0", "web", "AWS::CloudFormation::Stack", "UPDATE_COMPLETE", "", -2*time.Hour)
		result = "<StackEvents>" + strings.Join(evs, "") + "</StackEvents>"
	case "DeleteChangeSet":
	default:
		http.Error(w, "unexpected "+action, http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<%sResponse %s><%sResult>%s</%sResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></%sResponse>`,
		action, cfnNS, action, result, action, action)
}

func TestCloudFormationRollbackFails(t *testing.T) {
	srv := httptest.NewServer(&rollbackFake{})
	defer srv.Close()
	r := awsint.NewRunner()
	r.HostCredentials, r.Poll = true, 10*time.Millisecond
	r.Load = func(context.Context) (aws.Config, error) {
		return aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
			Credentials: credentials.NewStaticCredentialsProvider("a", "b", ""), RetryMaxAttempts: 1}, nil
	}
	ws := t.TempDir()
	writeFiles(t, ws, map[string]string{"infra/stack.yml": queueTemplate})
	var log []string
	c := call(ws, "aws/cloudformation", map[string]any{"stack": "web", "template": "infra/stack.yml"}, &log)
	c.RunID, c.Apply = "r1", true
	res, err := r.Run(context.Background(), c)
	all := strings.Join(log, "\n")
	if !strings.Contains(res.Summary, "| replace | `Queue` | `AWS::SQS::Queue` | True |") || strings.Contains(res.Summary, "Not executed") {
		t.Errorf("summary of a failed deploy lacks the replaced queue:\n%s", res.Summary)
	}
	if err == nil || !strings.Contains(err.Error(), `ended UPDATE_ROLLBACK_COMPLETE: Queue (AWS::SQS::Queue): Resource handler returned message: "Access denied for sqs:CreateQueue"`) {
		t.Fatalf("error %v, want the rollback with the queue's reason\n%s", err, all)
	}
	if !hasLine(log, "replace", "Queue", "AWS::SQS::Queue", "https://sqs/q") {
		t.Errorf("change table lacks the replacement:\n%s", all)
	}
	// The template declares Queue on line 5: the annotation points there.
	want := `::error file=infra/stack.yml,line=5,title=Queue (AWS%3A%3ASQS%3A%3AQueue)::Resource handler returned message: "Access denied for sqs:CreateQueue"`
	if !hasLine(log, want) {
		t.Errorf("no annotation command %q in:\n%s", want, all)
	}
	if strings.Contains(all, "UPDATE_COMPLETE\n") || hasLine(log, "e0") {
		t.Errorf("events from before the update were logged:\n%s", all)
	}
	if !hasLine(log, "Queue AWS::SQS::Queue UPDATE_FAILED") || !hasLine(log, "web AWS::CloudFormation::Stack UPDATE_ROLLBACK_COMPLETE") {
		t.Errorf("events not followed:\n%s", all)
	}
}

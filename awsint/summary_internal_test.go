package awsint

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
)

func TestChangeSummary(t *testing.T) {
	rc := func(action types.ChangeAction, id, typ string, repl types.Replacement) types.ResourceChange {
		return types.ResourceChange{Action: action, LogicalResourceId: aws.String(id), ResourceType: aws.String(typ), Replacement: repl}
	}
	many := make([]types.ResourceChange, maxSummaryRows+5)
	for i := range many {
		many[i] = rc(types.ChangeActionAdd, "Q", "AWS::SQS::Queue", "")
	}
	tests := []struct {
		name     string
		changes  []types.ResourceChange
		executed bool
		want     []string
		not      []string
	}{
		{"each kind", []types.ResourceChange{
			rc(types.ChangeActionAdd, "Topic", "AWS::SNS::Topic", ""),
			rc(types.ChangeActionModify, "Fn", "AWS::Lambda::Function", types.ReplacementFalse),
			rc(types.ChangeActionModify, "Queue", "AWS::SQS::Queue", types.ReplacementTrue),
			rc(types.ChangeActionModify, "Bucket", "AWS::S3::Bucket", types.ReplacementConditional),
			rc(types.ChangeActionRemove, "Old", "AWS::SNS::Topic", ""),
		}, false, []string{
			"would make 5 changes: 1 to add, 1 to modify, 1 to maybe replace, 1 to replace, 1 to remove.",
			"| add | `Topic` | `AWS::SNS::Topic` |  |\n",
			"| modify | `Fn` | `AWS::Lambda::Function` | False |\n",
			"| replace | `Queue` | `AWS::SQS::Queue` | True |\n",
			"| maybe replace | `Bucket` | `AWS::S3::Bucket` | Conditional |\n",
			"| remove | `Old` | `AWS::SNS::Topic` |  |\n",
			"Not executed",
		}, nil},
		{"executed", []types.ResourceChange{rc(types.ChangeActionAdd, "Topic", "AWS::SNS::Topic", "")}, true,
			[]string{"makes 1 change: 1 to add."}, []string{"Not executed"}},
		{"cells escaped", []types.ResourceChange{rc(types.ChangeActionAdd, "A|B`<x>", "Custom::T|y", "")}, true,
			[]string{"| add | `A\\|B'&lt;x>` | `Custom::T\\|y` |"}, nil},
		{"bounded", many, true, []string{"_5 more changes are in the log._"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := changeSummary("web", tt.changes, tt.executed)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("summary lacks %q:\n%s", w, got)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(got, w) {
					t.Errorf("summary has %q:\n%s", w, got)
				}
			}
			if rows := strings.Count(got, "\n| "); rows > maxSummaryRows+2 { // the header, its rule and the rows
				t.Errorf("%d table rows, want at most %d", rows, maxSummaryRows+2)
			}
		})
	}
}

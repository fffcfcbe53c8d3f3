package awsint

import (
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
)

// maxSummaryRows bounds the change table: a stack has at most 500
// resources, and a longer table would crowd the rest of the check out.
const maxSummaryRows = 200

// changeSummary is the change set as a Markdown table for the stage's
// check, as Atlantis shows a plan on a pull request: each resource to
// add, modify, remove or replace, with its logical id, type and
// CloudFormation's replacement flag.
func changeSummary(stack string, changes []types.ResourceChange, executed bool) string {
	var b strings.Builder
	counts := map[string]int{}
	for _, c := range changes {
		counts[changeVerb(c)]++
	}
	var parts []string
	for _, v := range []string{"add", "modify", "maybe replace", "replace", "remove"} {
		if counts[v] > 0 {
			parts = append(parts, fmt.Sprintf("%d to %s", counts[v], v))
		}
	}
	verb := "would make"
	if executed {
		verb = "makes"
	}
	fmt.Fprintf(&b, "Change set of stack %s %s %d %s: %s.\n\n", mdCode(stack), verb, len(changes), plural(len(changes), "change", "changes"), strings.Join(parts, ", "))
	b.WriteString("| Change | Logical ID | Type | Replacement |\n| --- | --- | --- | --- |\n")
	for i, c := range changes {
		if i == maxSummaryRows {
			fmt.Fprintf(&b, "\n_%d more changes are in the log._\n", len(changes)-i)
			break
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", changeVerb(c), mdCode(aws.ToString(c.LogicalResourceId)),
			mdCode(aws.ToString(c.ResourceType)), mdCell(string(c.Replacement)))
	}
	if !executed {
		b.WriteString("\nNot executed: only a deploy stage executes a change set.\n")
	}
	return b.String()
}

// mdCode shows s as code in a table cell: a backquote cannot end the span
// and a pipe cannot end the cell.
func mdCode(s string) string {
	if s == "" {
		return ""
	}
	return "`" + mdCell(strings.ReplaceAll(s, "`", "'")) + "`"
}

// mdCell makes s one cell of a Markdown table.
func mdCell(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return strings.NewReplacer("|", `\|`, "<", "&lt;").Replace(s)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func noChangeSummary(stack string) string {
	return "Stack " + mdCode(stack) + ": no changes.\n"
}

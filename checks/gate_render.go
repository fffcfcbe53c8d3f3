package checks

import (
	"net/url"
	"strings"
)

// DeployActionID is the identifier of the Deploy button on a deploy
// stage's check while it waits for approval: a check_run webhook with
// action requested_action and this identifier approves the deploy.
const DeployActionID = "deploy"

// The Deploy button, within GitHub's limits: label and identifier at
// most 20 characters, description at most 40.
const (
	deployLabel       = "Deploy"
	deployDescription = "Approve and start this deploy"
)

// renderGate renders a deploy stage's check while its gate holds the
// stage: a title that says what it waits for, and every requirement.
func renderGate(g Gate) output {
	var b strings.Builder
	b.WriteString(gateVerdict(g) + "\n")
	if g.Decide() == NeedsApproval {
		b.WriteString("\nEverything else is ready: approve with the **Deploy** button above, or a `/deploy` comment.\n")
	}
	b.WriteString("\n")
	gateList(&b, g.Requirements)
	return output{Title: truncate(g.Stage+": "+g.headline(), maxTitle), Summary: clip(b.String(), outputBudget)}
}

// gateVerdict is the gate summary's opening sentence.
func gateVerdict(g Gate) string {
	what := ""
	if g.SHA != "" {
		what += " `" + ShortSHA(g.SHA) + "`"
	}
	if g.Environment != "" {
		what += " to " + codeSpan(g.Environment)
	}
	switch g.Decide() {
	case Proceed:
		return "✅ **Cleared** to deploy" + what + "."
	case NeedsApproval:
		return "✋ **Approval needed** to deploy" + what + "."
	case Refuse:
		return "❌ **Refused** to deploy" + what + ": " + inline(g.Refusal()) + "."
	}
	return "⏳ **Waiting** for " + inline(strings.TrimPrefix(g.headline(), "waiting for ")) + " before deploying" + what + "."
}

// gateSection is the gate as the summary of a stage that started or
// ended shows it, under its reason.
func gateSection(b *strings.Builder, g Gate) {
	head := "\n**Deploy gate**"
	if g.Environment != "" {
		head += " for " + codeSpan(g.Environment)
	}
	if g.SHA != "" {
		head += " on `" + ShortSHA(g.SHA) + "`"
	}
	switch g.Decide() {
	case Proceed:
		head += ": passed"
	case Refuse:
		head += ": refused"
	default:
		// The app shows the gate's last evaluation only when it waits.
		head += ", as last shown: " + inline(g.headline())
	}
	b.WriteString(head + "\n\n")
	gateList(b, g.Requirements)
}

// gateList renders the requirements as a Markdown list.
func gateList(b *strings.Builder, reqs []Requirement) {
	if len(reqs) == 0 {
		b.WriteString("_Nothing to wait for: the commit has no checks._\n")
		return
	}
	for _, r := range reqs {
		line := "- " + reqEmoji(r.state()) + " " + reqLabel(r)
		if r.Detail != "" {
			line += " — " + inline(r.Detail)
		}
		b.WriteString(line + "\n")
	}
}

func reqEmoji(s ReqState) string {
	switch s {
	case Met:
		return "✅"
	case Waiting:
		return "⏳"
	}
	return "❌"
}

// reqLabel names a requirement: its kind, then its name, linked.
func reqLabel(r Requirement) string {
	word := r.Kind
	switch r.Kind {
	case KindStages:
		word = "earlier stages"
	case "":
		word = "requirement"
	}
	if r.Name == "" || r.Name == r.Kind || r.Name == word {
		if u := linkURL(r.URL); u != "" {
			return "[" + word + "](" + u + ")"
		}
		return word
	}
	name := codeSpan(r.Name)
	if u := linkURL(r.URL); u != "" {
		name = "[" + name + "](" + u + ")"
	}
	return word + " " + name
}

// codeSpan shows s as inline code, with a fence no backtick in s closes.
func codeSpan(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return fence + s + fence
}

// linkURL is u made safe as a Markdown link destination, or "" when it
// is not an absolute http(s) URL.
func linkURL(u string) string {
	p, err := url.Parse(u)
	if err != nil || !p.IsAbs() || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
		return ""
	}
	return strings.NewReplacer(" ", "%20", "(", "%28", ")", "%29", "<", "%3C", ">", "%3E").Replace(p.String())
}

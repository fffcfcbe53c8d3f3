package commands

import (
	"strings"
	"testing"
	"unicode"
)

// parseCase is one comment and what Parse must make of it. Exactly one of
// cmd, reply and ignore is expected; reply is the message before the
// usage, compared exactly; ignore is a part of the reason.
type parseCase struct {
	name   string
	in     Comment
	cmd    *Command
	reply  string
	ignore string
}

// pr is a new comment by a user on a pull request: the one kind of comment
// Parse reads.
func pr(body string) Comment {
	return Comment{Body: body, AuthorType: "User", Action: "created", OnPullRequest: true}
}

func with(c Comment, change func(*Comment)) Comment {
	change(&c)
	return c
}

var (
	env255 = strings.Repeat("e", 255)
	env256 = strings.Repeat("e", 256)
	sha40  = "0123456789abcdef0123456789abcdef01234567"
	sha41  = sha40 + "8"
	// line1024 is a /deploy first line of exactly maxLineLen bytes.
	line1024 = "/deploy" + strings.Repeat(" ", 1024-len("/deploy"))
)

// parseCases is shared with FuzzParse as its seeds.
var parseCases = []parseCase{
	// Comments that are not for stagegate.
	{name: "edited", in: with(pr("/deploy"), func(c *Comment) { c.Action = "edited" }), ignore: `action is "edited"`},
	{name: "deleted", in: with(pr("/deploy"), func(c *Comment) { c.Action = "deleted" }), ignore: `action is "deleted"`},
	{name: "no action", in: with(pr("/deploy"), func(c *Comment) { c.Action = "" }), ignore: `action is ""`},
	{name: "action in capitals", in: with(pr("/deploy"), func(c *Comment) { c.Action = "Created" }), ignore: `action is "Created"`},
	{name: "bot", in: with(pr("/deploy"), func(c *Comment) { c.AuthorType = "Bot" }), ignore: `author type is "Bot"`},
	{name: "organization", in: with(pr("/retry"), func(c *Comment) { c.AuthorType = "Organization" }), ignore: `author type is "Organization"`},
	{name: "no author type", in: with(pr("/retry"), func(c *Comment) { c.AuthorType = "" }), ignore: `author type is ""`},
	{name: "issue", in: with(pr("/deploy"), func(c *Comment) { c.OnPullRequest = false }), ignore: "not a pull request"},
	{name: "empty", in: pr(""), ignore: "not a command"},
	{name: "spaces only", in: pr("  \t \r\n"), ignore: "not a command"},
	{name: "prose", in: pr("LGTM, ship it"), ignore: "not a command"},
	{name: "command further down", in: pr("Looks good.\n/deploy production"), ignore: "not a command"},
	{name: "command after a blank line", in: pr("\n/deploy"), ignore: "not a command"},
	{name: "command after a CRLF blank line", in: pr("\r\n/retry"), ignore: "not a command"},
	{name: "quoted", in: pr("> /deploy production\n\nWhy production?"), ignore: "not a command"},
	{name: "mention", in: pr("@stagegate /deploy"), ignore: "not a command"},
	{name: "in a sentence", in: pr("please /retry"), ignore: "not a command"},
	{name: "in a code span", in: pr("`/deploy`"), ignore: "not a command"},
	{name: "behind a byte order mark", in: pr("\ufeff/deploy"), ignore: "not a command"},
	{name: "path", in: pr("/usr/bin/env is missing"), ignore: "is not a command"},
	{name: "path alone", in: pr("/usr/bin/env"), ignore: "is not a command"},
	{name: "sentence", in: pr("/tmp is full"), ignore: "is not a command"},
	{name: "sentence with a near word", in: pr("/hello there"), ignore: "is not a command"},
	{name: "punctuation attached", in: pr("/cancel!"), ignore: "is not a command"},
	{name: "trailing full stop", in: pr("/deploy."), ignore: "is not a command"},
	{name: "slash alone", in: pr("/"), ignore: "is not a command"},
	{name: "slash and word", in: pr("/ deploy"), ignore: "is not a command"},
	{name: "double slash", in: pr("//deploy"), ignore: "is not a command"},
	{name: "digit first", in: pr("/1"), ignore: "is not a command"},
	{name: "word too long", in: pr("/" + strings.Repeat("a", 33)), ignore: "is not a command"},
	{name: "first line too long", in: pr(line1024 + " "), ignore: "longer than 1024 bytes"},
	{name: "first line too long before its end", in: pr(line1024 + "x\n/retry"), ignore: "longer than 1024 bytes"},

	// Commands.
	{name: "deploy", in: pr("/deploy"), cmd: &Command{Kind: Deploy}},
	{name: "deploy environment", in: pr("/deploy production"), cmd: &Command{Kind: Deploy, Environment: "production"}},
	{name: "spaces around", in: pr("   /deploy \t staging  "), cmd: &Command{Kind: Deploy, Environment: "staging"}},
	{name: "CRLF", in: pr("/deploy production\r\nThanks!"), cmd: &Command{Kind: Deploy, Environment: "production"}},
	{name: "LF", in: pr("/deploy production\nThanks!\n/cancel"), cmd: &Command{Kind: Deploy, Environment: "production"}},
	{name: "lone CR", in: pr("/retry\rnow"), cmd: &Command{Kind: Retry}},
	{name: "trailing CR", in: pr("/cancel\r"), cmd: &Command{Kind: Cancel}},
	{name: "no-break space", in: pr("/deploy\u00a0eu"), cmd: &Command{Kind: Deploy, Environment: "eu"}},
	{name: "punctuated environment", in: pr("/deploy prod-eu.west_1"), cmd: &Command{Kind: Deploy, Environment: "prod-eu.west_1"}},
	{name: "unicode environment", in: pr("/deploy 本番"), cmd: &Command{Kind: Deploy, Environment: "本番"}},
	{name: "environment with a backtick", in: pr("/deploy a`b"), cmd: &Command{Kind: Deploy, Environment: "a`b"}},
	{name: "longest environment", in: pr("/deploy " + env255), cmd: &Command{Kind: Deploy, Environment: env255}},
	{name: "longest first line", in: pr(line1024 + "\r\nmore"), cmd: &Command{Kind: Deploy}},
	{name: "longest first line alone", in: pr(line1024), cmd: &Command{Kind: Deploy}},
	{name: "long comment", in: pr("/retry\n" + strings.Repeat("x", 65536)), cmd: &Command{Kind: Retry}},
	{name: "retry", in: pr("/retry"), cmd: &Command{Kind: Retry}},
	{name: "cancel", in: pr("/cancel"), cmd: &Command{Kind: Cancel}},
	{name: "ok-to-test", in: pr("/ok-to-test"), cmd: &Command{Kind: OkToTest}},
	{name: "ok-to-test a commit", in: pr("/ok-to-test abc1234"), cmd: &Command{Kind: OkToTest, SHA: "abc1234"}},
	{name: "ok-to-test a full SHA in capitals", in: pr("/ok-to-test " + strings.ToUpper(sha40)), cmd: &Command{Kind: OkToTest, SHA: sha40}},
	{name: "deploy a commit", in: pr("/deploy production 0123456789abcdef"), cmd: &Command{Kind: Deploy, Environment: "production", SHA: "0123456789abcdef"}},
	{name: "deploy to an environment that looks like a SHA", in: pr("/deploy deadbeef"), cmd: &Command{Kind: Deploy, Environment: "deadbeef"}},
	{name: "help", in: pr("/help"), cmd: &Command{Kind: Help}},
	{name: "tab-indented", in: pr("\t/help\t"), cmd: &Command{Kind: Help}},

	// Known commands with the wrong arguments.
	{name: "retry now", in: pr("/retry now"), reply: "/retry takes no arguments"},
	{name: "cancel please", in: pr("/cancel please"), reply: "/cancel takes no arguments"},
	{name: "ok-to-test with a word", in: pr("/ok-to-test yes"), reply: "invalid commit `\"yes\"`: name it by 7 to 40 hexadecimal digits of its SHA"},
	{name: "ok-to-test with a short SHA", in: pr("/ok-to-test abc123"), reply: "invalid commit `\"abc123\"`: name it by 7 to 40 hexadecimal digits of its SHA"},
	{name: "ok-to-test with a long SHA", in: pr("/ok-to-test " + sha41), reply: "invalid commit `\"" + sha41 + "\"`: name it by 7 to 40 hexadecimal digits of its SHA"},
	{name: "ok-to-test with a ref", in: pr("/ok-to-test HEAD~1"), reply: "invalid commit `\"HEAD~1\"`: name it by 7 to 40 hexadecimal digits of its SHA"},
	{name: "ok-to-test with two SHAs", in: pr("/ok-to-test abc1234 def5678"), reply: "/ok-to-test takes one commit at most, got 2 words"},
	{name: "deploy with a bad SHA", in: pr("/deploy production abc123g"), reply: "invalid commit `\"abc123g\"`: name it by 7 to 40 hexadecimal digits of its SHA"},
	{name: "deploy with a bad environment and a SHA", in: pr("/deploy prod\x01 abc1234"), reply: "invalid environment `\"prod\\x01\"`: it contains a character that is not printable"},
	{name: "help with argument", in: pr("/help deploy"), reply: "/help takes no arguments"},
	{name: "two environments", in: pr("/deploy staging production"), reply: "invalid commit `\"production\"`: name it by 7 to 40 hexadecimal digits of its SHA"},
	{name: "sentence after deploy", in: pr("/deploy it now please"), reply: "/deploy takes an environment and a commit at most, got 3 words"},
	{name: "environment too long", in: pr("/deploy " + env256),
		reply: "invalid environment `\"" + strings.Repeat("e", 64) + "\"…`: it is longer than 255 bytes"},
	{name: "control character", in: pr("/deploy prod\x00"), reply: "invalid environment `\"prod\\x00\"`: it contains a character that is not printable"},
	{name: "zero-width space", in: pr("/deploy prod\u200b"), reply: "invalid environment `\"prod\\u200b\"`: it contains a character that is not printable"},
	{name: "invalid UTF-8", in: pr("/deploy pr\xffod"), reply: "invalid environment `\"pr\\xffod\"`: it is not valid UTF-8"},
	{name: "backticks in a bad environment", in: pr("/deploy ``\x01"), reply: "invalid environment ```\"``\\x01\"```: it contains a character that is not printable"},

	// Unknown commands.
	{name: "swapped letters", in: pr("/deplyo"), reply: "unknown command /deplyo — did you mean /deploy?"},
	{name: "typo with environment", in: pr("/deplyo production"), reply: "unknown command /deplyo — did you mean /deploy?"},
	{name: "capitalised", in: pr("/Deploy"), reply: "unknown command /Deploy — did you mean /deploy?"},
	{name: "upper case with environment", in: pr("/DEPLOY production"), reply: "unknown command /DEPLOY — did you mean /deploy?"},
	{name: "retry typo", in: pr("/retyr"), reply: "unknown command /retyr — did you mean /retry?"},
	{name: "cancel typo", in: pr("/cancle"), reply: "unknown command /cancle — did you mean /cancel?"},
	{name: "help typo", in: pr("/hlep"), reply: "unknown command /hlep — did you mean /help?"},
	{name: "ok-to-test without hyphens", in: pr("/oktotest"), reply: "unknown command /oktotest — did you mean /ok-to-test?"},
	{name: "ok-to-test with underscores", in: pr("/ok_to_test"), reply: "unknown command /ok_to_test — did you mean /ok-to-test?"},
	{name: "redeploy", in: pr("/redeploy"), reply: "unknown command /redeploy — did you mean /deploy?"},
	{name: "unknown word", in: pr("/rerun"), reply: "unknown command /rerun"},
	{name: "unknown hyphenated word", in: pr("/lgtm-ship"), reply: "unknown command /lgtm-ship"},
	{name: "unknown word alone", in: pr("/tmp"), reply: "unknown command /tmp"},
	{name: "not close to help", in: pr("/hello"), reply: "unknown command /hello"},
	{name: "longest unknown word", in: pr("/" + strings.Repeat("a", 32)), reply: "unknown command /" + strings.Repeat("a", 32)},
}

func TestParse(t *testing.T) {
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			got := Parse(tc.in)
			checkInvariants(t, tc.in, got)
			switch {
			case tc.cmd != nil:
				if got.Command == nil || *got.Command != *tc.cmd {
					t.Fatalf("Parse(%.80q) = %s, want command %+v", tc.in.Body, show(got), *tc.cmd)
				}
			case tc.reply != "":
				if want := tc.reply + "\n\n" + Usage(); got.Reply != want {
					t.Fatalf("Parse(%.80q) = %s, want reply %q", tc.in.Body, show(got), tc.reply)
				}
			default:
				if got.Ignore == "" || !strings.Contains(got.Ignore, tc.ignore) {
					t.Fatalf("Parse(%.80q) = %s, want it ignored for %q", tc.in.Body, show(got), tc.ignore)
				}
			}
		})
	}
}

// TestOnlyFirstLine checks that what follows the first line never matters,
// whatever that line is.
func TestOnlyFirstLine(t *testing.T) {
	for _, tc := range parseCases {
		first, _, found := strings.Cut(tc.in.Body, "\n")
		if found || strings.Contains(first, "\r") {
			continue
		}
		for _, rest := range []string{"\n/deploy", "\r\n/help x", "\nLGTM"} {
			in := tc.in
			in.Body += rest
			if got, want := Parse(in), Parse(tc.in); show(got) != show(want) {
				t.Errorf("%s: adding %q changed %s to %s", tc.name, rest, show(want), show(got))
			}
		}
	}
}

func TestUsage(t *testing.T) {
	u := Usage()
	for _, line := range []string{
		"- `/deploy [environment [commit]]` — approve and start the deploy stage (for that environment, or the only one) for the head commit you saw, or the one named\n",
		"- `/ok-to-test [commit]` — ",
		"- `/retry` — ",
		"- `/cancel` — ",
		"- `/help` — ",
	} {
		if !strings.Contains(u, line) {
			t.Errorf("Usage() lacks %q:\n%s", line, u)
		}
	}
	if n := strings.Count(u, "\n- "); n != len(specs) {
		t.Errorf("Usage() lists %d commands, want %d", n, len(specs))
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{
		Deploy: "/deploy", Retry: "/retry", Cancel: "/cancel", OkToTest: "/ok-to-test", Help: "/help",
		0: "Kind(0)", Help + 1: "Kind(6)",
	} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", int(k), got, want)
		}
	}
}

func TestDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"deploy", "deploy", 0},
		{"deplyo", "deploy", 1},
		{"", "help", 4},
		{"help", "", 4},
		{"hlep", "help", 1},
		{"redeploy", "deploy", 2},
		{"ok_to_test", "ok-to-test", 2},
		{"ca", "abc", 3}, // optimal string alignment, unlike Damerau-Levenshtein's 2
	} {
		if got := distance(tc.a, tc.b); got != tc.want {
			t.Errorf("distance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

// checkInvariants holds for every comment, and is what FuzzParse checks.
func checkInvariants(t *testing.T, in Comment, got Result) {
	t.Helper()
	set := 0
	for _, ok := range []bool{got.Command != nil, got.Reply != "", got.Ignore != ""} {
		if ok {
			set++
		}
	}
	if set != 1 {
		t.Fatalf("Parse(%.80q) = %s: want exactly one of Command, Reply and Ignore", in.Body, show(got))
	}
	readable := in.Action == "created" && in.AuthorType == "User" && in.OnPullRequest
	first := in.Body
	if i := strings.IndexAny(first, "\r\n"); i >= 0 {
		first = first[:i]
	}
	first = strings.TrimSpace(first)
	if got.Reply != "" {
		if !readable || !strings.HasPrefix(first, "/") {
			t.Fatalf("Parse(%.80q, %q, %q, %v) replied to a comment it must not read", in.Body, in.AuthorType, in.Action, in.OnPullRequest)
		}
		if !strings.HasSuffix(got.Reply, "\n\n"+Usage()) {
			t.Fatalf("Parse(%.80q): reply %q lacks the usage", in.Body, got.Reply)
		}
		// Replies echo little of the comment, so a reply stays short.
		if len(got.Reply) > len(Usage())+256 {
			t.Fatalf("Parse(%.80q): reply is %d bytes", in.Body, len(got.Reply))
		}
	}
	c := got.Command
	if c == nil {
		return
	}
	if !readable || !strings.HasPrefix(first, "/") || len(first) > maxLineLen {
		t.Fatalf("Parse(%.80q, %q, %q, %v) = %s from a comment it must not read", in.Body, in.AuthorType, in.Action, in.OnPullRequest, show(got))
	}
	if c.Kind < Deploy || c.Kind > Help {
		t.Fatalf("Parse(%.80q): Kind %d", in.Body, c.Kind)
	}
	if !strings.HasPrefix(first, c.Kind.String()) {
		t.Fatalf("Parse(%.80q) = %s: the line does not start with the command", in.Body, show(got))
	}
	if sha := c.SHA; sha != "" {
		if c.Kind != Deploy && c.Kind != OkToTest || c.Kind == Deploy && c.Environment == "" {
			t.Fatalf("Parse(%.80q): commit %q on %s %q", in.Body, sha, c.Kind, c.Environment)
		}
		if _, ok := parseSHA(sha); !ok || strings.ToLower(sha) != sha || !strings.Contains(strings.ToLower(first), sha) {
			t.Fatalf("Parse(%.80q): bad commit %q", in.Body, sha)
		}
	}
	if env := c.Environment; env != "" {
		if c.Kind != Deploy {
			t.Fatalf("Parse(%.80q): environment %q on %s", in.Body, env, c.Kind)
		}
		if strings.IndexFunc(env, unicode.IsSpace) >= 0 || checkEnvironment(env) != "" || !strings.Contains(first, env) {
			t.Fatalf("Parse(%.80q): bad environment %q", in.Body, env)
		}
	}
}

func show(r Result) string {
	switch {
	case r.Command != nil && r.Reply == "" && r.Ignore == "":
		return "command " + r.Command.Kind.String() + " " + r.Command.Environment + " " + r.Command.SHA
	case r.Command == nil && r.Reply != "" && r.Ignore == "":
		return "reply " + strings.TrimSuffix(r.Reply, "\n\n"+Usage())
	case r.Command == nil && r.Reply == "" && r.Ignore != "":
		return "ignore " + r.Ignore
	}
	return "invalid result"
}

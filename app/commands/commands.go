// Package commands parses the slash commands people write in pull request
// comments — /deploy, /retry, /cancel, /ok-to-test and /help — into a
// [Result]: a command to run, a reply to post, or a reason to ignore the
// comment.
//
// The rules are chosen so that stagegate never acts on a comment that was
// not meant for it, and does not stay silent when someone plainly tried to
// give it a command:
//
//   - Only new comments (action "created") written by people (user.type
//     "User") on pull requests are read. Edits and deletions are ignored
//     so that touching up an old comment cannot deploy a second time; any
//     other author type (Bot, Organization, Mannequin, or missing) is
//     ignored so that stagegate and another app cannot answer each other
//     forever.
//   - Only the first line can be a command. A line ends at \n, \r\n or a
//     lone \r; spaces around the line are trimmed. A command further down,
//     a quoted one ("> /deploy"), one after a blank first line and one
//     after a mention ("@stagegate /deploy") are all ignored, because
//     people quote and discuss commands without meaning to run them.
//   - A first line longer than 1024 bytes (before trimming) is ignored
//     unread: no command needs that much, and the cap bounds the work
//     done on hostile input.
//   - The line is split into words at white space. The first word is the
//     command; command words are lower case and case-sensitive, as GitHub
//     users type them and as the usage shows them.
//   - A known command with the wrong arguments ("/retry now", "/deploy a
//     b c", an invalid environment or commit) gets a reply with the usage.
//   - /ok-to-test and /deploy may name the commit they approve, the one
//     the approver reviewed: "/ok-to-test abc1234", "/deploy production
//     abc1234". A commit is 7 to 40 hexadecimal digits (an abbreviated or
//     full SHA-1), in either case; it is returned in lower case. /deploy
//     names its environment before the commit, so a one-word argument is
//     always an environment.
//   - A first word that is not a command counts as an attempt at one, and
//     gets "unknown command" and the usage, in two cases: when it is a
//     near miss of a command (a typo or a different case: "/deplyo prod",
//     "/Retry"), which also earns a did-you-mean; or when it is the whole
//     line and looks like a command word, /[a-z][a-z-]* and at most 32
//     bytes ("/rerun"). Anything else that starts with "/" is ignored:
//     paths ("/usr/bin/env"), sentences ("/tmp is full") and words with
//     punctuation attached ("/cancel!").
//   - An environment is one word (so it has no white space), at most 255
//     bytes — the limit a pipeline file has — valid UTF-8 and printable.
//     An environment whose configured name has spaces cannot be named in
//     a comment; a bare /deploy still reaches it when it is the only one.
package commands

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Comment is what Parse needs from an issue_comment webhook.
type Comment struct {
	Body string
	// AuthorType is the comment author's user.type: "User", "Bot", ….
	AuthorType string
	// Action is the issue_comment action: "created", "edited" or "deleted".
	Action string
	// OnPullRequest says the comment's issue is a pull request.
	OnPullRequest bool
}

// Kind is a command.
type Kind int

// The zero Kind is not a command, so a Command left unset cannot pass for
// one.
const (
	Deploy Kind = iota + 1
	Retry
	Cancel
	OkToTest
	Help
)

// String returns the command as it is typed, such as "/deploy".
func (k Kind) String() string {
	for _, s := range specs {
		if s.kind == k {
			return "/" + s.word
		}
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Command is a command to run.
type Command struct {
	Kind Kind
	// Environment is the environment named by /deploy; "" asks for the
	// pipeline's only deploy stage. It is always "" for other commands.
	Environment string
	// SHA is the commit named by /ok-to-test or /deploy, lower-case hex
	// of 7 to 40 digits; "" when none was named. The command is for that
	// commit only, so it is refused unless the pull request's head starts
	// with it.
	SHA string
}

// Result is what to do about a comment. Exactly one field is set.
type Result struct {
	// Command is the command to run.
	Command *Command
	// Reply is the Markdown to answer the comment with: what was wrong,
	// then the usage.
	Reply string
	// Ignore is why the comment is not for stagegate, for the logs.
	Ignore string
}

const (
	// maxLineLen caps the first line; see the package documentation.
	maxLineLen = 1024
	// maxEnvironmentLen is pipeline's own limit, so that any environment
	// a pipeline file can name (without spaces) can be named here.
	maxEnvironmentLen = 255
	// maxWordLen keeps a reply from echoing a long run of letters that is
	// surely not a command attempt.
	maxWordLen = 32
	// minSHALen and maxSHALen bound a named commit: git's shortest
	// abbreviation and a full SHA-1.
	minSHALen, maxSHALen = 7, 40
)

// spec describes one command; the order of specs is the order of the
// usage and breaks ties between equally close did-you-mean suggestions.
type spec struct {
	kind Kind
	word string // without the slash
	args string // the arguments as the usage shows them
	desc string
}

var specs = []spec{
	{Deploy, "deploy", " [environment [commit]]", "approve and start the deploy stage (for that environment, or the only one) for the head commit you saw, or the one named"},
	{Retry, "retry", "", "re-run the failed pipeline of this pull request"},
	{Cancel, "cancel", "", "cancel the pipeline running for this pull request"},
	{OkToTest, "ok-to-test", " [commit]", "let this pull request from a fork run, for the head commit you saw, or the one named"},
	{Help, "help", "", "show this list"},
}

var usage = func() string {
	var b strings.Builder
	b.WriteString("**stagegate commands** — write one as the first line of a pull request comment:\n\n")
	for _, s := range specs {
		fmt.Fprintf(&b, "- `/%s%s` — %s\n", s.word, s.args, s.desc)
	}
	return b.String()
}()

// Usage is the Markdown list of commands, for /help and for every Reply.
func Usage() string { return usage }

// Parse decides what to do about a comment; see the package documentation
// for the rules.
func Parse(in Comment) Result {
	switch {
	case in.Action != "created":
		return ignore("the comment action is " + strconv.Quote(in.Action) + "; only new comments are read")
	case in.AuthorType != "User":
		return ignore("the author type is " + strconv.Quote(in.AuthorType) + "; only users' comments are read")
	case !in.OnPullRequest:
		return ignore("the comment is on an issue, not a pull request")
	}
	line, ok := firstLine(in.Body)
	if !ok {
		return ignore(fmt.Sprintf("the first line is longer than %d bytes", maxLineLen))
	}
	line = strings.TrimSpace(line)
	if !strings.HasPrefix(line, "/") {
		return ignore("the first line is not a command")
	}
	// The line starts with "/", so Fields returns at least one word and
	// the first starts with "/".
	words := strings.Fields(line)
	name, args := words[0][1:], words[1:]
	for _, s := range specs {
		if s.word == name {
			return s.parse(args)
		}
	}
	return unknown(name, len(args))
}

// firstLine returns the body's first line, or false when it is longer than
// maxLineLen. It looks at no more of the body than it must, since a
// comment can be 65536 characters.
func firstLine(body string) (string, bool) {
	head := body[:min(len(body), maxLineLen+1)]
	if i := strings.IndexAny(head, "\r\n"); i >= 0 {
		return head[:i], true
	}
	return body, len(body) <= maxLineLen
}

func (s spec) parse(args []string) Result {
	switch {
	case s.kind == Deploy && len(args) > 2:
		return reply(fmt.Sprintf("/deploy takes an environment and a commit at most, got %d words", len(args)))
	case s.kind == Deploy && len(args) > 0:
		if reason := checkEnvironment(args[0]); reason != "" {
			return reply("invalid environment " + codeSpan(args[0]) + ": " + reason)
		}
		c := Command{Kind: Deploy, Environment: args[0]}
		if len(args) == 2 {
			sha, ok := parseSHA(args[1])
			if !ok {
				return reply(badSHA(args[1]))
			}
			c.SHA = sha
		}
		return Result{Command: &c}
	case s.kind == OkToTest && len(args) > 1:
		return reply(fmt.Sprintf("/ok-to-test takes one commit at most, got %d words", len(args)))
	case s.kind == OkToTest && len(args) == 1:
		sha, ok := parseSHA(args[0])
		if !ok {
			return reply(badSHA(args[0]))
		}
		return Result{Command: &Command{Kind: OkToTest, SHA: sha}}
	case len(args) > 0:
		return reply("/" + s.word + " takes no arguments")
	}
	return Result{Command: &Command{Kind: s.kind}}
}

// parseSHA returns word in lower case if it is an abbreviated or full
// SHA-1: 7 to 40 hexadecimal digits.
func parseSHA(word string) (string, bool) {
	if len(word) < minSHALen || len(word) > maxSHALen {
		return "", false
	}
	for i := 0; i < len(word); i++ {
		c := word[i]
		if !('0' <= c && c <= '9') && !('a' <= c && c <= 'f') && !('A' <= c && c <= 'F') {
			return "", false
		}
	}
	return strings.ToLower(word), true
}

func badSHA(word string) string {
	return fmt.Sprintf("invalid commit %s: name it by %d to %d hexadecimal digits of its SHA", codeSpan(word), minSHALen, maxSHALen)
}

// checkEnvironment returns why env cannot be an environment, or "". It
// cannot be empty or contain white space: it is a word of the line.
func checkEnvironment(env string) string {
	switch {
	case len(env) > maxEnvironmentLen:
		return fmt.Sprintf("it is longer than %d bytes", maxEnvironmentLen)
	case !utf8.ValidString(env):
		// Checked before printability: the decoder turns invalid bytes
		// into U+FFFD, which is printable.
		return "it is not valid UTF-8"
	case strings.IndexFunc(env, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0:
		return "it contains a character that is not printable"
	}
	return ""
}

// unknown answers a first word that is not a command; name is the word
// without its slash.
func unknown(name string, nargs int) Result {
	if isTypoWord(name) {
		if s, ok := suggest(name); ok {
			return reply("unknown command /" + name + " — did you mean /" + s.word + "?")
		}
	}
	if nargs == 0 && isCommandWord(name) {
		return reply("unknown command /" + name)
	}
	return ignore("the first line starts with \"/\" but is not a command")
}

// isCommandWord reports whether name looks like a command word:
// [a-z][a-z-]*, at most maxWordLen bytes.
func isCommandWord(name string) bool {
	if name == "" || len(name) > maxWordLen || !isLower(name[0]) {
		return false
	}
	for i := 1; i < len(name); i++ {
		if !isLower(name[i]) && name[i] != '-' {
			return false
		}
	}
	return true
}

// isTypoWord reports whether name could be a mistyped command word:
// [A-Za-z][A-Za-z0-9_-]*, at most maxWordLen bytes. It is wider than
// isCommandWord because a near miss is worth answering even with capitals
// or an underscore ("/Deploy", "/ok_to_test").
func isTypoWord(name string) bool {
	if name == "" || len(name) > maxWordLen || !isLetter(name[0]) {
		return false
	}
	for i := 1; i < len(name); i++ {
		c := name[i]
		if !isLetter(c) && !('0' <= c && c <= '9') && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

func isLower(c byte) bool  { return 'a' <= c && c <= 'z' }
func isLetter(c byte) bool { return isLower(c) || 'A' <= c && c <= 'Z' }

// suggest returns the command closest to name, if it is close enough to be
// a typo of it. The allowed distance grows with the command's length — one
// edit for /help and /retry, two for /deploy, three for /ok-to-test — so
// that short ordinary words ("/hello", "/tmp") are not taken for commands.
func suggest(name string) (spec, bool) {
	name = strings.ToLower(name)
	var best spec
	bestDist := -1
	for _, s := range specs {
		d := distance(name, s.word)
		if d <= max(1, len(s.word)/3) && (bestDist < 0 || d < bestDist) {
			best, bestDist = s, d
		}
	}
	return best, bestDist >= 0
}

// distance is the optimal string alignment distance between two ASCII
// words: insertions, deletions, substitutions and swaps of two adjacent
// bytes each cost one. Swaps count as one edit because "/deplyo" is the
// commonest kind of typo.
func distance(a, b string) int {
	// Three rows suffice: a swap looks two rows back.
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// codeSpan shows text from a comment in a reply: quoted, so that control
// characters and invalid UTF-8 are visible as escapes, cut short, and in
// a Markdown code span, so that mentions and Markdown in it do nothing.
func codeSpan(s string) string {
	const maxShown = 64
	suffix := ""
	if len(s) > maxShown {
		cut := maxShown
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s, suffix = s[:cut], "…"
	}
	q := strconv.Quote(s) + suffix
	// A code span's fence must be longer than any run of backticks in
	// it. The quotes keep a backtick off either end, which would
	// otherwise need padding.
	run, longest := 0, 0
	for i := 0; i < len(q); i++ {
		if q[i] == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	return fence + q + fence
}

func reply(msg string) Result { return Result{Reply: msg + "\n\n" + usage} }

func ignore(reason string) Result { return Result{Ignore: reason} }

package deploy_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

// A Dockerfile as the tests see it: stages of instructions. The parser
// handles what Dockerfile syntax needs here: comments, line continuations
// with a trailing backslash, FROM ... AS name, and the exec (JSON) and shell
// forms of arguments. Not parser directives other than comments, heredocs
// or a changed escape character: the tests fail on what they cannot read.

type instruction struct {
	line  int      // first line, for messages
	cmd   string   // upper case: FROM, RUN, COPY, ...
	flags []string // leading --flags, such as --from=build
	args  string   // the rest, continuations joined
}

type stage struct {
	name   string // after AS; "" when unnamed
	base   string // the image
	instrs []instruction
}

type dockerfile struct {
	globalArgs []instruction // ARGs before the first FROM
	stages     []*stage
}

func parseDockerfile(text string) (*dockerfile, error) {
	var (
		df      dockerfile
		cur     *stage
		pending strings.Builder
		first   int
	)
	flush := func() error {
		s := strings.TrimSpace(pending.String())
		pending.Reset()
		if s == "" {
			return nil
		}
		cmd, rest, _ := strings.Cut(s, " ")
		in := instruction{line: first, cmd: strings.ToUpper(cmd)}
		rest = strings.TrimSpace(rest)
		for strings.HasPrefix(rest, "--") {
			flag, after, _ := strings.Cut(rest, " ")
			in.flags = append(in.flags, flag)
			rest = strings.TrimSpace(after)
		}
		in.args = rest
		if strings.HasPrefix(in.args, "<<") {
			return fmt.Errorf("line %d: heredocs are not supported by this parser", in.line)
		}
		switch {
		case in.cmd == "FROM":
			words := strings.Fields(in.args)
			st := &stage{}
			switch {
			case len(words) == 1:
				st.base = words[0]
			case len(words) == 3 && strings.EqualFold(words[1], "AS"):
				st.base, st.name = words[0], words[2]
			default:
				return fmt.Errorf("line %d: FROM %s: want IMAGE [AS NAME]", in.line, in.args)
			}
			cur = st
			df.stages = append(df.stages, st)
		case cur == nil && in.cmd == "ARG":
			df.globalArgs = append(df.globalArgs, in)
		case cur == nil:
			return fmt.Errorf("line %d: %s before the first FROM", in.line, in.cmd)
		default:
			cur.instrs = append(cur.instrs, in)
		}
		return nil
	}
	sc := bufio.NewScanner(strings.NewReader(text))
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		// Empty and comment lines, also inside a continued instruction,
		// are dropped.
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		if pending.Len() == 0 {
			first = n
		}
		if body, ok := strings.CutSuffix(strings.TrimRight(line, " \t"), `\`); ok {
			pending.WriteString(body)
			pending.WriteByte(' ')
			continue
		}
		pending.WriteString(line)
		if err := flush(); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if pending.Len() > 0 {
		return nil, fmt.Errorf("line %d: the file ends in a line continuation", first)
	}
	return &df, nil
}

// stageNamed finds a stage by its AS name.
func (df *dockerfile) stageNamed(name string) *stage {
	for _, s := range df.stages {
		if s.name == name {
			return s
		}
	}
	return nil
}

// final is the stage docker build produces without --target.
func (df *dockerfile) final() *stage { return df.stages[len(df.stages)-1] }

// all returns the stage's instructions of one kind.
func (s *stage) all(cmd string) []instruction {
	var out []instruction
	for _, in := range s.instrs {
		if in.cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

// index is the position of the first instruction that satisfies ok, or -1.
func (s *stage) index(ok func(instruction) bool) int {
	return slices.IndexFunc(s.instrs, ok)
}

// flag returns the value of --name=value, and whether it is there.
func (in instruction) flag(name string) (string, bool) {
	for _, f := range in.flags {
		if v, ok := strings.CutPrefix(f, "--"+name+"="); ok {
			return v, true
		}
	}
	return "", false
}

// list reads arguments in exec form (a JSON array) or shell form (words).
func (in instruction) list() ([]string, error) {
	if strings.HasPrefix(in.args, "[") {
		var out []string
		if err := json.Unmarshal([]byte(in.args), &out); err != nil {
			return nil, fmt.Errorf("line %d: %s %s: %v", in.line, in.cmd, in.args, err)
		}
		return out, nil
	}
	return shellWords(in.args, func(string) string { return "" })
}

// keyValues reads ENV and ARG arguments: KEY=value pairs (values may be
// quoted), or ENV's old form KEY value. ARG without a default maps to "".
func (in instruction) keyValues() (map[string]string, error) {
	words, err := shellWords(in.args, nil)
	if err != nil {
		return nil, fmt.Errorf("line %d: %w", in.line, err)
	}
	out := map[string]string{}
	if len(words) > 0 && !strings.Contains(words[0], "=") && in.cmd == "ENV" {
		out[words[0]] = strings.Join(words[1:], " ")
		return out, nil
	}
	for _, w := range words {
		k, v, _ := strings.Cut(w, "=")
		out[k] = v
	}
	return out, nil
}

// env collects a stage's ENV values, later ones winning.
func (s *stage) env(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, in := range s.all("ENV") {
		kv, err := in.keyValues()
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range kv {
			out[k] = v
		}
	}
	return out
}

// shellWords splits a POSIX shell command line into words, with single and
// double quotes and backslashes, as far as Dockerfiles use them. Unquoted
// &&, || and ; become words of their own. lookup expands $NAME and ${NAME}
// outside single quotes; with a nil lookup, $ is kept as written.
func shellWords(s string, lookup func(string) string) ([]string, error) {
	var (
		words []string
		cur   strings.Builder
		inTok bool
	)
	end := func() {
		if inTok {
			words = append(words, cur.String())
			cur.Reset()
			inTok = false
		}
	}
	expand := func(i int) int { // s[i] == '$'; returns the index after the name
		if lookup == nil {
			cur.WriteByte('$')
			return i + 1
		}
		j := i + 1
		if j < len(s) && s[j] == '{' {
			k := strings.IndexByte(s[j:], '}')
			if k < 0 {
				cur.WriteByte('$')
				return i + 1
			}
			cur.WriteString(lookup(s[j+1 : j+k]))
			return j + k + 1
		}
		k := j
		for k < len(s) && (s[k] == '_' || s[k] >= 'A' && s[k] <= 'Z' || s[k] >= 'a' && s[k] <= 'z' || k > j && s[k] >= '0' && s[k] <= '9') {
			k++
		}
		if k == j {
			cur.WriteByte('$')
			return j
		}
		cur.WriteString(lookup(s[j:k]))
		return k
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			end()
			i++
		case c == '\'':
			inTok = true
			k := strings.IndexByte(s[i+1:], '\'')
			if k < 0 {
				return nil, fmt.Errorf("unterminated ' in %q", s)
			}
			cur.WriteString(s[i+1 : i+1+k])
			i += k + 2
		case c == '"':
			inTok = true
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				switch {
				case s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`", s[i+1]) >= 0:
					i++
					cur.WriteByte(s[i])
				case s[i] == '$':
					i = expand(i) - 1
				default:
					cur.WriteByte(s[i])
				}
			}
			if i >= len(s) {
				return nil, fmt.Errorf("unterminated \" in %q", s)
			}
			i++
		case c == '\\' && i+1 < len(s):
			inTok = true
			cur.WriteByte(s[i+1])
			i += 2
		case c == '$':
			inTok = true
			i = expand(i)
		case strings.HasPrefix(s[i:], "&&") || strings.HasPrefix(s[i:], "||"):
			end()
			words = append(words, s[i:i+2])
			i += 2
		case c == ';':
			end()
			words = append(words, ";")
			i++
		default:
			inTok = true
			cur.WriteByte(c)
			i++
		}
	}
	end()
	return words, nil
}

// commands splits a RUN's shell words at &&, || and ;.
func commands(words []string) [][]string {
	var out [][]string
	var cur []string
	for _, w := range words {
		if w == "&&" || w == "||" || w == ";" {
			out = append(out, cur)
			cur = nil
			continue
		}
		cur = append(cur, w)
	}
	return append(out, cur)
}

func readDockerfile(t *testing.T) *dockerfile {
	t.Helper()
	raw, err := os.ReadFile(repoPath(t, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	df, err := parseDockerfile(string(raw))
	if err != nil {
		t.Fatalf("Dockerfile: %v", err)
	}
	if len(df.stages) == 0 {
		t.Fatal("Dockerfile: no FROM")
	}
	return df
}

func TestParseDockerfile(t *testing.T) {
	df, err := parseDockerfile(`# syntax=docker/dockerfile:1
ARG GO=1.26
FROM golang:${GO} AS build
RUN a \
    # a comment inside the continuation
    && b
COPY --from=build --chmod=0755 /out/x /usr/bin/x

from debian
ENV A=1 B="two words" \
    C=3
ENV OLD form value
ENTRYPOINT ["/bin/x", "serve"]
`)
	if err != nil {
		t.Fatal(err)
	}
	if len(df.globalArgs) != 1 || len(df.stages) != 2 {
		t.Fatalf("got %d global ARGs and %d stages, want 1 and 2", len(df.globalArgs), len(df.stages))
	}
	build, final := df.stages[0], df.stages[1]
	if build.name != "build" || build.base != "golang:${GO}" || final.name != "" || final.base != "debian" {
		t.Errorf("stages: %+v %+v", build, final)
	}
	if got := build.instrs[0]; got.cmd != "RUN" || strings.Join(strings.Fields(got.args), " ") != "a && b" || got.line != 4 {
		t.Errorf("RUN with a continuation and a comment: %+v", got)
	}
	if from, _ := build.instrs[1].flag("from"); from != "build" || build.instrs[1].args != "/out/x /usr/bin/x" {
		t.Errorf("COPY flags: %+v", build.instrs[1])
	}
	env := final.env(t)
	if env["A"] != "1" || env["B"] != "two words" || env["C"] != "3" || env["OLD"] != "form value" {
		t.Errorf("ENV: %v", env)
	}
	if l, err := final.all("ENTRYPOINT")[0].list(); err != nil || !slices.Equal(l, []string{"/bin/x", "serve"}) {
		t.Errorf("ENTRYPOINT: %q, %v", l, err)
	}
	if _, err := parseDockerfile("FROM a\nRUN x \\\n"); err == nil {
		t.Error("a trailing continuation parsed")
	}
}

func TestShellWords(t *testing.T) {
	vars := map[string]string{"V": "1.2", "EMPTY": ""}
	lookup := func(k string) string { return vars[k] }
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{`go build -ldflags="-s -w -X main.version=${VERSION}" -o /out/x ./cmd/x`, []string{"go", "build", "-ldflags=-s -w -X main.version=", "-o", "/out/x", "./cmd/x"}},
		{`echo "$V" '$V' \$V ${V}x $EMPTY.`, []string{"echo", "1.2", "$V", "$V", "1.2x", "."}},
		{`a&&b || c; d`, []string{"a", "&&", "b", "||", "c", ";", "d"}},
		{`x "" y`, []string{"x", "", "y"}},
	} {
		got, err := shellWords(tc.in, lookup)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("shellWords(%s) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if _, err := shellWords(`echo "open`, lookup); err == nil {
		t.Error("an unterminated quote split")
	}
}

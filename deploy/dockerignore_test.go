package deploy_test

import (
	"bufio"
	"fmt"
	"os"
	"path"
	"regexp"
	"strings"
	"testing"
)

// dockerignore holds .dockerignore's patterns with the semantics of
// Docker's matcher (github.com/moby/patternmatcher): patterns are cleaned
// paths relative to the context's root, a leading / is dropped, * and ?
// do not cross /, ** matches any number of directories, a pattern that
// matches a directory excludes everything under it, ! re-includes, and
// the last pattern that matches a path decides.
type dockerignore struct {
	patterns []ignorePattern
}

type ignorePattern struct {
	text    string // as written, for messages
	exclude bool   // false for !pattern
	re      *regexp.Regexp
}

func parseDockerignore(text string) (*dockerignore, error) {
	var di dockerignore
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		p := ignorePattern{text: line, exclude: true}
		if rest, ok := strings.CutPrefix(line, "!"); ok {
			p.exclude = false
			line = strings.TrimSpace(rest)
		}
		line = path.Clean(strings.TrimPrefix(line, "/"))
		if line == "." || line == "" {
			continue
		}
		re, err := ignoreRegexp(line)
		if err != nil {
			return nil, fmt.Errorf(".dockerignore: %s: %w", p.text, err)
		}
		p.re = re
		di.patterns = append(di.patterns, p)
	}
	return &di, sc.Err()
}

// ignoreRegexp translates a pattern as patternmatcher does.
func ignoreRegexp(p string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '*' && i+1 < len(p) && p[i+1] == '*':
			i++
			if i+1 < len(p) && p[i+1] == '/' {
				i++ // **/ is **
			}
			if i+1 >= len(p) {
				b.WriteString(".*")
			} else {
				b.WriteString("(.*/)?")
			}
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		case c == '[':
			k := strings.IndexByte(p[i:], ']')
			if k < 0 {
				return nil, fmt.Errorf("unterminated [")
			}
			b.WriteString(p[i : i+k+1])
			i += k
		case c == '\\' && i+1 < len(p):
			i++
			b.WriteString(regexp.QuoteMeta(p[i : i+1]))
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

// excluded reports whether the file (a slash-separated path relative to
// the context's root) stays out of the build context, and the pattern
// that decides it.
func (di *dockerignore) excluded(file string) (bool, string) {
	file = path.Clean(file)
	var parents []string
	for dir := path.Dir(file); dir != "."; dir = path.Dir(dir) {
		parents = append(parents, dir)
	}
	excluded, by := false, ""
	for _, p := range di.patterns {
		match := p.re.MatchString(file)
		for _, dir := range parents {
			if match {
				break
			}
			match = p.re.MatchString(dir)
		}
		if match {
			excluded, by = p.exclude, p.text
		}
	}
	return excluded, by
}

// hasExceptions reports whether any pattern re-includes: only then may a
// walk not skip an excluded directory whole.
func (di *dockerignore) hasExceptions() bool {
	for _, p := range di.patterns {
		if !p.exclude {
			return true
		}
	}
	return false
}

func readDockerignore(t *testing.T) *dockerignore {
	t.Helper()
	raw, err := os.ReadFile(repoPath(t, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	di, err := parseDockerignore(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	return di
}

func TestDockerignoreMatcher(t *testing.T) {
	di, err := parseDockerignore(`
# comment
/bin
*.md
**/*.test
**/testdata
docs/**
a?c
!keep.md
`)
	if err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]bool{
		"bin":                       true,
		"bin/stagegate":             true, // under an excluded directory
		"cmd/bin/x.go":              false,
		"README.md":                 true,
		"app/README.md":             false, // * does not cross /
		"keep.md":                   false, // re-included
		"engine.test":               true,  // **/ matches no directory too
		"app/store/store.test":      true,
		"internal/x/testdata/a.txt": true,
		"docs/a/b":                  true,
		"docs":                      false, // docs/** needs something under docs
		"abc":                       true,
		"abbc":                      false,
	} {
		if got, by := di.excluded(file); got != want {
			t.Errorf("excluded(%s) = %v (by %q), want %v", file, got, by, want)
		}
	}
}

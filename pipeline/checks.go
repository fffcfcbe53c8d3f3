package pipeline

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/bmatcuk/doublestar/v4"
)

// These checks are written by hand rather than with regular expressions;
// the patterns below say the same for the JSON Schema, and a test keeps
// each pair in agreement.
const (
	namePattern     = `^[A-Za-z0-9][A-Za-z0-9_.-]*$`
	envNamePattern  = `^[A-Za-z_][A-Za-z0-9_]*$`
	reservedPattern = `^STAGEGATE_`
	deployerPattern = `^(?:[A-Za-z0-9][A-Za-z0-9-]{0,38}|@[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9][A-Za-z0-9_.-]*)$`
	// durationPattern is Go's duration syntax without a sign, since only
	// positive durations are allowed.
	durationPattern = `^(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:ns|us|µs|μs|ms|s|m|h))+$`
	// controlPattern matches what unicode.IsControl reports.
	controlPattern = `[\x00-\x1F\x7F-\x9F]`
	// escapePattern matches a path that is absolute or has a ".."
	// element, after an optional "!".
	escapePattern = `^!?/|(?:^!?|/)\.\.(?:/|$)`
)

const (
	maxNameLen        = 64
	maxEnvironmentLen = 255
	maxTimeout        = 72 * time.Hour
	reservedPrefix    = "STAGEGATE_"
	outputPrefix      = "STAGEGATE_OUTPUT_"
)

func isAlnum(r rune) bool {
	return r < unicode.MaxASCII && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
}

// checkName checks a stage or action name, which becomes part of a check
// run name and of environment variable names.
func checkName(s string) string {
	switch {
	case s == "":
		return "must not be empty"
	case len(s) > maxNameLen:
		return fmt.Sprintf("is longer than %d characters", maxNameLen)
	}
	for i, r := range s {
		if !isAlnum(r) && (i == 0 || !strings.ContainsRune("_.-", r)) {
			return "may hold only letters, digits, _ . and -, and must start with a letter or digit"
		}
	}
	return ""
}

// envForm is a stage name as it appears in output variables:
// STAGEGATE_OUTPUT_<STAGE>_<KEY>.
func envForm(name string) string {
	return strings.Map(func(r rune) rune {
		if isAlnum(r) {
			return unicode.ToUpper(r)
		}
		return '_'
	}, name)
}

func validEnvName(s string) bool {
	for i, r := range s {
		if !isAlnum(r) && r != '_' || i == 0 && r >= '0' && r <= '9' {
			return false
		}
	}
	return s != ""
}

// checkEnvName checks the name of a variable that actions will see.
func checkEnvName(s string) string {
	switch {
	case !validEnvName(s):
		return "is not a valid environment variable name (letters, digits and _, not starting with a digit)"
	case strings.HasPrefix(s, reservedPrefix):
		return "is reserved: names starting with " + reservedPrefix + " are set by stagegate"
	}
	return ""
}

// validDeployer reports whether s is a GitHub login or an @org/team.
func validDeployer(s string) bool {
	validLogin := func(s string) bool {
		if s == "" || len(s) > 39 || s[0] == '-' {
			return false
		}
		for _, r := range s {
			if !isAlnum(r) && r != '-' {
				return false
			}
		}
		return true
	}
	team, isTeam := strings.CutPrefix(s, "@")
	if !isTeam {
		return validLogin(s)
	}
	org, slug, ok := strings.Cut(team, "/")
	return ok && validLogin(org) && validSlug(slug)
}

// validSlug is a team slug: like a name but with no length limit.
func validSlug(s string) bool {
	for i, r := range s {
		if !isAlnum(r) && (i == 0 || !strings.ContainsRune("_.-", r)) {
			return false
		}
	}
	return s != ""
}

func checkEnvironment(s string) string {
	switch {
	case s == "":
		return "must not be empty"
	case len(s) > maxEnvironmentLen:
		return fmt.Sprintf("is longer than %d characters", maxEnvironmentLen)
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return "must not contain control characters"
	}
	return ""
}

// checkDuration parses a timeout.
func checkDuration(s string) (time.Duration, string) {
	d, err := time.ParseDuration(s)
	switch {
	case err != nil || strings.HasPrefix(s, "+"):
		return 0, "it is not a duration such as 90s, 15m or 1h30m"
	case d <= 0:
		return 0, "it must be positive"
	case d > maxTimeout:
		return 0, "it must be at most " + strings.TrimSuffix(maxTimeout.String(), "0m0s")
	}
	return d, ""
}

// checkGlob checks a doublestar glob with an optional leading "!".
func checkGlob(g string) string {
	pat := strings.TrimPrefix(g, "!")
	switch {
	case g == "":
		return "must not be empty"
	case pat == "":
		return `has nothing after "!"`
	case !doublestar.ValidatePattern(pat):
		return "is not a valid glob pattern"
	}
	return ""
}

// checkInWorkspace checks a path or glob that names files in the
// workspace: relative, and with no ".." that could leave it. A ".."
// that would stay inside is refused too; it is never needed.
func checkInWorkspace(p string) string {
	p = strings.TrimPrefix(p, "!")
	if strings.HasPrefix(p, "/") {
		return "must be relative to the workspace, not absolute"
	}
	for _, elem := range strings.Split(p, "/") {
		if elem == ".." {
			return `must not contain ".." (it could leave the workspace)`
		}
	}
	return ""
}

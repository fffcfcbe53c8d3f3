package githubtest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
)

// gitEnv is the environment for every git the server runs: the caller's
// environment without GIT_* variables (a test may itself run under a git
// hook), no system or global config, a fixed identity and C locale.
func gitEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "GIT_") || strings.HasPrefix(kv, "LANG=") || strings.HasPrefix(kv, "LC_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL="+os.DevNull,
		"GIT_TERMINAL_PROMPT=0",
		"LC_ALL=C",
	)
}

// gitErr carries git's exit status and stderr.
type gitErr struct {
	args   []string
	code   int
	stderr string
}

func (e *gitErr) Error() string {
	return fmt.Sprintf("git %s: exit %d: %s", strings.Join(e.args, " "), e.code, strings.TrimSpace(e.stderr))
}

// git runs git against the bare repository at dir ("" for none) and
// returns stdout.
func (s *Server) git(dir string, stdin []byte, args ...string) ([]byte, error) {
	full := args
	if dir != "" {
		full = append([]string{"--git-dir=" + dir}, args...)
	}
	cmd := exec.Command(s.gitBin, full...)
	cmd.Env = gitEnv()
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		code := -1
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		return out.Bytes(), &gitErr{args: args, code: code, stderr: errb.String()}
	}
	return out.Bytes(), nil
}

var (
	shaRE = regexp.MustCompile(`^[0-9a-f]{40}$`)
	// refRE is what the fake accepts as a ref from a URL: no option-like
	// leading dash, no revision syntax (^ ~ : ..), no control characters.
	refRE = regexp.MustCompile(`^[A-Za-z0-9_./+@-]+$`)
)

// resolveCommit resolves a branch, tag, full ref or (possibly short) sha to
// a full commit sha; ok is false when nothing matches.
func (r *Repo) resolveCommit(ref string) (string, bool) {
	if ref == "" || strings.HasPrefix(ref, "-") || strings.Contains(ref, "..") || !refRE.MatchString(ref) {
		return "", false
	}
	// A full sha must name a commit itself: GitHub answers "No commit
	// found" for the sha of an annotated tag object, though it peels a
	// tag's name to its commit. (A push of an annotated tag carries the
	// tag object's sha in "after"; the commit is head_commit.id.)
	if shaRE.MatchString(ref) && !r.hasCommit(ref) {
		return "", false
	}
	out, err := r.s.git(r.dir, nil, "rev-parse", "--verify", "--quiet", ref+"^{commit}")
	if err != nil {
		return "", false
	}
	return strings.TrimSpace(string(out)), true
}

// hasCommit reports whether sha (40 hex) names a commit in the repository.
func (r *Repo) hasCommit(sha string) bool {
	if !shaRE.MatchString(sha) {
		return false
	}
	out, err := r.s.git(r.dir, nil, "cat-file", "-t", sha)
	return err == nil && strings.TrimSpace(string(out)) == "commit"
}

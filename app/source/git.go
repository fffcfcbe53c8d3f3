package source

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"time"
)

// git runs git commands in one directory with a fixed environment.
type git struct {
	dir string
	env []string
	// secrets are scrubbed from git's output before it goes into errors.
	secrets []string
}

// outputLimit bounds what is kept of git's stdout and stderr: enough for
// rev-parse and for the end of an error message, whatever git prints.
const outputLimit = 16 << 10

// waitDelay bounds how long Wait waits for git's output pipes after git
// exits or is killed, in case a stray descendant still holds them.
const waitDelay = 5 * time.Second

func (g *git) run(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = g.dir
	cmd.Env = g.env
	stdout, stderr := &tailBuffer{max: outputLimit}, &tailBuffer{max: outputLimit}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.WaitDelay = waitDelay
	killGroupOnCancel(cmd)
	err := cmd.Run()
	if err == nil {
		return stdout.String(), nil
	}
	if ctx.Err() != nil {
		return "", fmt.Errorf("source: git %s: %w", args[0], ctx.Err())
	}
	msg := scrub(strings.TrimSpace(stderr.String()), g.secrets)
	if kind := classify(msg); kind != nil {
		return "", fmt.Errorf("source: git %s: %w (%w): %s", args[0], kind, err, msg)
	}
	return "", fmt.Errorf("source: git %s: %w: %s", args[0], err, msg)
}

// baseEnv is git's whole environment: nothing else of this process's
// environment is passed, so no GIT_* variable, credential helper or
// askpass program of the host applies. With HOME an empty directory and
// GIT_CONFIG_NOSYSTEM, git reads no configuration but the repository's.
func baseEnv(home string) []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"GIT_CONFIG_NOSYSTEM=1",
		// Never wait for a password on a terminal: a refused token
		// must fail, not hang.
		"GIT_TERMINAL_PROMPT=0",
		// English messages, which classify reads.
		"LC_ALL=C",
	}
	// Proxies and CA bundles are how this machine reaches GitHub at all;
	// they are not git configuration.
	for _, k := range []string{"https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "no_proxy", "NO_PROXY", "SSL_CERT_FILE", "SSL_CERT_DIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// authEnv gives git the token as configuration held only in its
// environment: an Authorization header, as GitHub's git endpoint wants
// it (Basic, user x-access-token). The header is scoped to the clone
// URL's scheme and host (http.<url>.extraHeader), so a redirect to
// another host does not receive it. The environment of a process is
// readable only by its user and root, unlike its argv.
func authEnv(cloneURL, token string) []string {
	u, _ := url.Parse(cloneURL) // validated by the caller
	scope := u.Scheme + "://" + u.Host + "/"
	return []string{
		"GIT_CONFIG_COUNT=1",
		"GIT_CONFIG_KEY_0=http." + scope + ".extraHeader",
		"GIT_CONFIG_VALUE_0=Authorization: Basic " + basicCredential(token),
	}
}

func basicCredential(token string) string {
	return base64.StdEncoding.EncodeToString([]byte("x-access-token:" + token))
}

// secrets are the forms in which the token could show up in git's output.
func secrets(token string) []string {
	return []string{token, basicCredential(token)}
}

// scrub removes secrets from git's output, and any line that speaks of
// an Authorization header whatever it holds (e.g. under GIT_TRACE_CURL).
func scrub(s string, secrets []string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if strings.Contains(strings.ToLower(l), "authorization") {
			lines[i] = "[redacted]"
		}
	}
	return strings.Join(lines, "\n")
}

// classify maps git's messages (under LC_ALL=C, for GitHub and git
// http-backend) to the package's errors, or nil.
func classify(stderr string) error {
	s := strings.ToLower(stderr)
	has := func(subs ...string) bool {
		for _, sub := range subs {
			if strings.Contains(s, sub) {
				return true
			}
		}
		return false
	}
	switch {
	case has("terminal prompts disabled", "authentication failed", "invalid username or token",
		"returned error: 401", "returned error: 403", "permission to"):
		return ErrAuthentication
	case has("repository not found", "returned error: 404", "does not appear to be a git repository"):
		return ErrRepositoryNotFound
	case has("not our ref", "couldn't find remote ref", "unadvertised object", "no such remote ref",
		"upload-pack: not our"):
		return ErrCommitNotFound
	}
	return nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if over := len(t.b) - t.max; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(t.b) }

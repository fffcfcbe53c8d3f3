package engine

import (
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
)

// maxOutputFile bounds what is read of an action's output file: outputs
// end up in the environment of later actions, where the kernel limits the
// total size, and in the run's result.
const maxOutputFile = 1 << 20

// errNotRegularOutput is the warning for an output file that is a link, a
// FIFO or anything but a regular file.
const errNotRegularOutput = "the output file is not a regular file (a link?); its outputs are ignored"

var outputKeyRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// readOutputs reads the output file an attempt wrote to $STAGEGATE_OUTPUT.
// A missing file is no outputs. Problems in the file's content are
// returned as warnings for the log rather than failing the action: a
// typo in an output should not undo a deploy that already happened.
//
// The engine reads the file with its own rights, outside any sandbox the
// action ran in, so it reads only a regular file the action made, never
// what a link or a FIFO there would lead to (the App's credentials, its
// /proc/self/environ).
func readOutputs(path string) (map[string]string, []string, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|noFollow, 0)
	if os.IsNotExist(err) {
		return nil, nil, nil
	}
	if err != nil {
		if st, lerr := os.Lstat(path); lerr == nil && !st.Mode().IsRegular() {
			return nil, []string{errNotRegularOutput}, nil
		}
		return nil, nil, fmt.Errorf("open output file: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return nil, []string{errNotRegularOutput}, nil
	}
	data, err := io.ReadAll(io.LimitReader(f, maxOutputFile+1))
	if err != nil {
		return nil, nil, fmt.Errorf("read output file: %w", err)
	}
	var warnings []string
	if len(data) > maxOutputFile {
		data = data[:maxOutputFile]
		warnings = append(warnings, fmt.Sprintf("output file is larger than %d bytes; the rest is ignored", maxOutputFile))
	}
	outs, w := parseOutputs(data)
	return outs, append(warnings, w...), nil
}

// parseOutputs parses GitHub Actions' $GITHUB_OUTPUT format: KEY=value
// lines, and KEY<<DELIM lines that start a block of lines ending at a line
// that is exactly DELIM. Warnings name line numbers, not values; they are
// masked like every log line anyway.
func parseOutputs(data []byte) (map[string]string, []string) {
	outs := map[string]string{}
	var warnings []string
	warn := func(n int, format string, args ...any) {
		warnings = append(warnings, fmt.Sprintf("output file line %d: ", n)+fmt.Sprintf(format, args...))
	}
	lines := strings.Split(string(data), "\n")
	if len(data) > 0 && data[len(data)-1] == '\n' {
		lines = lines[:len(lines)-1]
	}
	n := 0
	next := func() (string, bool) {
		if n == len(lines) {
			return "", false
		}
		n++
		return strings.TrimSuffix(lines[n-1], "\r"), true
	}
	for {
		line, ok := next()
		if !ok {
			break
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		eq := strings.Index(line, "=")
		hd := strings.Index(line, "<<")
		if hd >= 0 && (eq < 0 || hd < eq) {
			key, delim := line[:hd], line[hd+2:]
			start := n
			var body []string
			closed := false
			for {
				l, ok := next()
				if !ok {
					break
				}
				if l == delim {
					closed = true
					break
				}
				body = append(body, l)
			}
			switch {
			case delim == "":
				warn(start, "a block needs a delimiter after <<; ignored")
			case !closed:
				warn(start, "block %s is not closed by its delimiter; ignored", safeKey(key))
			case !outputKeyRE.MatchString(key):
				warn(start, "invalid output name %s; ignored", safeKey(key))
			default:
				outs[key] = strings.Join(body, "\n")
			}
			continue
		}
		if eq < 0 {
			warn(n, "not KEY=value nor KEY<<DELIMITER; ignored")
			continue
		}
		key := line[:eq]
		if !outputKeyRE.MatchString(key) {
			warn(n, "invalid output name %s; ignored", safeKey(key))
			continue
		}
		outs[key] = line[eq+1:]
	}
	return outs, warnings
}

// safeKey quotes a would-be output name for a warning, shortened: the text
// before = is a name, but a malformed line may have put anything there.
func safeKey(k string) string {
	if len(k) > 40 {
		k = k[:40] + "…"
	}
	return fmt.Sprintf("%q", k)
}

//go:build unix

package codebuildfake

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/goccy/go-yaml"
)

var (
	errStopped  = errors.New("build stopped")
	errTimedOut = errors.New("build timed out")
)

// phases in CodeBuild's order
// (https://docs.aws.amazon.com/codebuild/latest/userguide/view-build-details.html#view-build-details-phases).
var phaseOrder = []string{"SUBMITTED", "QUEUED", "PROVISIONING", "DOWNLOAD_SOURCE", "INSTALL", "PRE_BUILD", "BUILD", "POST_BUILD", "UPLOAD_ARTIFACTS", "FINALIZING"}

type phaseContext struct {
	StatusCode string `json:"statusCode"`
	Message    string `json:"message"`
}

type phase struct {
	typ, status string
	start, end  time.Time
	contexts    []phaseContext
}

type build struct {
	id, project   string
	number        int
	start, end    time.Time
	status        string
	complete      bool
	phases        []*phase
	exported      [][2]string
	group, stream string
	req           startRequest
	cancel        context.CancelCauseFunc
	failPhase     map[string]string
	pending       []Event
}

// json is the build as BatchGetBuilds answers; the caller holds f.mu.
func (b *build) json() map[string]any {
	var phases []map[string]any
	for _, p := range b.phases {
		m := map[string]any{"phaseType": p.typ, "startTime": epoch(p.start)}
		if p.status != "" {
			m["phaseStatus"] = p.status
			m["endTime"] = epoch(p.end)
			m["durationInSeconds"] = int64(p.end.Sub(p.start).Seconds())
		}
		if len(p.contexts) > 0 {
			m["contexts"] = p.contexts
		}
		phases = append(phases, m)
	}
	current := "COMPLETED"
	if !b.complete && len(b.phases) > 0 {
		current = b.phases[len(b.phases)-1].typ
	}
	var exported []map[string]string
	for _, kv := range b.exported {
		exported = append(exported, map[string]string{"name": kv[0], "value": kv[1]})
	}
	out := map[string]any{
		"id": b.id, "arn": "arn:aws:codebuild:us-east-1:123456789012:build/" + b.id,
		"buildNumber": b.number, "projectName": b.project,
		"startTime": epoch(b.start), "currentPhase": current, "buildStatus": b.status,
		"buildComplete": b.complete, "phases": phases,
		"logs":                         map[string]any{"groupName": b.group, "streamName": b.stream},
		"exportedEnvironmentVariables": exported,
	}
	if b.complete {
		out["endTime"] = epoch(b.end)
	}
	return out
}

// execute runs the build's phases. Its context ends on StopBuild or on
// the fake's build timeout.
func (f *Fake) execute(ctx context.Context, b *build) {
	work, err := os.MkdirTemp("", "codebuildfake-*")
	if err != nil {
		f.tb.Errorf("codebuildfake: %v", err)
		return
	}
	defer os.RemoveAll(work)
	src := filepath.Join(work, "src")
	flushDone := make(chan struct{})
	stopFlush := make(chan struct{})
	go func() {
		defer close(flushDone)
		t := time.NewTicker(f.Flush)
		defer t.Stop()
		for {
			select {
			case <-stopFlush:
				return
			case <-t.C:
				f.flush(b)
			}
		}
	}()
	var env []string
	failed := false
	for _, name := range phaseOrder {
		if failed && name != "UPLOAD_ARTIFACTS" && name != "FINALIZING" && name != "POST_BUILD" {
			continue
		}
		f.enter(b, name)
		var st, code, msg string
		if m, ok := b.failPhase[name]; ok {
			st, code, msg = "FAILED", "CLIENT_ERROR", m
		} else if ctx.Err() == nil {
			switch name {
			case "PROVISIONING":
				env, err = f.resolveEnv(ctx, b)
			case "DOWNLOAD_SOURCE":
				err = f.downloadSource(ctx, b, src)
			case "BUILD":
				err = f.runCommands(ctx, b, src, work, env)
			case "UPLOAD_ARTIFACTS":
				err = f.uploadArtifacts(ctx, b, src)
			}
			if err != nil {
				st, code, msg = "FAILED", "CLIENT_ERROR", err.Error()
				var ce *commandError
				if errors.As(err, &ce) {
					code = "COMMAND_EXECUTION_ERROR"
				}
			}
		}
		switch cause := context.Cause(ctx); {
		case errors.Is(cause, errStopped):
			st, code, msg = "STOPPED", "", ""
		case errors.Is(cause, errTimedOut):
			st, code, msg = "TIMED_OUT", "BUILD_TIMED_OUT", "Build has timed out."
		}
		f.leave(b, st, code, msg)
		if st != "" {
			f.mu.Lock()
			if b.status == "IN_PROGRESS" {
				b.status = st
			}
			f.mu.Unlock()
			if st != "FAILED" {
				break
			}
			failed = true
		}
	}
	close(stopFlush)
	<-flushDone
	f.flush(b)
	f.mu.Lock()
	defer f.mu.Unlock()
	if b.status == "IN_PROGRESS" {
		b.status = "SUCCEEDED"
	}
	b.end, b.complete = time.Now(), true
}

// enter starts a phase and logs it as CodeBuild's agent does.
func (f *Fake) enter(b *build, name string) {
	f.mu.Lock()
	b.phases = append(b.phases, &phase{typ: name, start: time.Now()})
	f.mu.Unlock()
	f.logLine(b, fmt.Sprintf("[Container] %s Entering phase %s", time.Now().UTC().Format("2006/01/02 15:04:05.000000"), name))
}

// leave ends the current phase with status st, SUCCEEDED when empty.
func (f *Fake) leave(b *build, st, code, msg string) {
	if st == "" {
		st = "SUCCEEDED"
	}
	f.mu.Lock()
	p := b.phases[len(b.phases)-1]
	p.status, p.end = st, time.Now()
	if code != "" || msg != "" {
		p.contexts = append(p.contexts, phaseContext{StatusCode: code, Message: msg})
	}
	f.mu.Unlock()
	f.logLine(b, fmt.Sprintf("[Container] %s Phase complete: %s State: %s", time.Now().UTC().Format("2006/01/02 15:04:05.000000"), p.typ, st))
}

// resolveEnv is the build's environment: CodeBuild's own variables, the
// buildspec's, and the overrides, PARAMETER_STORE ones read from SSM,
// SECRETS_MANAGER ones from Secrets Manager.
func (f *Fake) resolveEnv(ctx context.Context, b *build) ([]string, error) {
	env := []string{"PATH=" + os.Getenv("PATH"), "CODEBUILD_BUILD_ID=" + b.id, "CODEBUILD_BUILD_NUMBER=" + strconv.Itoa(b.number), "LANG=C.UTF-8"}
	if spec, err := parseBuildspec(b.req.BuildspecOverride); err == nil {
		for k, v := range spec.Env.Variables {
			env = append(env, k+"="+v)
		}
	}
	client := ssm.NewFromConfig(f.aws)
	for _, v := range b.req.EnvironmentVariablesOverride {
		switch v.Type {
		case "PARAMETER_STORE":
			out, err := client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(v.Value), WithDecryption: aws.Bool(true)})
			if err != nil {
				return nil, fmt.Errorf("unable to retrieve parameter %s for environment variable %s: %w", v.Value, v.Name, err)
			}
			env = append(env, v.Name+"="+aws.ToString(out.Parameter.Value))
		case "SECRETS_MANAGER":
			val, err := f.secretValue(ctx, v.Value)
			if err != nil {
				return nil, fmt.Errorf("unable to retrieve secret %s for environment variable %s: %w", v.Value, v.Name, err)
			}
			env = append(env, v.Name+"="+val)
		default:
			env = append(env, v.Name+"="+v.Value)
		}
	}
	return env, nil
}

type buildspecFile struct {
	Version string `yaml:"version"`
	Env     struct {
		Shell             string            `yaml:"shell"`
		Variables         map[string]string `yaml:"variables"`
		ExportedVariables []string          `yaml:"exported-variables"`
	} `yaml:"env"`
	Phases map[string]struct {
		Commands []string `yaml:"commands"`
	} `yaml:"phases"`
	Artifacts struct {
		Files          []string `yaml:"files"`
		BaseDirectory  string   `yaml:"base-directory"`
		EnableSymlinks string   `yaml:"enable-symlinks"`
	} `yaml:"artifacts"`
}

func parseBuildspec(s string) (*buildspecFile, error) {
	var spec buildspecFile
	if err := yaml.Unmarshal([]byte(s), &spec); err != nil {
		return nil, fmt.Errorf("YAML_FILE_ERROR: %w", err)
	}
	if spec.Version != "0.2" {
		return nil, fmt.Errorf("YAML_FILE_ERROR: unsupported buildspec version %q", spec.Version)
	}
	return &spec, nil
}

type commandError struct{ msg string }

func (e *commandError) Error() string { return e.msg }

// runCommands runs the build phase's commands in one bash, as buildspec
// 0.2 does, in the source directory; a command that fails ends the phase
// with CodeBuild's message. The exported variables are read when bash
// exits.
func (f *Fake) runCommands(ctx context.Context, b *build, src, work string, env []string) error {
	spec, err := parseBuildspec(b.req.BuildspecOverride)
	if err != nil {
		return err
	}
	cmds := spec.Phases["build"].Commands
	exports, failed := filepath.Join(work, "exported"), filepath.Join(work, "failed")
	var script strings.Builder
	fmt.Fprintf(&script, "__sg_exports() { for __v in %s; do printf '%%s=%%s\\0' \"$__v\" \"${!__v}\"; done > %s; }\ntrap __sg_exports EXIT\ncd %s\n",
		strings.Join(spec.Env.ExportedVariables, " "), exports, src)
	for i, c := range cmds {
		file := filepath.Join(work, fmt.Sprintf("cmd-%d.sh", i))
		if err := os.WriteFile(file, []byte(c), 0o600); err != nil {
			return err
		}
		fmt.Fprintf(&script, ". %s; __st=$?; if [ $__st -ne 0 ]; then echo \"%d $__st\" > %s; exit $__st; fi\n", file, i, failed)
	}
	cmd := exec.CommandContext(ctx, "bash", "-c", script.String())
	cmd.Dir, cmd.Env = src, append(env, "CODEBUILD_SRC_DIR="+src, "HOME="+work)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	read := make(chan struct{})
	go func() {
		defer close(read)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			f.logLine(b, sc.Text())
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	runErr := cmd.Run()
	pw.Close()
	<-read
	if data, err := os.ReadFile(exports); err == nil {
		var kv [][2]string
		for item := range strings.SplitSeq(string(data), "\x00") {
			if k, v, ok := strings.Cut(item, "="); ok {
				kv = append(kv, [2]string{k, v})
			}
		}
		f.mu.Lock()
		b.exported = kv
		f.mu.Unlock()
	}
	if runErr == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if data, err := os.ReadFile(failed); err == nil {
		var i, st int
		if _, err := fmt.Sscanf(string(data), "%d %d", &i, &st); err == nil && i < len(cmds) {
			return &commandError{fmt.Sprintf("Error while executing command: %s. Reason: exit status %d", cmds[i], st)}
		}
	}
	return &commandError{"Error while executing commands: " + runErr.Error()}
}

// logLine queues a line of output as an event stamped now.
func (f *Fake) logLine(b *build, line string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b.pending = append(b.pending, Event{Timestamp: time.Now().UnixMilli(), Message: line + "\n"})
}

package engine

import (
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/stagegate/stagegate/pipeline"
)

// defaultPath is PATH when the host has none, so that sh still finds the
// usual tools.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// baseEnv is the part of an action's environment that is the same for the
// whole run: a few host variables, pass_env, secrets and the pipeline's
// env. It is built from named lookups only, never from the process's
// environment as a whole: the app's own process holds its private key and
// webhook secret, and nothing it does not name may reach an action.
//
// Untrusted code (WithholdSecrets) gets neither secrets nor pass_env: a
// fork's pipeline file could name any variable in pass_env.
//
// Secret values are registered with masks even when they are withheld, so
// that a value that reaches the logs some other way is still hidden.
func baseEnv(r *Run, lookup, secret func(string) (string, bool), tmpDir, home string, masks *masker) map[string]string {
	env := map[string]string{}
	path, ok := os.LookupEnv("PATH")
	if !ok || path == "" {
		path = defaultPath
	}
	env["PATH"] = path
	if home != "" {
		env["HOME"] = home
	} else if home, ok := os.LookupEnv("HOME"); ok {
		env["HOME"] = home
	}
	lang, ok := os.LookupEnv("LANG")
	if !ok || lang == "" {
		lang = "C.UTF-8"
	}
	env["LANG"] = lang
	env["TMPDIR"] = tmpDir
	env["CI"] = "true"

	p := r.Pipeline
	for _, name := range p.PassEnv {
		if v, ok := lookup(name); ok && !r.WithholdSecrets {
			env[name] = v
		}
	}
	for _, name := range p.Secrets {
		if v, ok := secret(name); ok {
			masks.add(v)
			if !r.WithholdSecrets {
				env[name] = v
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(r.Secrets)) {
		v := r.Secrets[name]
		masks.add(v)
		if !r.WithholdSecrets {
			env[name] = v
		}
	}
	maps.Copy(env, p.Env)
	return env
}

// stageOutputs are the outputs of one finished stage, exported to the
// actions that come after it.
type stageOutputs struct {
	stage   string
	outputs map[string]string
}

// actionEnv is the complete environment of one attempt, as KEY=value
// sorted by key so that the same run gets the same environment. Each
// layer overrides the ones before it, except that the STAGEGATE_*
// variables in sg always win: actions rely on them to find their output
// file and artifacts.
func actionEnv(base, stageEnv, actEnv map[string]string, outs []stageOutputs, sg map[string]string) []string {
	env := maps.Clone(base)
	maps.Copy(env, stageEnv)
	maps.Copy(env, actEnv)
	for _, so := range outs {
		prefix := "STAGEGATE_OUTPUT_" + envName(so.stage) + "_"
		// Sorted, so that keys differing only in case resolve the same
		// way every time.
		for _, k := range slices.Sorted(maps.Keys(so.outputs)) {
			env[prefix+envName(k)] = so.outputs[k]
		}
	}
	maps.Copy(env, sg)
	list := make([]string, 0, len(env))
	for _, k := range slices.Sorted(maps.Keys(env)) {
		// A name with = or NUL cannot be expressed in an environment;
		// passing it would set some other variable.
		if k == "" || strings.ContainsAny(k, "=\x00") {
			continue
		}
		list = append(list, k+"="+env[k])
	}
	return list
}

// envName makes a stage or output name usable in a variable name:
// upper-cased, with anything but ASCII letters and digits turned into _.
func envName(s string) string {
	b := []byte(strings.ToUpper(s))
	for i, c := range b {
		if !('A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			b[i] = '_'
		}
	}
	return string(b)
}

// attemptInfo identifies one attempt for its STAGEGATE_* variables.
type attemptInfo struct {
	stage      *pipeline.Stage
	action     string
	attempt    int
	outputFile string
}

// stagegateEnv is the STAGEGATE_* variables of an attempt. Every one is
// set, empty when it does not apply, so that scripts can test them
// without `set -u` failing.
func (rs *runState) stagegateEnv(a attemptInfo) map[string]string {
	ev := rs.run.Event
	pr := ""
	if ev.PR != 0 {
		pr = strconv.Itoa(ev.PR)
	}
	return map[string]string{
		"STAGEGATE":             "true",
		"STAGEGATE_RUN_ID":      rs.run.ID,
		"STAGEGATE_SHA":         ev.SHA,
		"STAGEGATE_BRANCH":      ev.Branch,
		"STAGEGATE_TAG":         ev.Tag,
		"STAGEGATE_BASE_BRANCH": ev.BaseBranch,
		"STAGEGATE_EVENT":       string(ev.Kind),
		"STAGEGATE_PR":          pr,
		"STAGEGATE_ACTOR":       ev.Actor,
		"STAGEGATE_STAGE":       a.stage.Name,
		"STAGEGATE_ACTION":      a.action,
		"STAGEGATE_ATTEMPT":     strconv.Itoa(a.attempt),
		"STAGEGATE_ENVIRONMENT": a.stage.Environment,
		"STAGEGATE_WORKSPACE":   rs.workspace,
		"STAGEGATE_OUTPUT":      a.outputFile,
		"STAGEGATE_ARTIFACTS":   rs.artifactDir,
	}
}

package codebuild

import (
	"fmt"
	"path"
	"strings"

	"github.com/goccy/go-yaml"
)

// outputsVar is the exported variable that carries the action's output
// file back, base64-encoded: exported-variables must be named in the
// buildspec, and the outputs' names are known only once the script ran.
const outputsVar = "STAGEGATE_OUTPUTS"

// buildspec is the subset of CodeBuild's buildspec syntax that stagegate
// writes (https://docs.aws.amazon.com/codebuild/latest/userguide/build-spec-ref.html).
type buildspec struct {
	Version   string        `yaml:"version"`
	Env       buildspecEnv  `yaml:"env"`
	Phases    phases        `yaml:"phases"`
	Artifacts artifactsSpec `yaml:"artifacts"`
}

type buildspecEnv struct {
	Shell             string   `yaml:"shell"`
	ExportedVariables []string `yaml:"exported-variables"`
}

type phases struct {
	Build phase `yaml:"build"`
}

type phase struct {
	Commands []string `yaml:"commands"`
}

type artifactsSpec struct {
	Files          []string `yaml:"files"`
	EnableSymlinks string   `yaml:"enable-symlinks"`
}

// shellQuote quotes s as one POSIX shell word.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// emptyVars are NAME= words setting variables to the empty string.
func emptyVars(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = n + "="
	}
	return out
}

// makeBuildspec is the buildspec of one action (empty names the
// variables set to the empty string; they are shell names): its script
// run as the local runner runs it (sh -e -c, in its dir of the workspace) with the
// STAGEGATE_* paths of the build's machine ($STAGEGATE_ARTIFACTS: the
// source's directory artifacts, moved out of the workspace), its output file exported, and
// the whole workspace as the build's artifact, so that what the script
// changed comes back. Version 0.2 runs a phase's commands in one shell,
// so the variables set by the first reach the others.
func makeBuildspec(script, dir, artifacts string, empty []string) (string, error) {
	cd := `"$CODEBUILD_SRC_DIR"`
	if dir != "" && dir != "." {
		cd += "/" + shellQuote(path.Clean(dir))
	}
	spec := buildspec{
		Version: "0.2",
		Env:     buildspecEnv{Shell: "bash", ExportedVariables: []string{outputsVar}},
		Phases: phases{Build: phase{Commands: []string{
			strings.Join(append([]string{`export STAGEGATE_WORKSPACE="$CODEBUILD_SRC_DIR" STAGEGATE_ARTIFACTS="$(mktemp -d)/artifacts" STAGEGATE_OUTPUT="$(mktemp)"`}, emptyVars(empty)...), " "),
			`mv "$CODEBUILD_SRC_DIR"/` + shellQuote(artifacts) + ` "$STAGEGATE_ARTIFACTS"`,
			"cd " + cd + " && sh -e -c " + shellQuote(script),
			outputsVar + `="$(base64 -w0 < "$STAGEGATE_OUTPUT")"; export ` + outputsVar,
		}}},
		Artifacts: artifactsSpec{Files: []string{"**/*"}, EnableSymlinks: "yes"},
	}
	b, err := yaml.MarshalWithOptions(spec, yaml.UseLiteralStyleIfMultiline(true))
	if err != nil {
		return "", fmt.Errorf("buildspec: %w", err)
	}
	return string(b), nil
}

package pipeline

import (
	"time"

	"github.com/expr-lang/expr/vm"
)

// DefaultFile is the name of the pipeline file at the root of a repository.
const DefaultFile = ".stagegate.yml"

// DefaultTimeout bounds an action that sets no timeout.
const DefaultTimeout = 60 * time.Minute

// Pipeline is a parsed and validated .stagegate.yml.
type Pipeline struct {
	// Name defaults to the repository's name.
	Name string `yaml:"name" json:"name,omitempty" jsonschema:"description=Pipeline name; defaults to the repository's name."`
	// On decides which events start a run. Nil means pushes to any branch
	// or tag, and pull requests to any base branch.
	On *Triggers `yaml:"on" json:"on,omitempty" jsonschema:"description=Events that start a run. Without it a run starts on every push and pull request."`
	// Mode decides what happens when runs for the same branch overlap.
	Mode Mode `yaml:"mode" json:"mode,omitempty" jsonschema:"enum=superseded,enum=queued,enum=parallel,default=superseded,description=How overlapping runs of one branch or pull request behave."`
	// Env is added to every action's environment.
	Env map[string]string `yaml:"env" json:"env,omitempty" jsonschema:"description=Environment variables for every action."`
	// PassEnv names variables copied from the host's environment.
	PassEnv []string `yaml:"pass_env" json:"pass_env,omitempty" jsonschema:"description=Names of host environment variables passed to actions; no other host variable reaches them."`
	// Secrets names host variables passed to actions and masked in logs.
	// Runs of untrusted code (fork pull requests) do not receive them.
	Secrets []string `yaml:"secrets" json:"secrets,omitempty" jsonschema:"description=Names of host environment variables passed to actions as secrets: masked as *** in logs and withheld from fork pull requests. Under the App only names the default branch's file lists reach a run."`
	// Environments are the deploy policies of environments by name. The
	// App counts them only from trusted sources (the default branch's
	// file, the organization's default); a commit's own entries can make
	// a policy stricter, never looser.
	Environments map[string]*EnvironmentPolicy `yaml:"environments" json:"environments,omitempty" jsonschema:"description=Deploy policy of each environment: approval, deployers, branches and tags, required checks and secrets. Counted from the default branch's file; a commit's own can only make it stricter."`
	// AWS is the role and region of every action that needs AWS, unless
	// a stage or action names its own.
	AWS *AWS `yaml:"aws" json:"aws,omitempty" jsonschema:"description=AWS role and region for the actions; a stage's or action's own aws: replaces it key by key."`
	// Stages run in order; the first failed stage stops the run.
	Stages []*Stage `yaml:"stages" json:"stages" jsonschema:"minItems=1,maxItems=50,description=Stages in the order they run (at most 50)."`

	// File is the path the pipeline was read from, for messages.
	File string `yaml:"-" json:"-"`
}

// Triggers are the events that start a run.
type Triggers struct {
	Push        *PushTrigger        `yaml:"push" json:"push,omitempty" jsonschema:"description=Run on pushes. Without it pushes start no run."`
	PullRequest *PullRequestTrigger `yaml:"pull_request" json:"pull_request,omitempty" jsonschema:"description=Run on pull requests. Without it pull requests start no run."`
}

// PushTrigger filters pushes. Each list holds doublestar globs; an entry
// starting with ! excludes, and later entries win over earlier ones.
type PushTrigger struct {
	Branches []string `yaml:"branches" json:"branches,omitempty" jsonschema:"description=Branch globs; ! excludes. Without branches or tags every ref matches; with only one of them the other kind of ref never matches."`
	Tags     []string `yaml:"tags" json:"tags,omitempty" jsonschema:"description=Tag globs; ! excludes."`
	Paths    []string `yaml:"paths" json:"paths,omitempty" jsonschema:"description=Changed-file globs; the run starts when at least one changed file matches."`
}

// PullRequestTrigger filters pull requests by their base branch and
// changed files.
type PullRequestTrigger struct {
	Branches []string `yaml:"branches" json:"branches,omitempty" jsonschema:"description=Globs for the pull request's base branch; ! excludes."`
	Paths    []string `yaml:"paths" json:"paths,omitempty" jsonschema:"description=Changed-file globs; the run starts when at least one changed file matches."`
}

// Stage is a step of the pipeline holding actions that run in parallel.
type Stage struct {
	Name string `yaml:"name" json:"name" jsonschema:"pattern=^[A-Za-z0-9][A-Za-z0-9_.-]*$,maxLength=64,description=Stage name; also the check run name stagegate/<name>."`
	// If is an expr-lang condition over the event; empty means always.
	If string `yaml:"if" json:"if,omitempty" jsonschema:"maxLength=4096,description=expr-lang condition over event, branch, tag, base_branch, sha, pr, actor and changed_files; changed(glob...) tests the changed files."`
	// Environment makes the stage a deploy to that environment.
	Environment string `yaml:"environment" json:"environment,omitempty" jsonschema:"description=Deployment environment; makes this a gated deploy stage."`
	// URL is the deployed environment's address, shown on the deployment.
	URL       string   `yaml:"url" json:"url,omitempty" jsonschema:"description=Address of the deployed environment, shown on the GitHub deployment (deploy stages only)."`
	Approval  Approval `yaml:"approval" json:"approval,omitempty" jsonschema:"enum=none,enum=manual,default=none,description=manual waits for a /deploy comment or the Deploy button (deploy stages only)."`
	Deployers []string `yaml:"deployers" json:"deployers,omitempty" jsonschema:"description=Users and @org/team teams allowed to deploy besides writers (deploy stages only)."`
	// Require names the checks the deploy gate waits for; empty means
	// every check on the commit.
	Require []string          `yaml:"require" json:"require,omitempty" jsonschema:"description=Names of the checks and commit statuses the deploy waits for; each must be present and pass. Without it every check on the commit must pass (deploy stages only)."`
	Env     map[string]string `yaml:"env" json:"env,omitempty" jsonschema:"description=Environment variables for this stage's actions."`
	AWS     *AWS              `yaml:"aws" json:"aws,omitempty" jsonschema:"description=AWS role and region for this stage's actions."`
	Runner  *RunnerSpec       `yaml:"runner" json:"runner,omitempty" jsonschema:"description=Where this stage's run: scripts execute; an action's own runner: replaces it."`
	Actions []*Action         `yaml:"actions" json:"actions" jsonschema:"minItems=1,maxItems=100,description=Actions; those with the same run_order run in parallel. A stage has at most 100 actions, on_failure included."`
	// OnFailure runs when the stage fails, to roll back.
	OnFailure []*Action `yaml:"on_failure" json:"on_failure,omitempty" jsonschema:"description=Actions run when the stage fails, such as a rollback."`

	Pos Pos `yaml:"-" json:"-"`

	cond *vm.Program
}

// EnvironmentPolicy is what deploying to an environment takes, and the
// secrets its deploys get.
type EnvironmentPolicy struct {
	// Approval is empty when the policy does not say.
	Approval  Approval `yaml:"approval" json:"approval,omitempty" jsonschema:"enum=none,enum=manual,description=manual waits for a /deploy comment or the Deploy button."`
	Deployers []string `yaml:"deployers" json:"deployers,omitempty" jsonschema:"description=Users and @org/team teams allowed to approve a deploy besides writers."`
	// Branches and Tags are doublestar globs of the refs that may deploy;
	// with only one of them set, refs of the other kind may not.
	Branches []string `yaml:"branches" json:"branches,omitempty" jsonschema:"description=Globs of the branches that may deploy (! excludes); with only tags set no branch may."`
	Tags     []string `yaml:"tags" json:"tags,omitempty" jsonschema:"description=Globs of the tags that may deploy (! excludes); with only branches set no tag may."`
	Require  []string `yaml:"require" json:"require,omitempty" jsonschema:"description=Names of the checks and commit statuses a deploy waits for; each must be present and pass. Without it every check on the commit must pass."`
	// Secrets reach only the actions of a deploy stage whose gate passed.
	Secrets []string `yaml:"secrets" json:"secrets,omitempty" jsonschema:"description=Names of host variables given, masked, only to the actions of a deploy to this environment once its gate has passed."`
	// AWS, from a trusted file, is the role and region every deploy to
	// the environment acts with, whatever the deployed commit's file says.
	AWS *AWS `yaml:"aws" json:"aws,omitempty" jsonschema:"description=Role and region of every deploy to this environment; in the default branch's file or the organization's default it overrides the role the deployed commit names."`

	Pos Pos `yaml:"-" json:"-"`
}

// Deploy reports whether the stage deploys to an environment.
func (s *Stage) Deploy() bool { return s.Environment != "" }

// Action is one command of a stage.
type Action struct {
	Name string `yaml:"name" json:"name" jsonschema:"pattern=^[A-Za-z0-9][A-Za-z0-9_.-]*$,maxLength=64,description=Action name, unique in its stage."`
	// Run is a shell script, run with sh -e -c in the workspace. An
	// action has either Run or Uses.
	Run string `yaml:"run" json:"run,omitempty" jsonschema:"description=Shell script run with sh -e -c in the workspace; an action has run or uses."`
	// Uses names an integration (see Integrations) run with With.
	Uses string `yaml:"uses" json:"uses,omitempty" jsonschema:"description=Integration the action runs instead of a script, such as aws/cloudformation; an action has run or uses."`
	// With are the integration's parameters, decoded and checked by its
	// Integration: strings, booleans, string lists and string maps.
	With map[string]any `yaml:"with" json:"with,omitempty" jsonschema:"description=Parameters of the integration named by uses."`
	// AWS is the action's own role and region, over its stage's and the
	// pipeline's.
	AWS *AWS `yaml:"aws" json:"aws,omitempty" jsonschema:"description=AWS role and region for this action."`
	// Runner is where the run: script executes; nil means the stage's,
	// and local when neither sets one.
	Runner *RunnerSpec `yaml:"runner" json:"runner,omitempty" jsonschema:"description=Where this action's run: script executes, such as {type: codebuild, project: web-build}."`
	// Dir is the working directory relative to the workspace.
	Dir string `yaml:"dir" json:"dir,omitempty" jsonschema:"description=Working directory relative to the workspace."`
	// RunOrder groups actions: lower orders finish before higher ones start.
	RunOrder int               `yaml:"run_order" json:"run_order,omitempty" jsonschema:"minimum=1,maximum=999,default=1,description=Actions with the same run_order run in parallel; a higher order starts when the lower ones have succeeded."`
	Env      map[string]string `yaml:"env" json:"env,omitempty" jsonschema:"description=Environment variables for this action."`
	// Timeout is zero when unset; see DefaultTimeout.
	Timeout   Duration `yaml:"timeout" json:"timeout,omitempty" jsonschema:"description=Time limit such as 90s or 15m (default 60m); the action is killed and ends timed_out."`
	Retries   int      `yaml:"retries" json:"retries,omitempty" jsonschema:"minimum=0,maximum=10,description=How many times a failed action is tried again."`
	Artifacts []string `yaml:"artifacts" json:"artifacts,omitempty" jsonschema:"description=Globs of workspace files copied to the run's artifact store after the action succeeds; ! excludes."`

	Pos Pos `yaml:"-" json:"-"`
}

// EffectiveTimeout is the action's timeout, or DefaultTimeout when unset.
func (a *Action) EffectiveTimeout() time.Duration {
	if a.Timeout > 0 {
		return time.Duration(a.Timeout)
	}
	return DefaultTimeout
}

// EffectiveRunOrder is the action's run_order, 1 when unset.
func (a *Action) EffectiveRunOrder() int {
	if a.RunOrder > 0 {
		return a.RunOrder
	}
	return 1
}

// Mode is how overlapping runs of one branch or pull request behave.
type Mode string

// Modes, as in AWS CodePipeline.
const (
	// ModeSuperseded cancels an older run when a newer one starts.
	ModeSuperseded Mode = "superseded"
	// ModeQueued runs one at a time, first in first out.
	ModeQueued Mode = "queued"
	// ModeParallel puts no limit on overlapping runs.
	ModeParallel Mode = "parallel"
)

// Approval is how a deploy stage is approved.
type Approval string

// Approvals.
const (
	ApprovalNone   Approval = "none"
	ApprovalManual Approval = "manual"
)

// Duration is a time.Duration written in Go syntax ("90s", "15m").
type Duration time.Duration

// Pos is a 1-based position in the pipeline file.
type Pos struct {
	Line int
	Col  int
}

// AWS is where an action's AWS credentials come from. With a Role the
// action gets short-lived credentials for it through stagegate's OpenID
// Connect tokens; without one the SDK's default chain applies.
type AWS struct {
	Role   string `yaml:"role" json:"role,omitempty" jsonschema:"description=ARN of the IAM role assumed with stagegate's OpenID Connect token, such as arn:aws:iam::123456789012:role/deploy."`
	Region string `yaml:"region" json:"region,omitempty" jsonschema:"description=AWS region, such as eu-west-1."`

	Pos Pos `yaml:"-" json:"-"`
}

// EffectiveAWS merges the pipeline's, the stage's and the action's aws:
// key by key, the nearest winning; nil when none is set.
func EffectiveAWS(p *Pipeline, s *Stage, a *Action) *AWS {
	var out *AWS
	for _, level := range []*AWS{p.AWS, s.AWS, a.AWS} {
		if level == nil {
			continue
		}
		if out == nil {
			out = &AWS{}
		}
		if level.Role != "" {
			out.Role = level.Role
		}
		if level.Region != "" {
			out.Region = level.Region
		}
	}
	return out
}

// Package deploys owns deploy stages: the gate before each (its policy
// from trusted sources, the checks it counts, the approval, the
// environment's line), approving a deploy, the environment's secrets, and
// stagegate as a deployment protection rule of GitHub Actions.
package deploys

import (
	"context"
	"fmt"

	"github.com/google/go-github/v60/github"
	"github.com/rs/zerolog"

	"github.com/stagegate/stagegate/app/running"
	"github.com/stagegate/stagegate/app/store"
	"github.com/stagegate/stagegate/checks"
	"github.com/stagegate/stagegate/pipeline"
)

// Store is what deploys keep and read in the database.
type Store interface {
	GetRun(ctx context.Context, id string) (store.Run, error)
	StagesForRun(ctx context.Context, runID string) ([]store.Stage, error)
	GetApproval(ctx context.Context, repo, sha, kind, scope string) (store.Approval, error)
	Approve(ctx context.Context, a store.Approval) error
	RecordDeployment(ctx context.Context, d store.Deployment) error
	AddProtectionRequest(ctx context.Context, p store.ProtectionRequest) error
	PendingProtectionRequests(ctx context.Context, repo, sha string) ([]store.ProtectionRequest, error)
	ProtectionAnswered(ctx context.Context, callbackURL, environment string) (bool, error)
	ProtectionUnanswered(ctx context.Context, callbackURL, environment string) error
}

// Clients gives the App's own GitHub client and an installation's.
type Clients interface {
	App() (*github.Client, error)
	Installation(ctx context.Context, id int64) (*github.Client, error)
}

// Waiters wakes the gates waiting on a commit: Watch is this process's
// gates', Wake reaches the gates of every replica.
type Waiters interface {
	Watch(repo, sha string) (<-chan struct{}, func())
	Wake(ctx context.Context, repo, sha string)
}

// Environments admits one deploy to an environment at a time, whichever
// replica it runs on.
type Environments interface {
	Acquire(ctx context.Context, repo, env, runID string) (func(), error)
	HolderOf(ctx context.Context, repo, env string) string
	// Gating marks a run as waiting at a deploy gate until done is
	// called: on a stop the replica hands such runs back at once.
	Gating(runID string) (done func())
}

// Config is what of the App's configuration deploys use.
type Config struct {
	// AppID is the App's own id: its checks never count at a gate.
	AppID int64
	// GitHubURL is the API's base URL: callbacks must point there.
	GitHubURL string
}

// Rerun runs a finished run again from stage from, as login, for the
// delivery; it returns what the start came to.
type Rerun func(ctx context.Context, run store.Run, from, login, delivery string) (string, error)

// Deploys gates and approves the deploys of the App's runs and answers
// GitHub's deployment protection rules.
type Deploys struct {
	cfg          Config
	db           Store
	gh           Clients
	waiters      Waiters
	environments Environments
	rerun        Rerun

	// GateShown, when set, is told of each gate shown on a check: the
	// run pages show its requirements too.
	GateShown func(ctx context.Context, runID string, gate checks.Gate)
}

func (a *Deploys) gateShown(ctx context.Context, runID string, gate checks.Gate) {
	if a.GateShown != nil {
		a.GateShown(ctx, runID, gate)
	}
}

// New returns deploys over the App's store, clients and gate state;
// rerun starts a finished run again when its deploy is approved.
func New(cfg Config, db Store, gh Clients, waiters Waiters, environments Environments, rerun Rerun) *Deploys {
	return &Deploys{cfg: cfg, db: db, gh: gh, waiters: waiters, environments: environments, rerun: rerun}
}

// RunPipeline parses the pipeline file a run was queued with. It was
// valid then, so an error here means the parser changed under it.
func RunPipeline(run store.Run) (*pipeline.Pipeline, error) {
	p, err := pipeline.Parse(run.PipelinePath, []byte(run.Pipeline))
	if err != nil {
		return nil, fmt.Errorf("the pipeline of run %s no longer parses: %w", run.ID, err)
	}
	return p, nil
}

func logger(ctx context.Context) *zerolog.Logger { return zerolog.Ctx(ctx) }

// Gate is the gate of run's deploy stages, reporting through reporter.
// p is the run's own pipeline file, which can only make the policy
// stricter; slot is the run's build slot, given back while it waits.
func (a *Deploys) Gate(run store.Run, client *github.Client, reporter *checks.Reporter, slot *running.Slot, p *pipeline.Pipeline) *Gate {
	return &Gate{a: a, run: run, client: client, reporter: reporter, slot: slot, pipeline: p}
}

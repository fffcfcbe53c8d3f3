package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/stagegate/stagegate/app/store"
	"github.com/stagegate/stagegate/pipeline/engine"
	"github.com/stagegate/stagegate/s3artifacts"
)

// Where runs keep their artifacts. Each run's actions read them from its
// own directory in the data dir (app/rundirs), read-only. Without
// --artifact-store that directory is the store too, and a re-run or a
// resumed run copies from the earlier run's directory on this machine.
// With an s3:// store, the engine also uploads what each action stored,
// and a re-run or resumed run downloads the stages it reuses into its
// fresh directory: any replica can take the run, and a remote runner can
// reach the files.

// validateArtifactStore checks --artifact-store's form, before anything
// is started.
func (c *Config) validateArtifactStore() error {
	if c.ArtifactStore == "" {
		return nil
	}
	if _, err := s3artifacts.ParseURL(c.ArtifactStore); err != nil {
		return &SettingError{"artifact-store", "STAGEGATE_ARTIFACT_STORE", err.Error()}
	}
	return nil
}

// openArtifactStore opens the S3 store, with the server's own AWS
// configuration (the SDK's default chain, AWS_ENDPOINT_URL included),
// and checks that its bucket is reachable: a start-up that cannot keep
// artifacts says so at once, not at the first run. Nil without one.
func openArtifactStore(ctx context.Context, cfg Config, load func(context.Context) (aws.Config, error)) (*s3artifacts.Store, error) {
	if cfg.ArtifactStore == "" {
		return nil, nil
	}
	loc, err := s3artifacts.ParseURL(cfg.ArtifactStore)
	if err != nil {
		return nil, &SettingError{"artifact-store", "STAGEGATE_ARTIFACT_STORE", err.Error()}
	}
	if load == nil {
		load = func(ctx context.Context) (aws.Config, error) { return config.LoadDefaultConfig(ctx) }
	}
	awsCfg, err := load(ctx)
	if err != nil {
		return nil, fmt.Errorf("--artifact-store %s: AWS configuration: %w", loc, err)
	}
	s, err := s3artifacts.Open(ctx, awsCfg, loc)
	if err != nil {
		return nil, fmt.Errorf("--artifact-store %s: %w", loc, err)
	}
	return s, nil
}

// artifactStore is where a run's re-runs find its artifacts: the runs of
// its kind of code (fork or trusted) and, in S3, of its repository. A
// fork's run is given no store that reaches a trusted run's artifacts.
func (a *App) artifactStore(run store.Run) (engine.ArtifactStore, error) {
	if a.s3Artifacts == nil {
		// The parent of the run's own directory: the artifact stores of
		// the runs of its kind of code.
		return &engine.LocalArtifacts{Root: filepath.Dir(a.dirs(run).Artifacts)}, nil
	}
	remote, err := a.s3Artifacts.For(run.Fork, run.Repo)
	if err != nil {
		return nil, err
	}
	return &fallbackStore{remote, &engine.LocalArtifacts{Root: filepath.Dir(a.dirs(run).Artifacts)}}, nil
}

// fallbackStore keeps artifacts in S3, and reads from this machine's
// disk what S3 does not have: the runs before --artifact-store was set.
// Only what is missing falls back; a download that fails its checks is
// an error.
type fallbackStore struct {
	remote, local engine.ArtifactStore
}

func (f *fallbackStore) Put(ctx context.Context, key engine.ArtifactKey, dir string, files []string) error {
	return f.remote.Put(ctx, key, dir, files)
}

func (f *fallbackStore) Get(ctx context.Context, run, stage string, files []string, dir string) error {
	err := f.remote.Get(ctx, run, stage, files, dir)
	if errors.Is(err, fs.ErrNotExist) {
		if lerr := f.local.Get(ctx, run, stage, files, dir); lerr == nil {
			return nil
		}
	}
	return err
}

// keptArtifacts is the engine's ArtifactStore for a run: nil without an
// S3 store, since the run's directory is then the store itself.
func (a *App) keptArtifacts(run store.Run) engine.ArtifactStore {
	if a.s3Artifacts == nil {
		return nil
	}
	s, err := a.artifactStore(run)
	if err != nil {
		return failingStore{err}
	}
	return s
}

// failingStore fails every action that stores artifacts with the reason
// its run has no store.
type failingStore struct{ err error }

func (f failingStore) Put(context.Context, engine.ArtifactKey, string, []string) error { return f.err }
func (f failingStore) Get(context.Context, string, string, []string, string) error     { return f.err }

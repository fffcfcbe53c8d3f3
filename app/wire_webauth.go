package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-github/v60/github"

	"github.com/stagegate/stagegate/app/access"
	"github.com/stagegate/stagegate/app/comments"
	"github.com/stagegate/stagegate/app/deploys"
	"github.com/stagegate/stagegate/app/ghevent"
	"github.com/stagegate/stagegate/app/runs"
	"github.com/stagegate/stagegate/app/setup"
	"github.com/stagegate/stagegate/app/store"
	"github.com/stagegate/stagegate/app/webauth"
)

// newWebAuth is the pages' sign-in with GitHub through the App's OAuth
// client, or nil when the App has none (pages of private repositories
// are then refused to everyone). The session key comes from the
// configuration (STAGEGATE_SESSION_KEY) or the key file in the data dir.
func newWebAuth(cfg Config) (*webauth.Authenticator, error) {
	switch {
	case cfg.OAuthClientID == "" && cfg.OAuthClientSecret == "":
		return nil, nil
	case cfg.OAuthClientSecret == "":
		return nil, &SettingError{Flag: "oauth-client-secret", Env: "STAGEGATE_OAUTH_CLIENT_SECRET", Problem: "is needed with the OAuth client id"}
	case cfg.OAuthClientID == "":
		return nil, &SettingError{Flag: "oauth-client-id", Env: "STAGEGATE_OAUTH_CLIENT_ID", Problem: "is needed with the OAuth client secret"}
	}
	if cfg.PublicURL == "" {
		return nil, &SettingError{Flag: "public-url", Env: "STAGEGATE_PUBLIC_URL", Problem: "is needed to sign in to the pages (GitHub sends the browser back to it)"}
	}
	key := cfg.SessionKey
	if len(key) == 0 {
		var err error
		if key, err = webauth.LoadOrCreateKey(cfg.DataDir); err != nil {
			return nil, err
		}
	}
	if len(key) != webauth.KeySize {
		return nil, fmt.Errorf("the session key has %d bytes, want %d", len(key), webauth.KeySize)
	}
	auth, err := webauth.New(webauth.Config{
		ClientID: cfg.OAuthClientID, ClientSecret: cfg.OAuthClientSecret,
		WebURL: setup.WebBaseURL(cfg.GitHubURL), APIURL: cfg.GitHubURL, PublicURL: cfg.PublicURL,
		SessionKey: key,
	})
	if err != nil {
		// The client and key are checked above: what is left is the
		// public URL, which must be https for Secure cookies.
		return nil, &SettingError{Flag: "public-url", Env: "STAGEGATE_PUBLIC_URL", Problem: "cannot serve sign-in to the pages: " + err.Error()}
	}
	return auth, nil
}

// webActions are the run page's buttons. Each does what its comment
// command does, under the same rules, checked the same way (the
// collaborator permission API with the installation's token, the
// environment's deployers from the trusted policy, the deploy gate);
// the pages' own check of the user's token comes on top.
type webActions struct{ a *App }

// load reads the run a button is for, which must be of repo.
func (w webActions) load(ctx context.Context, repo, runID string) (store.Run, *github.Client, error) {
	run, err := w.a.db.GetRun(ctx, runID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !strings.EqualFold(run.Repo, repo)) {
		return store.Run{}, nil, errors.New("there is no such run")
	}
	if err != nil {
		return store.Run{}, nil, w.internal(ctx, err)
	}
	client, err := w.a.gh.Installation(ctx, run.InstallationID)
	if err != nil {
		return store.Run{}, nil, w.internal(ctx, fmt.Errorf("installation client: %w", err))
	}
	return run, client, nil
}

// answer turns a refusal into the message shown, and hides any other
// failure behind a logged one.
func (w webActions) answer(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if why, ok := access.IsForbidden(err); ok {
		return errors.New(why)
	}
	var ign errIgnored
	if errors.As(err, &ign) {
		return errors.New("no run started: " + ign.Why)
	}
	return w.internal(ctx, err)
}

func (w webActions) internal(ctx context.Context, err error) error {
	logger(ctx).Error().Err(err).Msg("run page button failed")
	return errors.New("something went wrong on stagegate's side; it is logged. Try again later")
}

// Rerun is /retry for the run shown: write access, the run finished,
// and it is the latest run of its commit; it runs again from its first
// failed stage.
func (w webActions) Rerun(ctx context.Context, login, repo, runID string) error {
	run, client, err := w.load(ctx, repo, runID)
	if err != nil {
		return err
	}
	owner, name := ghevent.SplitRepo(run.Repo)
	if err := access.MayWrite(ctx, client, owner, name, login, "re-run"); err != nil {
		return w.answer(ctx, err)
	}
	latest, err := w.a.db.LatestRunForSHA(ctx, run.Repo, run.SHA)
	if err != nil {
		return w.answer(ctx, err)
	}
	if latest.ID != run.ID {
		return fmt.Errorf("run %s was run again as run %s: re-run that one", run.ID, latest.ID)
	}
	if run.Status != store.StatusCompleted {
		return fmt.Errorf("run %s is still going; cancel it first, or wait for it", run.ID)
	}
	from, err := comments.FirstFailedStage(ctx, w.a.db, run.ID)
	if err != nil {
		return w.answer(ctx, err)
	}
	if from == "" {
		return fmt.Errorf("nothing failed in run %s", run.ID)
	}
	_, err = w.a.rerunFrom(ctx, run, from, login, "web-"+webRandomHex())
	return w.answer(ctx, err)
}

// Cancel is /cancel for the run shown: write access, and the run going.
func (w webActions) Cancel(ctx context.Context, login, repo, runID string) error {
	run, client, err := w.load(ctx, repo, runID)
	if err != nil {
		return err
	}
	owner, name := ghevent.SplitRepo(run.Repo)
	if err := access.MayWrite(ctx, client, owner, name, login, "cancel runs"); err != nil {
		return w.answer(ctx, err)
	}
	if run.Status == store.StatusCompleted {
		return fmt.Errorf("run %s is not going", run.ID)
	}
	w.a.runs.Cancel(ctx, run, runs.Cancelled("cancelled by @"+login))
	return nil
}

// Deploy is /deploy environment for the commit of the run shown: the
// approval is bound to that run's commit, the one the page showed, as a
// check run's Deploy button binds it; a newer push supersedes the run
// and the deploy is refused.
func (w webActions) Deploy(ctx context.Context, login, repo, runID, environment string) error {
	run, client, err := w.load(ctx, repo, runID)
	if err != nil {
		return err
	}
	st, err := deploys.DeployStage(run, environment)
	if err != nil {
		return fmt.Errorf("@%s %w", login, err)
	}
	_, err = w.a.deploys.ApproveDeploy(ctx, client, run, st, login, "web-"+webRandomHex())
	return w.answer(ctx, err)
}

// wireSignIn gives the pages their sign-in, when the App has an OAuth
// client (/login, /oauth/callback and /logout beside the pages), and
// their buttons. It runs before newWebPages.
func (a *App) wireSignIn() error {
	auth, err := newWebAuth(a.cfg)
	if err != nil {
		return err
	}
	a.pages.actions = webActions{a: a}
	if auth != nil {
		a.pages.auth, a.pages.routes = auth, auth.Routes
	}
	return nil
}

func webRandomHex() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

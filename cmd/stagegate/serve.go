package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/stagegate/stagegate/app"
	"github.com/stagegate/stagegate/app/ghclient"
	"github.com/stagegate/stagegate/app/webauth"
	"github.com/stagegate/stagegate/pipeline/runner/local"
)

// serveSetting is one flag of serve with the environment variable that
// sets it when the flag is not given.
type serveSetting struct {
	flag, env, usage, def string
	value                 *string
}

func newServeCmd() *cobra.Command {
	var addr, appID, keyFile, secret, githubURL, database, dataDir, publicURL, logLevel, grace, retention, minFree, leaseTTL string
	var oauthID, oauthSecret string
	var codeBuildStaging, artifactStore string
	settings := []serveSetting{
		{"addr", "STAGEGATE_ADDR", "listen address", ":8080", &addr},
		{"app-id", "STAGEGATE_APP_ID", "GitHub App id", "", &appID},
		{"private-key", "STAGEGATE_PRIVATE_KEY_FILE", "the App's private key, a PEM file (or STAGEGATE_PRIVATE_KEY with the PEM itself)", "", &keyFile},
		{"webhook-secret", "STAGEGATE_WEBHOOK_SECRET", "the App's webhook secret (required)", "", &secret},
		{"github-url", "STAGEGATE_GITHUB_URL", "GitHub API base URL; for GitHub Enterprise Server https://HOST/api/v3/", ghclient.DefaultBaseURL, &githubURL},
		{"database", "STAGEGATE_DATABASE", "database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST/DB (default sqlite://<data-dir>/stagegate.db)", "", &database},
		{"data-dir", "STAGEGATE_DATA_DIR", "directory for workspaces and artifacts", "data", &dataDir},
		{"public-url", "STAGEGATE_PUBLIC_URL", "where the app is reachable, for links", "", &publicURL},
		{"log-level", "STAGEGATE_LOG_LEVEL", "debug, info, warn or error", "info", &logLevel},
		{"shutdown-grace", "STAGEGATE_SHUTDOWN_GRACE", "on SIGTERM, how long running pipelines may finish before they are stopped and queued again", "30s", &grace},
		{"retention", "STAGEGATE_RETENTION", "how long log lines and webhook deliveries are kept, such as 30d or 72h (at least 24h)", "30d", &retention},
		{"oauth-client-id", "STAGEGATE_OAUTH_CLIENT_ID", "the App's OAuth client id, for signing in to the pages (stored by the setup flow)", "", &oauthID},
		{"oauth-client-secret", "STAGEGATE_OAUTH_CLIENT_SECRET", "the App's OAuth client secret (stored by the setup flow)", "", &oauthSecret},
		{"artifact-store", "STAGEGATE_ARTIFACT_STORE", "s3://BUCKET/PREFIX to keep runs' artifacts in S3, with the server's AWS credentials, so that any replica reaches them (default: in the data dir)", "", &artifactStore},
		{"lease-ttl", "STAGEGATE_LEASE_TTL", "with replicas: how long after a replica's last heartbeat (every third of it) another takes its runs over", "15s", &leaseTTL},
		{"min-free-space", "STAGEGATE_MIN_FREE_SPACE", "free space in the data dir below which logs are no longer stored (webhooks still are), such as 1GB; 0 for no floor", "1GB", &minFree},
		{"codebuild-staging", "STAGEGATE_CODEBUILD_STAGING", "s3://bucket/prefix where runner: codebuild actions ship their workspace; unset turns that runner off", "", &codeBuildStaging},
	}
	sandbox := sandboxFlags{serve: true}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the GitHub App: receive webhooks, run pipelines, report check runs",
		Long: `Run the GitHub App. Every flag can be set by its environment variable instead.
Build commands never see this process's environment; a pipeline's secrets
are read from STAGEGATE_SECRET_<NAME> variables.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, s := range settings {
				if !cmd.Flags().Changed(s.flag) {
					if v, ok := os.LookupEnv(s.env); ok {
						*s.value = v
					}
				}
			}
			if cmd.Flags().Changed("webhook-secret") {
				// Flags show in /proc/<pid>/cmdline to every local user.
				fmt.Fprintln(cmd.ErrOrStderr(), "stagegate: warning: --webhook-secret is visible to other users of this machine; prefer STAGEGATE_WEBHOOK_SECRET")
			}
			if cmd.Flags().Changed("oauth-client-secret") {
				fmt.Fprintln(cmd.ErrOrStderr(), "stagegate: warning: --oauth-client-secret is visible to other users of this machine; prefer STAGEGATE_OAUTH_CLIENT_SECRET")
			}
			level, err := zerolog.ParseLevel(logLevel)
			if err != nil {
				return usageError(&app.SettingError{Flag: "log-level", Env: "STAGEGATE_LOG_LEVEL", Problem: "must be debug, info, warn or error"})
			}
			shutdownGrace, err := time.ParseDuration(grace)
			if err != nil || shutdownGrace <= 0 {
				return usageError(&app.SettingError{Flag: "shutdown-grace", Env: "STAGEGATE_SHUTDOWN_GRACE", Problem: fmt.Sprintf("must be a positive duration such as 30s, not %q", grace)})
			}
			ttl, err := time.ParseDuration(leaseTTL)
			if err != nil || ttl < time.Second {
				return usageError(&app.SettingError{Flag: "lease-ttl", Env: "STAGEGATE_LEASE_TTL", Problem: fmt.Sprintf("must be a duration of at least 1s such as 15s, not %q", leaseTTL)})
			}
			keep, err := parseRetention(retention)
			if err != nil {
				return usageError(&app.SettingError{Flag: "retention", Env: "STAGEGATE_RETENTION", Problem: err.Error()})
			}
			floor, err := humanize.ParseBytes(minFree)
			if err != nil {
				return usageError(&app.SettingError{Flag: "min-free-space", Env: "STAGEGATE_MIN_FREE_SPACE", Problem: fmt.Sprintf("must be a size such as 1GB or 500MB, not %q", minFree)})
			}
			log := zerolog.New(cmd.ErrOrStderr()).Level(level).With().Timestamp().Logger()
			cfg := app.Config{
				Addr: addr, WebhookSecret: []byte(secret), GitHubURL: githubURL,
				Database: database, DataDir: dataDir, PublicURL: publicURL,
				Retention: keep, MinFreeSpace: floor, CodeBuildStaging: codeBuildStaging, ArtifactStore: artifactStore,
				OAuthClientID: oauthID, OAuthClientSecret: oauthSecret,
				// Read from the environment only: a flag shows in ps.
				SecretKey: os.Getenv("STAGEGATE_SECRET_KEY"),
			}
			if v := os.Getenv("STAGEGATE_SESSION_KEY"); v != "" {
				if cfg.SessionKey, err = webauth.ParseKey(v); err != nil {
					return usageError(fmt.Errorf("STAGEGATE_SESSION_KEY: %w", err))
				}
			}
			if appID != "" {
				id, err := strconv.ParseInt(appID, 10, 64)
				if err != nil {
					return usageError(&app.SettingError{Flag: "app-id", Env: "STAGEGATE_APP_ID", Problem: fmt.Sprintf("must be a number, not %q", appID)})
				}
				cfg.AppID = id
			}
			if cfg.PrivateKey, err = readPrivateKey(keyFile); err != nil {
				return usageError(err)
			}
			// The sandbox is checked before anything starts; the data dir
			// and the key are covered in it should a path ever show them.
			runner, notes, err := sandbox.runner(cmd.Context(), cmd.Flags(), 0, []string{dataDir, keyFile})
			if err != nil {
				return err
			}
			for _, n := range notes {
				log.Warn().Msg(n)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			err = app.Serve(log.WithContext(ctx), cfg, app.Options{Logger: log, ShutdownGrace: shutdownGrace, Runner: runner, LeaseTTL: ttl})
			var setting *app.SettingError
			if errors.As(err, &setting) {
				return usageError(err)
			}
			if err != nil {
				return &exitError{code: exitFailed, err: err}
			}
			return nil
		},
	}
	for _, s := range settings {
		cmd.Flags().StringVar(s.value, s.flag, s.def, s.usage+" ($"+s.env+")")
	}
	sandbox.register(cmd.Flags(), string(local.ModeRequired))
	return cmd
}

// parseRetention reads a Go duration or a number of days ("30d").
func parseRetention(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		n, err = strconv.Atoi(days)
		d = time.Duration(n) * 24 * time.Hour
	}
	if err != nil || d < 24*time.Hour {
		return 0, fmt.Errorf("must be a duration of at least 24h, such as 30d or 72h, not %q", s)
	}
	return d, nil
}

// readPrivateKey reads the PEM from the file, or from
// STAGEGATE_PRIVATE_KEY when no file is named.
func readPrivateKey(file string) ([]byte, error) {
	if file == "" {
		return []byte(os.Getenv("STAGEGATE_PRIVATE_KEY")), nil
	}
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, &app.SettingError{Flag: "private-key", Env: "STAGEGATE_PRIVATE_KEY_FILE", Problem: fmt.Sprintf("cannot be read: %v", err)}
	}
	return pem, nil
}

func usageError(err error) error { return &exitError{code: exitUsage, err: err} }

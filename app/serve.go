package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/stagegate/stagegate/app/setup"
)

// swappable is the server's handler, replaced when setup mode hands over
// to the App without closing the listener.
type swappable struct{ h atomic.Pointer[http.Handler] }

func (s *swappable) set(h http.Handler) { s.h.Store(&h) }

func (s *swappable) ServeHTTP(w http.ResponseWriter, r *http.Request) { (*s.h.Load()).ServeHTTP(w, r) }

// Serve runs stagegate serve until ctx ends. Without App credentials,
// from settings or from an earlier setup, it first serves the setup
// pages; once the App is created it serves webhooks on the same address,
// with no restart. When ctx ends it stops accepting, lets running
// pipelines finish for the grace period, and concludes or re-queues the
// rest.
func Serve(ctx context.Context, cfg Config, opts Options) error {
	if err := hardenProcess(); err != nil {
		opts.Logger.Warn().Err(err).Msg("could not make the process non-dumpable; builds may read its environment")
	}
	if !cfg.hasCredentials() {
		stored, ok, err := setup.LoadCredentials(cfg.DataDir)
		if err != nil {
			return err
		}
		if ok {
			cfg.applyCredentials(stored)
		} else if shared, ok, err := sharedCredentials(ctx, cfg); err != nil {
			return err
		} else if ok {
			cfg.applyCredentials(shared)
		}
	}
	var setupMode *setup.Setup
	if !cfg.hasCredentials() {
		if err := cfg.validateSetup(); err != nil {
			return err
		}
		setupMode = setup.New(setup.Config{PublicURL: cfg.PublicURL, GitHubURL: cfg.GitHubURL, DataDir: cfg.DataDir}, opts.Logger, opts.SetupToken)
	} else if err := cfg.Validate(); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	handler := &swappable{}
	srv := newHTTPServer(handler)
	served := make(chan error, 1)
	if setupMode != nil {
		handler.set(withLogger(opts.Logger, setupMode.Handler()))
		go func() { served <- srv.Serve(ln) }()
		opts.Logger.Warn().Str("addr", ln.Addr().String()).Str("url", setupMode.Link()).
			Msg("no GitHub App credentials: open this setup link to create the App")
		select {
		case creds := <-setupMode.Done():
			cfg.applyCredentials(creds)
			if err := shareCredentials(ctx, cfg, creds); err != nil {
				opts.Logger.Error().Err(err).Msg("store the App's credentials for other replicas; they stay in the data dir")
			}
		case err := <-served:
			return err
		case <-ctx.Done():
			return shutdown(srv, nil, opts)
		}
	}
	a, err := New(ctx, cfg, opts)
	if err != nil {
		_ = srv.Close()
		return err
	}
	if err := a.Start(ctx); err != nil {
		_ = srv.Close()
		return errors.Join(err, a.db.Close())
	}
	handler.set(a.Handler())
	if setupMode == nil {
		go func() { served <- srv.Serve(ln) }()
	}
	a.log.Info().Str("addr", ln.Addr().String()).Int64("app_id", cfg.AppID).Msg("serving")
	select {
	case err = <-served:
	case <-ctx.Done():
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return errors.Join(err, shutdown(srv, a, opts))
}

// newHTTPServer bounds what a client can make the server hold: headers
// must arrive within 10 s and stay under 64 KB (GitHub's are a few KB),
// a request, body included, within 30 s (a 25 MB delivery at under 1
// MB/s is no sender GitHub has), and an idle connection is closed.
func newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
}

// shutdown stops accepting requests, then stops the app, if any, giving
// running pipelines the grace period.
func shutdown(srv *http.Server, a *App, opts Options) error {
	grace := opts.ShutdownGrace
	if grace <= 0 {
		grace = 30 * time.Second
	}
	opts.Logger.Info().Msg("shutting down")
	ctx, cancel := context.WithTimeout(context.Background(), grace+15*time.Second)
	defer cancel()
	httpErr := srv.Shutdown(ctx)
	if a == nil {
		return httpErr
	}
	graceCtx, cancelGrace := context.WithTimeout(ctx, grace)
	defer cancelGrace()
	return errors.Join(httpErr, a.Stop(graceCtx))
}

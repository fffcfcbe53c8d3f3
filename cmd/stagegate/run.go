package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/stagegate/stagegate/console"
	"github.com/stagegate/stagegate/localrun"
	"github.com/stagegate/stagegate/pipeline/engine"
	"github.com/stagegate/stagegate/pipeline/runner/local"
)

func newRunCmd() *cobra.Command {
	var (
		ev        eventFlags
		stages    []string
		artifacts string
		plain     bool
		grace     time.Duration
		sandbox   sandboxFlags
		staging   string
	)
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the pipeline on this machine",
		Long: `Run the pipeline in the work tree, as a push of the checked-out branch unless
the flags describe another event. Deploy stages run only when named with --stage.

Exit status: 0 success, 1 the pipeline failed, 2 usage or config error,
130 interrupted (every action is stopped first).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, event, plan, err := ev.load(cmd.Flags())
			if err != nil {
				return err
			}
			plan, err = localrun.Select(p, plan, stages)
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			out := cmd.OutOrStdout()
			if !plan.Triggered {
				fmt.Fprintf(out, "%s\nnothing to run (describe another event with --event, --branch, --tag or --changed)\n", plan.Reason)
				return nil
			}

			runner, notes, err := sandbox.runner(cmd.Context(), cmd.Flags(), grace, nil)
			if err != nil {
				return err
			}
			for _, n := range notes {
				fmt.Fprintln(cmd.ErrOrStderr(), "stagegate: warning:", n)
			}

			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			go func() {
				// After the first signal, a second one kills stagegate at
				// once; its children die with it (see the local runner).
				<-ctx.Done()
				stop()
			}()

			style := console.Style{Color: os.Getenv("NO_COLOR") == ""}
			var observer engine.Observer
			var live *console.Live
			if f, ok := out.(*os.File); ok && !plain && term.IsTerminal(int(f.Fd())) {
				width, _, _ := term.GetSize(int(f.Fd()))
				live = console.NewLive(out, width, style)
				live.Start()
				observer = live
			} else {
				style.Color = false
				observer = console.NewPlain(out)
			}
			runners, err := codeBuildRunners(cmd.Flags(), staging)
			if err != nil {
				return err
			}
			res, store := localrun.Run(ctx, localrun.Options{
				Dir: ev.dir, Pipeline: p, Plan: plan, Event: event,
				ArtifactDir: artifacts, Observer: observer, Runner: runner, Runners: runners,
			})
			if live != nil {
				live.Stop()
			}
			console.Summary(out, res, style)
			if store != "" {
				fmt.Fprintf(out, "artifacts: %s\n", store)
			}
			return exitFor(ctx, res)
		},
	}
	ev.register(cmd.Flags())
	cmd.Flags().StringArrayVar(&stages, "stage", nil, "run only this stage (repeatable); a deploy stage runs only when named")
	cmd.Flags().StringVar(&artifacts, "artifacts", "", "the artifact store (default: a temporary directory, kept when not empty)")
	cmd.Flags().BoolVar(&plain, "plain", false, "print plain lines even on a terminal")
	cmd.Flags().DurationVar(&grace, "grace", 10*time.Second, "how long a stopped action may take to exit before it is killed")
	cmd.Flags().StringVar(&staging, "codebuild-staging", "", "s3://bucket/prefix where runner: codebuild actions ship the workspace, with your own AWS credentials (or STAGEGATE_CODEBUILD_STAGING)")
	sandbox.register(cmd.Flags(), string(local.ModeAuto))
	return cmd
}

func exitFor(ctx context.Context, res engine.Result) error {
	switch {
	case errors.Is(ctx.Err(), context.Canceled) && res.Status == engine.StatusCancelled:
		return &exitError{code: exitInterrupted}
	case res.Status == engine.StatusSuccess, res.Status == engine.StatusSkipped:
		return nil
	}
	return &exitError{code: exitFailed}
}

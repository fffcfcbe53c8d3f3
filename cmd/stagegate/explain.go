package main

import (
	"github.com/spf13/cobra"

	"github.com/stagegate/stagegate/console"
	"github.com/stagegate/stagegate/localrun"
)

func newExplainCmd() *cobra.Command {
	var (
		ev     eventFlags
		stages []string
	)
	cmd := &cobra.Command{
		Use:   "explain",
		Short: "Say which stages an event would run, and why the others would not; runs nothing",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, event, plan, err := ev.load(cmd.Flags())
			if err != nil {
				return err
			}
			if plan, err = localrun.Select(p, plan, stages); err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			console.Explain(cmd.OutOrStdout(), event, plan)
			console.ExplainUses(cmd.OutOrStdout(), p, plan)
			console.ExplainRunners(cmd.OutOrStdout(), p, plan)
			return nil
		},
	}
	ev.register(cmd.Flags())
	cmd.Flags().StringArrayVar(&stages, "stage", nil, "as with run: only this stage (repeatable)")
	return cmd
}

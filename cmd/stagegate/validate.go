package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/stagegate/stagegate/pipeline"
)

func newValidateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "validate [FILE...]",
		Short: "Check pipeline files and print every error as file:line:col: message",
		Long: `Check pipeline files (default: ` + pipeline.DefaultFile + `). Every error of every
file is printed, one per line as file:line:col: message.

Exit status: 0 when every file is valid, 1 otherwise.`,
		RunE: func(cmd *cobra.Command, files []string) error {
			if len(files) == 0 {
				files = []string{pipeline.DefaultFile}
			}
			failed := false
			for _, f := range files {
				p, err := pipeline.ParseFile(f)
				if err != nil {
					failed = true
					var errs pipeline.Errors
					if !errors.As(err, &errs) {
						fmt.Fprintf(cmd.ErrOrStderr(), "%s: %v\n", f, err)
						continue
					}
					for _, e := range errs {
						fmt.Fprintln(cmd.ErrOrStderr(), e)
					}
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: ok, %d stages\n", f, len(p.Stages))
			}
			if failed {
				return &exitError{code: exitFailed}
			}
			return nil
		},
	}
}

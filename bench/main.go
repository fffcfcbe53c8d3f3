// Command bench measures stagegate against baselines taken in the same
// run, and prints one table. Run it with `go run ./bench`.
//
// Machines here are shared and noisy, so every figure is the median of
// interleaved rounds, and each result is read against the baseline
// measured next to it, never as an absolute.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"text/tabwriter"
)

// row is one line of the table.
type row struct {
	name, value, goal, verdict string
}

func main() {
	rounds := flag.Int("rounds", 40, "interleaved rounds per measurement of stagegate run")
	only := flag.String("only", "", "measure only stagegate run (local), the App (app), its pages (web), the CodeBuild runner (codebuild) or replicas (replicas)")
	flag.Parse()
	var benches []func() ([]row, error)
	if *only == "" || *only == "local" {
		benches = append(benches, func() ([]row, error) { return benchLocalRun(*rounds) })
	}
	if *only == "" || *only == "app" {
		benches = append(benches, benchApp)
	}
	if *only == "" || *only == "web" {
		benches = append(benches, benchWeb)
	}
	if *only == "" || *only == "codebuild" {
		benches = append(benches, benchCodeBuild)
	}
	if *only == "" || *only == "replicas" {
		benches = append(benches, benchReplicas)
	}
	var rows []row
	for _, bench := range benches {
		r, err := bench()
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		rows = append(rows, r...)
	}
	fmt.Printf("stagegate benchmarks: %s/%s, %d CPUs, %s\n\n", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MEASUREMENT\tVALUE\tGOAL\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.name, r.value, r.goal, r.verdict)
	}
	_ = tw.Flush()
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

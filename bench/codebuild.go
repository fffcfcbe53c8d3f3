package main

import (
	"fmt"
	"os"
)

// benchCodeBuild measures the CodeBuild runner against the wire fake and
// moto (STAGEGATE_MOTO_URL): the delay from an action's start to
// StartBuild, and from a log line's CloudWatch timestamp to the action's
// Stdout at the default poll interval of 1 s.
func benchCodeBuild() ([]row, error) {
	if os.Getenv("STAGEGATE_MOTO_URL") == "" {
		return []row{{"CodeBuild rows", "not measured: start moto_server and set STAGEGATE_MOTO_URL", "", ""}}, nil
	}
	res, err := goBench("./codebuild/", "BenchmarkCodeBuild", "5x")
	if err != nil {
		return nil, err
	}
	m := res["BenchmarkCodeBuild"]
	return []row{
		{"CodeBuild: action start to StartBuild, p50 (200-file workspace)", fmt.Sprintf("%.0f ms", m["start-p50-ms"]), "", ""},
		{"CodeBuild: log line, CloudWatch to Stdout, p50 / p90 (poll 1 s)", fmt.Sprintf("%.0f / %.0f ms", m["log-p50-ms"], m["log-p90-ms"]),
			"p50 <= 2000 ms", verdict(m["log-p50-ms"] > 0 && m["log-p50-ms"] <= 2000)},
	}, nil
}

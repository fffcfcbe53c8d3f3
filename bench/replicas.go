package main

import (
	"fmt"
	"os"
)

// benchReplicas measures `stagegate serve` processes on one database:
// webhooks per second into Postgres with one and with three replicas,
// against one process on SQLite measured in the same run, the RSS of
// each, and the time until a killed replica's run is taken over.
func benchReplicas() ([]row, error) {
	if os.Getenv("STAGEGATE_POSTGRES_URL") == "" {
		return []row{{"replicas on Postgres", "not measured: set STAGEGATE_POSTGRES_URL to a server (apt install postgresql)", "", ""}}, nil
	}
	ingest, err := goBench("./cmd/stagegate/", "BenchmarkReplicaIngest", "3000x")
	if err != nil {
		return nil, err
	}
	takeover, err := goBench("./cmd/stagegate/", "BenchmarkReplicaTakeover", "1x")
	if err != nil {
		return nil, err
	}
	sq := ingest["BenchmarkReplicaIngest/sqlite-1"]
	var rows []row
	rows = append(rows, row{"serve processes, webhooks/s, SQLite, one process (baseline)", fmt.Sprintf("%.0f (RSS %.0f MB)", sq["deliveries/s"], sq["max-rss-MB"]), "", ""})
	for _, n := range []int{1, 3} {
		m := ingest[fmt.Sprintf("BenchmarkReplicaIngest/postgres-%d", n)]
		rows = append(rows, row{fmt.Sprintf("serve processes, webhooks/s, Postgres, %d replica(s)", n),
			fmt.Sprintf("%.0f (%.2fx SQLite; RSS per replica at most %.0f MB)", m["deliveries/s"], m["deliveries/s"]/sq["deliveries/s"], m["max-rss-MB"]),
			">= 1500", verdict(m["deliveries/s"] >= 1500)})
	}
	s := takeover["BenchmarkReplicaTakeover"]["takeover-s"]
	rows = append(rows, row{"killed replica's run taken over (lease 15s)", fmt.Sprintf("%.1f s", s), "<= 30 s", verdict(s <= 30)})
	return rows, nil
}

package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stagegate/stagegate/app/store"
)

// BenchmarkInsertDelivery is the store's half of the webhook path (the
// queue package's BenchmarkIngest adds the job).
func BenchmarkInsertDelivery(b *testing.B) {
	ctx := context.Background()
	db := openDB(b)
	payload := []byte(`{"pad":"` + strings.Repeat("x", 8<<10) + `"}`)
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		i++
		if _, err := db.InsertDelivery(ctx, nil, store.Delivery{GUID: fmt.Sprint(i), Event: "push", Payload: payload}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "deliveries/s")
}

// BenchmarkAppendLogLines stores batches of 100 lines of 80 characters.
func BenchmarkAppendLogLines(b *testing.B) {
	ctx := context.Background()
	db := openDB(b)
	run, err := db.CreateRun(ctx, store.Run{Repo: "acme/web", SHA: "s", Event: "push"})
	if err != nil {
		b.Fatal(err)
	}
	batch := make([]store.LogLine, 100)
	b.ReportAllocs()
	for b.Loop() {
		for i := range batch {
			batch[i] = store.LogLine{RunID: run.ID, Stage: "test", Action: "unit", Stream: "stdout", Text: strings.Repeat("y", 80)}
		}
		if err := db.AppendLogLines(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "lines/s")
}

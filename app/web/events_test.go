package web_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stagegate/stagegate/app/store"
	"github.com/stagegate/stagegate/app/web"
)

type sseEvent struct{ id, event, data string }

// openStream connects to a run's event stream and sends its events to
// the returned channel until the stream ends.
func openStream(t *testing.T, url, lastID string) (<-chan sseEvent, *http.Response) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	must(t, err)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	out := make(chan sseEvent, 100)
	go func() {
		defer close(out)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.event != "" {
					out <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "id: "):
				ev.id = line[4:]
			case strings.HasPrefix(line, "event: "):
				ev.event = line[7:]
			case strings.HasPrefix(line, "data: "):
				ev.data = line[6:]
			}
		}
	}()
	return out, resp
}

type streamedLine struct {
	N int64 `json:"n"`
	G []web.Segment
}

// nextLines waits for the next "lines" event, skipping others.
func nextLines(t *testing.T, events <-chan sseEvent, within time.Duration) (sseEvent, []streamedLine) {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("the stream ended before a lines event")
			}
			if ev.event != "lines" {
				continue
			}
			var ls []streamedLine
			must(t, json.Unmarshal([]byte(ev.data), &ls))
			return ev, ls
		case <-deadline:
			t.Fatalf("no lines event within %v", within)
		}
	}
}

func TestStreamResumesFromLastEventID(t *testing.T) {
	f := newFixture(t)
	run := f.addRun(t, "acme/open", "main", []string{"one", "two", "three", "four", "five"})
	must(t, f.db.SetRepoPrivate(context.Background(), "acme/open", false))
	url := f.srv.URL + "/acme/open/runs/" + run.ID + "/events?stage=build&action=compile"

	events, resp := openStream(t, url, "")
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	ev, lines := nextLines(t, events, 10*time.Second)
	if len(lines) != 5 || lines[0].N != 1 || lines[4].N != 5 || lines[4].G[0].Text != "five" {
		t.Fatalf("first event: %+v", lines)
	}
	// A line written now arrives on the open stream, woken by the hub.
	f.appendLines(t, run.ID, "build", "compile", []string{"six"})
	f.hub.Notify(run.ID)
	_, lines = nextLines(t, events, 10*time.Second)
	if len(lines) != 1 || lines[0].N != 6 || lines[0].G[0].Text != "six" {
		t.Fatalf("live line: %+v", lines)
	}
	// A browser that reconnects with the first event's id gets the rest,
	// numbered on.
	again, _ := openStream(t, url, ev.id)
	_, lines = nextLines(t, again, 10*time.Second)
	if len(lines) != 1 || lines[0].N != 6 {
		t.Fatalf("resumed after %s: %+v", ev.id, lines)
	}
	// The run ends: the stream says so and closes.
	must(t, f.db.RecordAction(context.Background(), store.Action{RunID: run.ID, Stage: "build", Name: "compile", Attempt: 1,
		Status: "failure", Started: time.Now(), Duration: time.Second}))
	must(t, f.db.FinishRun(context.Background(), run.ID, "failure", ""))
	f.hub.Notify(run.ID)
	seen := map[string]bool{}
	for ev := range again {
		seen[ev.event] = true
	}
	if !seen["end"] {
		t.Errorf("the stream closed without an end event (saw %v)", seen)
	}
}

func TestStreamsAreBounded(t *testing.T) {
	f := newFixture(t)
	run := f.addRun(t, "acme/open", "main", []string{"one"})
	must(t, f.db.SetRepoPrivate(context.Background(), "acme/open", false))
	s, err := web.New(web.Config{Store: f.db, MaxStreams: 2})
	must(t, err)
	mux := http.NewServeMux()
	s.Routes(mux)
	srv := newServer(t, mux)
	url := srv + "/acme/open/runs/" + run.ID + "/events"
	for range 2 {
		events, resp := openStream(t, url, "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("stream: %d", resp.StatusCode)
		}
		<-events // the first state: the stream is being served
	}
	resp, err := http.Get(url)
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("a stream over the bound: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

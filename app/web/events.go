package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/stagegate/stagegate/app/store"
)

const (
	// streamBatch bounds the lines one event carries and one read of the
	// store returns.
	streamBatch = 500
	// heartbeat keeps proxies from closing a quiet stream.
	heartbeat = 15 * time.Second
	// minGap spaces a stream's reads of the store when wake-ups come
	// faster: a chatty action costs each client ten small reads a second
	// at most.
	minGap = 100 * time.Millisecond
	// writeWithin is how long one event may take to reach a client
	// before the stream is dropped.
	writeWithin = 10 * time.Second
)

// events streams a run's changes as server-sent events: "state" with
// every node's state when one changes, "lines" with the new lines of the
// action named by ?stage= and ?action=, numbered, "logend" once that
// action has ended and all its lines are sent, and "end" when the run
// has. An event's id says where the stream was, so
// a browser that reconnects (Last-Event-ID) misses nothing and gets
// nothing twice.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	_, _, run, ok := s.authorizedRun(w, r)
	if !ok {
		return
	}
	select {
	case s.streams <- struct{}{}:
		defer func() { <-s.streams }()
	default:
		w.Header().Set("Retry-After", "5")
		http.Error(w, "too many live streams; try again soon", http.StatusServiceUnavailable)
		return
	}
	stage, action := r.URL.Query().Get("stage"), r.URL.Query().Get("action")
	follow := stage != "" && action != ""
	var seq, n int64
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		seq, n, _ = parseEventID(id)
	} else if id := r.URL.Query().Get("after"); id != "" {
		seq, n, _ = parseEventID(id)
	}
	wake, stop := s.cfg.Hub.subscribe(run.ID)
	defer stop()

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	st := &stream{w: w, rc: http.NewResponseController(w)}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.StreamFor)
	defer cancel()
	poll := time.NewTicker(s.cfg.PollEvery)
	defer poll.Stop()
	beat := time.NewTicker(heartbeat)
	defer beat.Stop()
	var (
		lastState []byte
		prev      *store.LogLine
		g         graph
		loaded    time.Time
	)
	for {
		// The graph is read at most once per poll; lines on every
		// wake-up, as they are what must arrive at once.
		if time.Since(loaded) >= s.cfg.PollEvery {
			var err error
			if run, g, err = s.graphs.get(ctx, s, run.ID); err != nil {
				return
			}
			loaded = time.Now()
			if b, _ := json.Marshal(g.states()); !bytes.Equal(b, lastState) {
				if st.send("state", "", b) != nil {
					return
				}
				lastState = b
			}
		}
		actionDone := true
		if follow {
			for {
				lines, err := s.cfg.Store.ActionLogAfter(ctx, run.ID, stage, action, seq, streamBatch)
				if err != nil || len(lines) == 0 {
					break
				}
				views := lineViews(lines, n+1, prev, nil)
				last := lines[len(lines)-1]
				prev = &last
				n += int64(len(lines))
				seq = lines[len(lines)-1].Seq
				b, _ := json.Marshal(views)
				if st.send("lines", eventID(seq, n), b) != nil {
					return
				}
				if len(lines) < streamBatch {
					break
				}
			}
			sel, found := selectAction(g, stage, action)
			actionDone = !found || sel == nil || run.Status == store.StatusCompleted ||
				sel.started && sel.State.Key != "running" && sel.State.Key != "waiting"
		}
		if run.Status == store.StatusCompleted {
			_ = st.send("end", "", []byte(`{}`))
			return
		}
		if follow && actionDone {
			// The log is complete; the stages' states still change.
			if st.send("logend", "", []byte(`{}`)) != nil {
				return
			}
			follow = false
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-poll.C:
		case <-beat.C:
			if st.comment("ping") != nil {
				return
			}
			continue
		}
		// Let a burst of writes land before reading again.
		select {
		case <-ctx.Done():
			return
		case <-time.After(minGap):
		}
	}
}

// stream writes server-sent events, each flushed at once and bounded in
// time: a client that stops reading loses its stream, not the server's
// memory.
type stream struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

func (s *stream) send(event, id string, data []byte) error {
	var b bytes.Buffer
	if id != "" {
		fmt.Fprintf(&b, "id: %s\n", id)
	}
	fmt.Fprintf(&b, "event: %s\ndata: %s\n\n", event, data)
	return s.write(b.Bytes())
}

func (s *stream) comment(text string) error { return s.write([]byte(": " + text + "\n\n")) }

func (s *stream) write(b []byte) error {
	_ = s.rc.SetWriteDeadline(time.Now().Add(writeWithin))
	if _, err := s.w.Write(b); err != nil {
		return err
	}
	return s.rc.Flush()
}

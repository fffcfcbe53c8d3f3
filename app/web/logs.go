package web

import (
	"bufio"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/stagegate/stagegate/app/store"
)

// selectAction finds the action whose log the page shows: the one asked
// for, or else (of the stage asked for, if any) the first that failed,
// the first running, or the last that ran. found is false when what was
// asked for is not in the run.
func selectAction(g graph, stage, action string) (sel *actionView, found bool) {
	var failed, running, last *actionView
	stageFound := stage == ""
	for i := range g.Stages {
		if stage != "" && g.Stages[i].Name != stage {
			continue
		}
		stageFound = true
		for j := range g.Stages[i].Actions {
			a := &g.Stages[i].Actions[j]
			if action != "" {
				if a.Name == action {
					return a, true
				}
				continue
			}
			switch {
			case a.State.Key == "failure" && failed == nil:
				failed = a
			case a.State.Key == "running" && running == nil:
				running = a
			}
			if a.started {
				last = a
			}
		}
	}
	switch {
	case action != "" || !stageFound:
		return nil, false
	case failed != nil:
		return failed, true
	case running != nil:
		return running, true
	}
	return last, true
}

// logQuery is the query naming an action's log, stage first, as people
// read it.
func logQuery(stage, action string, extra ...string) string {
	q := "stage=" + url.QueryEscape(stage) + "&action=" + url.QueryEscape(action)
	for i := 0; i+1 < len(extra); i += 2 {
		q += "&" + url.QueryEscape(extra[i]) + "=" + url.QueryEscape(extra[i+1])
	}
	return q
}

// logView reads the page of the action's log the request asks for: the
// tail, the page of ?from=, and the matches of ?q=.
func (s *Server) logView(r *http.Request, run store.Run, base string, a actionView) (*logView, error) {
	ctx := r.Context()
	total, err := s.cfg.Store.ActionLogLen(ctx, run.ID, a.Stage, a.Name)
	if err != nil {
		return nil, err
	}
	q := logQuery(a.Stage, a.Name)
	lv := &logView{Stage: a.Stage, Action: a.Name, State: a.State, Node: a.Node, Total: total,
		RawURL: base + "/log.txt?" + q, Query: strings.TrimSpace(r.URL.Query().Get("q"))}
	from := max(total-pageLines+1, 1)
	if f, err := strconv.ParseInt(r.URL.Query().Get("from"), 10, 64); err == nil && f >= 1 {
		from = min(f, max(total, 1))
	}
	lines, err := s.cfg.Store.ActionLogPage(ctx, run.ID, a.Stage, a.Name, from, pageLines)
	if err != nil {
		return nil, err
	}
	var prev *store.LogLine
	if from > 1 {
		if before, err := s.cfg.Store.ActionLogPage(ctx, run.ID, a.Stage, a.Name, from-1, 1); err == nil && len(before) == 1 {
			prev = &before[0]
		}
	}
	link := func(n int64) string {
		return "?" + logQuery(a.Stage, a.Name, "from", strconv.FormatInt(pageStart(n), 10)) + "#L" + strconv.FormatInt(n, 10)
	}
	lv.Lines = lineViews(lines, from, prev, link)
	lv.From, lv.To = from, from+int64(len(lines))-1
	page := func(n int64) string { return "?" + logQuery(a.Stage, a.Name, "from", strconv.FormatInt(n, 10)) }
	if from > 1 {
		lv.First, lv.Prev = page(1), page(max(from-pageLines, 1))
	}
	if lv.To < total {
		lv.Next, lv.Last = page(lv.To+1), "?"+q
	}
	// Only the tail follows the log: a page in the middle stays put.
	lv.Live = lv.To >= total && (a.State.Key == "running" || a.State.Key == "pending" || a.State.Key == "queued" ||
		a.State.Key == "waiting") && run.Status != store.StatusCompleted
	var lastSeq int64
	if len(lines) > 0 {
		lastSeq = lines[len(lines)-1].Seq
	}
	lv.LastID = eventID(lastSeq, lv.To)
	lv.EventsURL = base + "/events?" + q
	if lv.Query != "" {
		if len(lv.Query) > 200 {
			lv.Query = lv.Query[:200]
		}
		matches, err := s.cfg.Store.SearchActionLog(ctx, run.ID, a.Stage, a.Name, lv.Query, searchLimit+1)
		if err != nil {
			return nil, err
		}
		if len(matches) > searchLimit {
			matches, lv.MoreMatches = matches[:searchLimit], true
		}
		for _, m := range matches {
			lv.Matches = append(lv.Matches, lineView{N: m.Number, Stream: m.Line.Stream, Segs: renderANSI(m.Line.Text), Href: link(m.Number)})
		}
	}
	return lv, nil
}

// eventID is a stream event's id: the seq of the last line sent and its
// line number, so that a stream resumed with Last-Event-ID goes on from
// there without counting the lines before it again.
func eventID(seq, n int64) string { return strconv.FormatInt(seq, 10) + "." + strconv.FormatInt(n, 10) }

func parseEventID(id string) (seq, n int64, ok bool) {
	a, b, found := strings.Cut(id, ".")
	seq, err1 := strconv.ParseInt(a, 10, 64)
	n, err2 := strconv.ParseInt(b, 10, 64)
	if !found || err1 != nil || err2 != nil || seq < 0 || n < 0 {
		return 0, 0, false
	}
	return seq, n, true
}

// rawChunk is how many lines a download reads from the store at a time:
// the store's connection is never held while the client reads.
const rawChunk = 2000

// rawLog sends an action's whole stored log as plain text, a chunk of
// lines at a time.
func (s *Server) rawLog(w http.ResponseWriter, r *http.Request) {
	_, _, run, ok := s.authorizedRun(w, r)
	if !ok {
		return
	}
	stage, action := r.URL.Query().Get("stage"), r.URL.Query().Get("action")
	if stage == "" || action == "" {
		http.Error(w, "stage and action are required", http.StatusBadRequest)
		return
	}
	first, err := s.cfg.Store.ActionLogAfter(r.Context(), run.ID, stage, action, 0, rawChunk)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(first) == 0 {
		if n, err := s.cfg.Store.ActionLogLen(r.Context(), run.ID, stage, action); err != nil || n == 0 {
			http.NotFound(w, r)
			return
		}
	}
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "private, no-cache")
	if r.URL.Query().Get("download") != "" {
		h.Set("Content-Disposition", mime.FormatMediaType("attachment",
			map[string]string{"filename": fmt.Sprintf("%s-%s-%s.log", run.ID, stage, action)}))
	}
	bw := bufio.NewWriterSize(w, 32<<10)
	for chunk := first; len(chunk) > 0; {
		for _, l := range chunk {
			_, _ = bw.WriteString(l.Text)
			_ = bw.WriteByte('\n')
		}
		if len(chunk) < rawChunk {
			break
		}
		if err := bw.Flush(); err != nil {
			return
		}
		if chunk, err = s.cfg.Store.ActionLogAfter(r.Context(), run.ID, stage, action, chunk[len(chunk)-1].Seq, rawChunk); err != nil {
			s.cfg.Logger.Error().Err(err).Str("run", run.ID).Msg("log download")
			return
		}
	}
	_ = bw.Flush()
}

// artifact sends one of a run's artifacts, if a stage of the run stored
// it.
func (s *Server) artifact(w http.ResponseWriter, r *http.Request) {
	_, _, run, ok := s.authorizedRun(w, r)
	if !ok {
		return
	}
	p := r.PathValue("path")
	if s.cfg.Artifacts == nil || p == "" {
		http.NotFound(w, r)
		return
	}
	stages, err := s.cfg.Store.StagesForRun(r.Context(), run.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !slices.ContainsFunc(stages, func(st store.Stage) bool { return slices.Contains(st.Artifacts, p) }) {
		http.NotFound(w, r)
		return
	}
	f, err := s.cfg.Artifacts.Open(r.Context(), run, p)
	if err != nil {
		s.cfg.Logger.Warn().Err(err).Str("run", run.ID).Msg("artifact")
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	h := w.Header()
	// Served as a download, never rendered: an artifact is the build's
	// output, HTML included.
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": path.Base(p)}))
	h.Set("Cache-Control", "private, max-age=300")
	_, _ = io.Copy(w, f)
}

// escapePath escapes each segment of a slash-separated path.
func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

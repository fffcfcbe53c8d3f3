package web

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/stagegate/stagegate/app/store"
)

// pageLines is how many lines of a log one page shows: the tail by
// default, or the page of ?from=.
const pageLines = 1000

// searchLimit bounds the matches a search lists.
const searchLimit = 200

type runPage struct {
	Repo, Owner, Name string
	Run               store.Run
	Ref               string
	Short             string
	RunURL, RepoURL   string
	Graph             graph
	Gates             []gateView
	Artifacts         []artifactView
	Login             string
	CSRF              string
	CanRerun          bool
	CanCancel         bool
	CanDeploy         bool
	// Selected is the graph node of the action whose log is shown.
	Selected int
	// flush sends what is rendered so far; log reads the log shown.
	// The page's head goes out before its log is read, so a long log
	// never delays the stages' graph.
	flush func()
	log   func() (*logView, error)
}

// FlushHead sends the page so far to the browser.
func (p runPage) FlushHead() string {
	if p.flush != nil {
		p.flush()
	}
	return ""
}

// Log reads the log the page shows, nil when no action has one yet.
func (p runPage) Log() (*logView, error) {
	if p.log == nil {
		return nil, nil
	}
	return p.log()
}

type artifactView struct {
	Stage, Path string
	URL         string
}

type logView struct {
	Stage, Action string
	State         stateView
	// Node is the action's node in the graph, whose live state the
	// log's heading mirrors.
	Node        int
	Total       int64
	From, To    int64
	Lines       []lineView
	First, Prev string
	Next, Last  string
	RawURL      string
	EventsURL   string
	LastID      string
	Live        bool
	Query       string
	Matches     []lineView
	MoreMatches bool
}

type lineView struct {
	N      int64  `json:"n"`
	Stream string `json:"s"`
	// Mark names the attempt or rollback a line begins, "" when it
	// continues the one before.
	Mark string    `json:"m,omitempty"`
	Segs []Segment `json:"g"`
	Href string    `json:"-"`
}

// lineViews numbers lines from first and marks where each attempt begins;
// prev is the line before them, if any.
func lineViews(lines []store.LogLine, first int64, prev *store.LogLine, link func(n int64) string) []lineView {
	out := make([]lineView, 0, len(lines))
	for i, l := range lines {
		v := lineView{N: first + int64(i), Stream: l.Stream, Segs: renderANSI(shownText(l.Text))}
		if len(l.Text) > maxShownLine {
			v.Segs = append(v.Segs, Segment{Class: "cut", Text: fmt.Sprintf(" … %d more bytes in the raw log", len(l.Text)-maxShownLine)})
		}
		if link != nil {
			v.Href = link(v.N)
		}
		if prev == nil && (l.Attempt > 1 || l.Rollback) || prev != nil && (prev.Attempt != l.Attempt || prev.Rollback != l.Rollback) {
			v.Mark = attemptName(l)
		}
		prev = &lines[i]
		out = append(out, v)
	}
	return out
}

// maxShownLine bounds the bytes of one line a page or a stream shows: a
// line may be 64 KB, and a page of a thousand of them would be 64 MB.
// The raw log has the rest.
const maxShownLine = 4 << 10

// shownText is what the page shows of a line: at most maxShownLine
// bytes, cut between characters.
func shownText(s string) string {
	if len(s) <= maxShownLine {
		return s
	}
	cut := maxShownLine
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

func attemptName(l store.LogLine) string {
	name := "attempt " + strconv.Itoa(l.Attempt)
	if l.Rollback {
		name = "rollback, " + name
	}
	return name
}

// pageStart is the first line of the page that holds line n: pages start
// at fixed lines, so a link to a line stays right as the log grows.
func pageStart(n int64) int64 { return (n-1)/pageLines*pageLines + 1 }

// authorizedRun is the run the request names, once the user may read
// its repository: every page and stream of one run starts here.
func (s *Server) authorizedRun(w http.ResponseWriter, r *http.Request) (repo string, acc access, run store.Run, ok bool) {
	if repo, acc, ok = s.authorize(w, r); !ok {
		return "", access{}, store.Run{}, false
	}
	run, ok = s.loadRun(w, r, repo)
	return repo, acc, run, ok
}

func (s *Server) loadRun(w http.ResponseWriter, r *http.Request, repo string) (store.Run, bool) {
	run, err := s.cfg.Store.GetRun(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) || err == nil && run.Repo != repo {
		http.NotFound(w, r)
		return store.Run{}, false
	}
	if err != nil {
		s.fail(w, r, err)
		return store.Run{}, false
	}
	return run, true
}

func (s *Server) runPage(w http.ResponseWriter, r *http.Request) {
	repo, acc, run, ok := s.authorizedRun(w, r)
	if !ok {
		return
	}
	ctx, now := r.Context(), time.Now()
	g, gates, stages, err := s.loadGraph(ctx, run, now)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	base := "/" + repo + "/runs/" + url.PathEscape(run.ID)
	p := runPage{Repo: repo, Owner: r.PathValue("owner"), Name: r.PathValue("repo"), Run: run, Ref: refOf(run),
		Short: shortSHA(run.SHA), RunURL: base, RepoURL: "/" + repo, Graph: g, Gates: gateViews(gates, now),
		Login: acc.login}
	if s.cfg.Actions != nil && acc.canWrite() {
		p.CSRF = s.cfg.Auth.CSRFToken(r)
		p.CanRerun = run.Status == store.StatusCompleted
		p.CanCancel = run.Status != store.StatusCompleted
		p.CanDeploy = run.Status != store.StatusCompleted
	}
	for _, st := range stages {
		for _, path := range st.Artifacts {
			a := artifactView{Stage: st.Name, Path: path}
			if s.cfg.Artifacts != nil {
				a.URL = base + "/artifacts/" + escapePath(path)
			}
			p.Artifacts = append(p.Artifacts, a)
		}
	}
	stage, action := r.URL.Query().Get("stage"), r.URL.Query().Get("action")
	sel, found := selectAction(g, stage, action)
	if !found {
		http.NotFound(w, r)
		return
	}
	if sel != nil {
		p.Selected = sel.Node
		p.log = func() (*logView, error) { return s.logView(r, run, base, *sel) }
	}
	s.renderStreaming(w, r, "run", &p.flush, &p)
}

// LinesHTML is the page of lines as the page shows them.
func (l *logView) LinesHTML() template.HTML { return linesHTML(l.Lines, true) }

// MatchesHTML is the search's matches as the page shows them.
func (l *logView) MatchesHTML() template.HTML { return linesHTML(l.Matches, false) }

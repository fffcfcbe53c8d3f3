package console

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/stagegate/stagegate/pipeline/engine"
)

// tailLines is how much output of a failed action the live view prints
// when the run ends, since the live view itself shows only the last line.
const tailLines = 20

// frameInterval paces redraws: fast enough to look live, slow enough to
// cost nothing next to the builds.
const frameInterval = 100 * time.Millisecond

var spinner = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

// Live redraws a compact view of the run in place on a terminal. Start
// begins the redraws; Stop must be called once the run has finished, and
// prints the output of failed actions under the final view.
type Live struct {
	w     io.Writer
	width int
	style Style
	now   func() time.Time

	mu     sync.Mutex
	run    runView
	drawn  int // lines of the last frame, to move back over
	frame  int
	dirty  bool
	ticker *time.Ticker
	done   chan struct{}
	wg     sync.WaitGroup
}

type runView struct {
	id     string
	name   string
	reason string
	stages []*stageView
}

type stageView struct {
	name    string
	status  engine.Status // "" pending, "running" while started
	running bool
	started time.Time
	dur     time.Duration
	reason  string
	actions []*actionView
}

type actionView struct {
	name     string
	rollback bool
	running  bool
	status   engine.Status
	started  time.Time
	dur      time.Duration
	exit     int
	attempt  int
	last     string
	tail     []string
}

// NewLive draws on w, a terminal of the given width in columns.
func NewLive(w io.Writer, width int, style Style) *Live {
	if width < 40 {
		width = 80
	}
	return &Live{w: w, width: width, style: style, now: time.Now}
}

// Start begins redrawing every frameInterval until Stop.
func (l *Live) Start() {
	l.ticker = time.NewTicker(frameInterval)
	l.done = make(chan struct{})
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		for {
			select {
			case <-l.done:
				return
			case <-l.ticker.C:
				l.mu.Lock()
				l.frame++
				l.draw()
				l.mu.Unlock()
			}
		}
	}()
}

// Stop ends the redraws, draws the final frame and prints the output
// tails of the actions that failed.
func (l *Live) Stop() {
	if l.done != nil {
		l.ticker.Stop()
		close(l.done)
		l.wg.Wait()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.dirty = true
	l.draw()
	for _, s := range l.run.stages {
		for _, a := range s.actions {
			if a.status != engine.StatusFailure && a.status != engine.StatusTimedOut {
				continue
			}
			fmt.Fprintf(l.w, "\n%s\n", l.style.paint(ansiBold,
				fmt.Sprintf("── %s/%s: %s, last %d lines ──", s.name, a.name, a.status, len(a.tail))))
			for _, line := range a.tail {
				fmt.Fprintln(l.w, line)
			}
		}
	}
}

// Observe implements engine.Observer.
func (l *Live) Observe(e engine.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.dirty = true
	switch e := e.(type) {
	case engine.RunStarted:
		l.start(e)
	case engine.StageStarted:
		if s := l.stage(e.Stage); s != nil {
			s.running, s.started = true, e.Time
		}
	case engine.ActionStarted:
		a := l.action(e.Stage, e.Action, e.Rollback)
		a.running, a.started, a.attempt, a.status = true, e.Time, e.Attempt, ""
	case engine.LogLine:
		a := l.action(e.Stage, e.Action, false)
		a.last = printable(e.Text)
		a.tail = append(a.tail, e.Text)
		if len(a.tail) > tailLines {
			a.tail = a.tail[len(a.tail)-tailLines:]
		}
	case engine.ActionFinished:
		a := l.action(e.Stage, e.Action, e.Rollback)
		a.running, a.status, a.dur, a.exit = false, e.Result.Status, e.Result.Duration, e.Result.ExitCode
	case engine.StageFinished:
		if s := l.stage(e.Result.Name); s != nil {
			s.running, s.status, s.dur, s.reason = false, e.Result.Status, e.Result.Duration, e.Result.Reason
		}
	}
}

func (l *Live) start(e engine.RunStarted) {
	l.run = runView{id: e.RunID, name: pipelineName(e), reason: e.Plan.Reason}
	for _, sp := range e.Plan.Stages {
		sv := &stageView{name: sp.Stage.Name}
		for _, a := range sp.Stage.Actions {
			sv.actions = append(sv.actions, &actionView{name: a.Name})
		}
		l.run.stages = append(l.run.stages, sv)
	}
}

func (l *Live) stage(name string) *stageView {
	for _, s := range l.run.stages {
		if s.name == name {
			return s
		}
	}
	return nil
}

// action finds an action's view, adding rollback actions (and any the
// plan did not list) as they appear.
func (l *Live) action(stage, name string, rollback bool) *actionView {
	s := l.stage(stage)
	if s == nil {
		s = &stageView{name: stage}
		l.run.stages = append(l.run.stages, s)
	}
	for _, a := range s.actions {
		if a.name == name {
			return a
		}
	}
	a := &actionView{name: name, rollback: rollback}
	s.actions = append(s.actions, a)
	return a
}

// draw repaints the view over the previous frame. It is called with mu
// held.
func (l *Live) draw() {
	if !l.dirty && !l.anyRunning() {
		return
	}
	l.dirty = false
	var b strings.Builder
	if l.drawn > 0 {
		// Back to the first line of the previous frame.
		fmt.Fprintf(&b, "\x1b[%dF", l.drawn)
	}
	lines := l.lines()
	for _, line := range lines {
		b.WriteString("\x1b[2K")
		b.WriteString(line)
		b.WriteByte('\n')
	}
	b.WriteString("\x1b[J")
	l.drawn = len(lines)
	_, _ = io.WriteString(l.w, b.String())
}

func (l *Live) anyRunning() bool {
	for _, s := range l.run.stages {
		if s.running {
			return true
		}
	}
	return false
}

func (l *Live) lines() []string {
	out := []string{l.style.paint(ansiBold, fmt.Sprintf("%s · run %s", l.run.name, l.run.id))}
	width := l.nameWidth()
	for _, s := range l.run.stages {
		out = append(out, l.fit(fmt.Sprintf("%s %-*s %s", l.mark(s.running, s.status), width+2, s.name, l.stageInfo(s))))
		if (!s.running && s.status == "") || s.status == engine.StatusSkipped {
			continue
		}
		for _, a := range s.actions {
			name := a.name
			if a.rollback {
				name += " (rollback)"
			}
			info := l.elapsed(a.running, a.started, a.dur)
			if a.status != "" && a.status != engine.StatusSuccess {
				info += "  " + describeEnd(engine.ActionResult{Status: a.status, ExitCode: a.exit})
			}
			if a.running && a.last != "" {
				info += "  " + l.style.paint(ansiDim, "│ "+a.last)
			}
			out = append(out, l.fit(fmt.Sprintf("  %s %-*s %s", l.mark(a.running, a.status), width, name, info)))
		}
	}
	return out
}

// nameWidth is the column width that fits every stage and action name.
func (l *Live) nameWidth() int {
	w := 8
	for _, s := range l.run.stages {
		w = max(w, len(s.name)-2)
		for _, a := range s.actions {
			n := len(a.name)
			if a.rollback {
				n += len(" (rollback)")
			}
			w = max(w, n)
		}
	}
	return w
}

func (l *Live) stageInfo(s *stageView) string {
	switch {
	case s.status == engine.StatusSkipped:
		return l.style.paint(ansiDim, s.reason)
	case !s.running && s.status == "":
		return l.style.paint(ansiDim, "pending")
	}
	info := l.elapsed(s.running, s.started, s.dur)
	if s.status != "" && s.status != engine.StatusSuccess && s.reason != "" {
		info += "  " + s.reason
	}
	return info
}

func (l *Live) mark(running bool, st engine.Status) string {
	if running {
		return l.style.paint(ansiYell, spinner[l.frame%len(spinner)])
	}
	return l.style.icon(st)
}

func (l *Live) elapsed(running bool, started time.Time, dur time.Duration) string {
	if running {
		return formatDuration(l.now().Sub(started).Truncate(100 * time.Millisecond))
	}
	return formatDuration(dur)
}

// fit cuts a line to the terminal width so that no line wraps, which
// would break the cursor arithmetic of the redraw.
func (l *Live) fit(line string) string {
	cols, cut := 0, -1
	eachVisible(line, func(i int, _ rune) bool {
		cols++
		if cols >= l.width {
			cut = i
			return false
		}
		return true
	})
	if cut < 0 {
		return line
	}
	return line[:cut] + "…" + l.resetIfColor()
}

func (l *Live) resetIfColor() string {
	if l.style.Color {
		return ansiReset
	}
	return ""
}

// printable drops the escape sequences and control characters of a build's
// output line, which would move the cursor under the redraw.
func printable(s string) string {
	var b strings.Builder
	eachVisible(s, func(_ int, r rune) bool {
		switch {
		case r == '\t':
			b.WriteByte(' ')
		case !unicode.IsControl(r):
			b.WriteRune(r)
		}
		return true
	})
	return b.String()
}

// eachVisible calls fn with the byte offset of every rune of s that is not
// part of an ANSI escape sequence, until fn returns false.
func eachVisible(s string, fn func(i int, r rune) bool) {
	inEsc := false
	for i, r := range s {
		switch {
		case r == '\x1b':
			inEsc = true
		case inEsc:
			// A sequence ends at its final byte, '@' to '~', except the
			// '[' that opens a CSI sequence.
			if r >= '@' && r <= '~' && r != '[' {
				inEsc = false
			}
		default:
			if !fn(i, r) {
				return
			}
		}
	}
}

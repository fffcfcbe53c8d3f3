package runlog

import (
	"context"
	"fmt"
	"syscall"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/rs/zerolog"

	"github.com/stagegate/stagegate/app/logkey"
	"github.com/stagegate/stagegate/app/store"
	"github.com/stagegate/stagegate/pipeline/engine"
)

const (
	// DefaultLogCap is how much of one attempt's log is stored.
	DefaultLogCap = 10 << 20
	// DefaultRunLogCap is how much of one run's logs is stored: a file of
	// 50 stages of 100 actions, each printing just under DefaultLogCap,
	// would otherwise store 50 GB per push.
	DefaultRunLogCap = 100 << 20
	// DefaultMinFreeSpace is the free space in the data dir below which
	// logs are no longer stored.
	DefaultMinFreeSpace = 1 << 30
	// lineOverhead is what a stored line costs beyond its text: the row,
	// its keys and its index entry. Counting it keeps a log of empty
	// lines within the cap too.
	lineOverhead = 64
	// spaceProbeEvery bounds how often the free space is asked for.
	spaceProbeEvery = time.Second
)

// Policy is how much of a run's logs is stored.
type Policy struct {
	// cap is the most bytes of one attempt's log stored: the first half
	// and the last half, the middle cut with a note.
	cap int64
	// runCap is the most bytes of one run's logs stored; lines past it
	// are dropped, the cut noted.
	runCap int64
	// minFree is the free space of the data dir below which no log line
	// is stored; freeSpace measures it.
	minFree   uint64
	dataDir   string
	freeSpace func(dir string) (uint64, error)
}

// NewPolicy stores up to logCap bytes of one attempt's log and runCap
// of a run's (DefaultLogCap and DefaultRunLogCap when not positive), and
// nothing while dataDir has less than minFree bytes free, as freeSpace
// measures it (statfs when nil; no measure when minFree is 0).
func NewPolicy(logCap, runCap int64, minFree uint64, dataDir string, freeSpace func(dir string) (uint64, error)) *Policy {
	p := &Policy{cap: logCap, runCap: runCap, minFree: minFree, dataDir: dataDir, freeSpace: freeSpace}
	if p.cap <= 0 {
		p.cap = DefaultLogCap
	}
	if p.runCap <= 0 {
		p.runCap = DefaultRunLogCap
	}
	if p.freeSpace == nil {
		p.freeSpace = statfsFree
	}
	if p.minFree == 0 {
		p.freeSpace = nil
	}
	return p
}

// statfsFree is the space of dir's file system available to stagegate.
func statfsFree(dir string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, fmt.Errorf("free space of %s: %w", dir, err)
	}
	return st.Bavail * uint64(st.Bsize), nil
}

// logKey names one attempt of one action.
type logKey struct {
	stage, action string
	attempt       int
	rollback      bool
}

func keyOf(l engine.LogLine) logKey { return logKey{l.Stage, l.Action, l.Attempt, l.Rollback} }

// admittedLog is Observe's account of one attempt's log.
type admittedLog struct {
	bytes int64
	cut   bool
	// dropped counts what the run's cap kept out of the store.
	dropped int64
}

// spaceWatch remembers the last probe of the free space.
type spaceWatch struct {
	probed time.Time
	low    bool
	noted  bool
}

// lowSpace reports whether the data dir is below the floor, asking the
// file system at most once a second.
func (r *Recorder) lowSpace(now time.Time) bool {
	if r.policy.freeSpace == nil || now.Sub(r.space.probed) < spaceProbeEvery && !r.space.probed.IsZero() {
		return r.space.low
	}
	r.space.probed = now
	free, err := r.policy.freeSpace(r.policy.dataDir)
	// A probe that fails says nothing about the disk: keep storing.
	r.space.low = err == nil && free < r.policy.minFree
	return r.space.low
}

// admit decides, on the engine's goroutine, what becomes of a log line:
// stored, stored as part of a tail, or dropped while the disk is short.
func (r *Recorder) admit(l engine.LogLine) {
	if r.lowSpace(time.Now()) {
		if !r.space.noted {
			r.space.noted = true
			r.note(systemLine(l, fmt.Sprintf("stagegate: the data dir has less than %s free; log lines are not stored until there is more (this check still shows the tail)",
				humanize.IBytes(r.policy.minFree))))
		}
		return
	}
	a := r.admitted[keyOf(l)]
	if a == nil {
		a = &admittedLog{}
		r.admitted[keyOf(l)] = a
	}
	n := int64(len(l.Text)) + lineOverhead
	// What the attempt keeps stored is at most the cap, head and tail.
	grows := min(a.bytes+n, r.policy.cap) - min(a.bytes, r.policy.cap)
	if r.policy.runCap > 0 && r.runStored+grows > r.policy.runCap {
		a.dropped += n
		return
	}
	r.runStored += grows
	a.bytes += n
	if !a.cut && a.bytes > r.policy.cap/2 {
		a.cut = true
		r.events <- recorded{e: systemLine(l, fmt.Sprintf("stagegate: this log is over %s; from here only its last %s is stored",
			humanize.IBytes(uint64(r.policy.cap/2)), humanize.IBytes(uint64(r.policy.cap/2)))), cutNote: true}
	}
	r.events <- recorded{e: l}
}

// finishLog says on the check, at the end of a cut log where its tail
// shows it, how much was not stored.
func (r *Recorder) finishLog(e engine.ActionFinished) {
	k := logKey{e.Stage, e.Action, e.Attempt, e.Rollback}
	a := r.admitted[k]
	if a == nil {
		return
	}
	l := engine.LogLine{Stage: e.Stage, Action: e.Action, Attempt: e.Attempt, Rollback: e.Rollback}
	if a.dropped > 0 {
		r.note(systemLine(l, fmt.Sprintf("stagegate: this run's logs reached the run's cap of %s; %s of this log are not stored (this check still shows the tail)",
			humanize.IBytes(uint64(r.policy.runCap)), humanize.IBytes(uint64(a.dropped)))))
	}
	if !a.cut {
		return
	}
	r.note(systemLine(l, fmt.Sprintf("stagegate: this log was %s; only its first and last %s are stored",
		humanize.IBytes(uint64(a.bytes)), humanize.IBytes(uint64(r.policy.cap/2)))))
}

func systemLine(l engine.LogLine, text string) engine.LogLine {
	return engine.LogLine{Stage: l.Stage, Action: l.Action, Attempt: l.Attempt, Rollback: l.Rollback,
		Stream: engine.System, Time: time.Now(), Text: text}
}

// logWriter batches lines into the store and keeps each cut log's tail
// within half the cap by deleting its oldest tail lines.
type logWriter struct {
	db    *store.DB
	runID string
	cap   int64
	lines []store.LogLine
	notes []bool
	tails map[logKey]*tail
}

// tail is the stored tail of a cut log: the lines after the cut note,
// oldest first, with their sizes.
type tail struct {
	after   int64 // the note's seq
	seqs    []int64
	sizes   []int64
	bytes   int64
	deleted int64 // lines with seq up to this are gone
}

func newLogWriter(db *store.DB, runID string, p *Policy) *logWriter {
	return &logWriter{db: db, runID: runID, cap: p.cap, tails: make(map[logKey]*tail)}
}

func (w *logWriter) pending() int { return len(w.lines) }

func (w *logWriter) add(l engine.LogLine, cutNote bool) {
	w.lines = append(w.lines, store.LogLine{RunID: w.runID, Stage: l.Stage, Action: l.Action, Attempt: l.Attempt,
		Rollback: l.Rollback, Stream: string(l.Stream), Time: l.Time, Text: l.Text})
	w.notes = append(w.notes, cutNote)
}

func (w *logWriter) flush(ctx context.Context) {
	if len(w.lines) == 0 {
		return
	}
	defer func() { w.lines, w.notes = w.lines[:0], w.notes[:0] }()
	if err := w.db.AppendLogLines(ctx, w.lines); err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Str(logkey.Run, w.runID).Msg("store log lines")
		return
	}
	trimmed := map[logKey]bool{}
	for i, l := range w.lines {
		k := logKey{l.Stage, l.Action, l.Attempt, l.Rollback}
		if w.notes[i] {
			w.tails[k] = &tail{after: l.Seq, deleted: l.Seq}
			continue
		}
		t := w.tails[k]
		if t == nil {
			continue
		}
		size := int64(len(l.Text)) + lineOverhead
		t.seqs, t.sizes, t.bytes = append(t.seqs, l.Seq), append(t.sizes, size), t.bytes+size
		for t.bytes > w.cap/2 && len(t.seqs) > 1 {
			t.bytes -= t.sizes[0]
			t.deleted = t.seqs[0]
			t.seqs, t.sizes = t.seqs[1:], t.sizes[1:]
			trimmed[k] = true
		}
	}
	for k := range trimmed {
		t := w.tails[k]
		l := store.LogLine{RunID: w.runID, Stage: k.stage, Action: k.action, Attempt: k.attempt, Rollback: k.rollback}
		if err := w.db.DeleteActionLines(ctx, l, t.after, t.deleted); err != nil {
			zerolog.Ctx(ctx).Error().Err(err).Str(logkey.Run, w.runID).Msg("cut a log to its tail")
		}
	}
}

package engine

import (
	"bytes"
	"sync"
	"unicode/utf8"
)

// maxLineLen bounds one log line: a command that prints megabytes without
// a newline (a minified file, a progress bar) must not grow memory without
// limit nor produce one unreadable event.
const maxLineLen = 64 << 10

// lineWriter turns a command's output stream into lines. The runner hands
// it whatever chunks the pipe yields, so a line may arrive in pieces, and
// the last one may lack its newline; flush emits that one.
type lineWriter struct {
	// mu guards against a runner that writes one stream from more than
	// one goroutine, which runner.Spec rules out but costs little to
	// survive.
	mu    sync.Mutex
	buf   []byte
	masks *masker
	// cont is set while the buffered text continues a line whose start
	// was already emitted because the line was too long.
	cont bool
	// line receives each line without its line ending. atStart is false
	// for the later pieces of a split long line, which must not be read
	// as workflow commands such as ::add-mask::.
	line func(text string, atStart bool)
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	w.drain(false)
	return len(p), nil
}

// flush emits a last line that has no newline.
func (w *lineWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.drain(true)
	w.buf = nil
}

func (w *lineWriter) drain(final bool) {
	off := 0
	for off < len(w.buf) {
		rest := w.buf[off:]
		nl := bytes.IndexByte(rest, '\n')
		end := nl
		if nl < 0 {
			end = len(rest)
		}
		if end <= maxLineLen {
			if nl < 0 && !final {
				break // wait for the rest of the line
			}
			text := bytes.TrimSuffix(rest[:end], []byte{'\r'})
			// An empty remainder after a split exactly at the line's end
			// is not a line of its own.
			if !w.cont || len(text) > 0 {
				w.line(string(text), !w.cont)
			}
			w.cont = false
			off += end
			if nl >= 0 {
				off++
			}
			continue
		}
		// A long line: to split it without cutting a secret in two, the
		// bytes a secret straddling the cut could reach must be here.
		if nl < 0 && !final && len(rest) < maxLineLen+w.masks.maxLen() {
			break
		}
		cut := w.cutPoint(rest[:end])
		w.line(string(rest[:cut]), !w.cont)
		w.cont = true
		off += cut
	}
	// Keep the unconsumed bytes at the front so the buffer does not creep.
	n := copy(w.buf, w.buf[off:])
	w.buf = w.buf[:n]
}

// cutPoint picks where to split a line longer than maxLineLen: not inside
// a UTF-8 sequence, and not inside a secret.
func (w *lineWriter) cutPoint(line []byte) int {
	cut := maxLineLen
	for i := 0; i < utf8.UTFMax-1 && cut > 0 && !utf8.RuneStart(line[cut]); i++ {
		cut--
	}
	if cut == 0 || !utf8.RuneStart(line[cut]) {
		cut = maxLineLen // not UTF-8 anyway
	}
	return w.masks.safeCut(line, cut)
}

package engine

import (
	"cmp"
	"slices"
	"strings"
	"sync"
)

// maskText replaces a secret in logs.
const maskText = "***"

// masker hides secret values in text. One masker serves a whole run, so a
// value added by one action's ::add-mask:: is hidden in every action's
// output from then on.
type masker struct {
	mu     sync.RWMutex
	values map[string]struct{}
	// sorted holds the values longest first, so that a secret containing
	// another one is replaced whole rather than leaving its remainder.
	sorted []string
	repl   *strings.Replacer
}

func newMasker() *masker {
	return &masker{values: map[string]struct{}{}}
}

// add registers a secret value. A multi-line value is also registered line
// by line, because logs are split into lines before they are masked and
// the whole value then never appears in one piece.
func (m *masker) add(value string) {
	var parts []string
	for line := range strings.SplitSeq(value, "\n") {
		line = strings.TrimSuffix(line, "\r")
		parts = append(parts, line)
		// A shell's word splitting drops surrounding blanks, so the
		// trimmed form is what an unquoted echo prints.
		if t := strings.TrimSpace(line); t != line {
			parts = append(parts, t)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	changed := false
	for _, p := range parts {
		if p == "" {
			continue
		}
		if _, ok := m.values[p]; ok {
			continue
		}
		m.values[p] = struct{}{}
		changed = true
	}
	if !changed {
		return
	}
	m.sorted = m.sorted[:0]
	for v := range m.values {
		m.sorted = append(m.sorted, v)
	}
	slices.SortFunc(m.sorted, func(a, b string) int {
		// Longest first; ties by value so the order is deterministic.
		if c := cmp.Compare(len(b), len(a)); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	// strings.Replacer tries the pairs in argument order at each position,
	// so longest first makes the longest secret win.
	pairs := make([]string, 0, 2*len(m.sorted))
	for _, v := range m.sorted {
		pairs = append(pairs, v, maskText)
	}
	m.repl = strings.NewReplacer(pairs...)
}

// mask returns s with every secret replaced by ***.
func (m *masker) mask(s string) string {
	m.mu.RLock()
	r := m.repl
	m.mu.RUnlock()
	if r == nil {
		return s
	}
	return r.Replace(s)
}

// maxLen is the length of the longest secret, 0 without any.
func (m *masker) maxLen() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if len(m.sorted) == 0 {
		return 0
	}
	return len(m.sorted[0])
}

// safeCut moves a proposed cut of b (0 < cut < len(b)) so that it does
// not fall inside a secret: splitting a long line in the middle of a
// secret would leave two halves that no longer match it. The cut moves to
// the start of the secret, or past its end when the secret starts at 0.
// b must extend at least maxLen()-1 bytes past cut for every straddling
// secret to be seen.
func (m *masker) safeCut(b []byte, cut int) int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	// Moving the cut can make it fall inside another secret, so repeat
	// until it settles; each pass moves it, so the bound is generous.
	for range len(m.sorted) + 1 {
		moved := false
		for _, v := range m.sorted {
			if len(v) < 2 {
				continue
			}
			lo := max(0, cut-len(v)+1)
			hi := min(len(b), cut+len(v)-1)
			if hi-lo < len(v) {
				continue
			}
			window := string(b[lo:hi])
			for off := 0; ; {
				i := strings.Index(window[off:], v)
				if i < 0 {
					break
				}
				start := lo + off + i
				if start < cut && cut < start+len(v) {
					if start > 0 {
						cut = start
					} else {
						cut = start + len(v)
					}
					moved = true
					break
				}
				off += i + 1
			}
		}
		if !moved {
			break
		}
	}
	return cut
}

package engine

import (
	"slices"
	"strings"
	"testing"
)

func TestMasker(t *testing.T) {
	tests := []struct {
		name    string
		secrets []string
		in      string
		want    string
	}{
		{"none", nil, "hello", "hello"},
		{"one", []string{"s3cret"}, "a s3cret b s3cret", "a *** b ***"},
		{"longest first", []string{"abc", "abcdef"}, "xabcdefx abc", "x***x ***"},
		{"longest first, added the other way", []string{"abcdef", "abc"}, "xabcdefx abc", "x***x ***"},
		{"multi-line value", []string{"line-one\nline-two\r\n"}, "line-one and line-two", "*** and ***"},
		{"trimmed form", []string{"  padded  "}, "echo padded", "echo ***"},
		{"empty ignored", []string{"", "\n"}, "text", "text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMasker()
			for _, s := range tt.secrets {
				m.add(s)
			}
			if got := m.mask(tt.in); got != tt.want {
				t.Errorf("mask(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

type piece struct {
	text    string
	atStart bool
}

func collect(w *lineWriter) *[]piece {
	var got []piece
	w.line = func(text string, atStart bool) { got = append(got, piece{text, atStart}) }
	return &got
}

func TestLineWriter(t *testing.T) {
	long := strings.Repeat("x", maxLineLen+10)
	tests := []struct {
		name   string
		writes []string
		want   []piece
	}{
		{"whole lines", []string{"a\nb\n"}, []piece{{"a", true}, {"b", true}}},
		{"partial writes", []string{"he", "llo\nwor", "ld\n"}, []piece{{"hello", true}, {"world", true}}},
		{"crlf", []string{"a\r\n", "b\r", "\n"}, []piece{{"a", true}, {"b", true}}},
		{"final line without newline", []string{"a\nlast"}, []piece{{"a", true}, {"last", true}}},
		{"empty lines kept", []string{"\n\na\n"}, []piece{{"", true}, {"", true}, {"a", true}}},
		{"long line split", []string{long + "\nnext\n"}, []piece{{long[:maxLineLen], true}, {"xxxxxxxxxx", false}, {"next", true}}},
		{"long line in pieces", []string{long[:100], long[100:], "\n"}, []piece{{long[:maxLineLen], true}, {"xxxxxxxxxx", false}}},
		{"exactly the limit", []string{long[:maxLineLen] + "\n"}, []piece{{long[:maxLineLen], true}}},
		{"long final line", []string{long}, []piece{{long[:maxLineLen], true}, {"xxxxxxxxxx", false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &lineWriter{masks: newMasker()}
			got := collect(w)
			for _, s := range tt.writes {
				if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			w.flush()
			if !slices.Equal(*got, tt.want) {
				t.Errorf("got %d pieces %.200v, want %d %.200v", len(*got), *got, len(tt.want), tt.want)
			}
		})
	}
}

// longestPart returns the longest substring of secret, of at least minLen
// bytes, that s contains, or "".
func longestPart(s, secret string, minLen int) string {
	for n := len(secret); n >= minLen; n-- {
		for i := 0; i+n <= len(secret); i++ {
			if strings.Contains(s, secret[i:i+n]) {
				return secret[i : i+n]
			}
		}
	}
	return ""
}

// A long line must not be split inside a secret, nor inside a UTF-8
// sequence, or the pieces would escape masking or be garbled.
func TestLineWriterSplitKeepsSecretsAndRunes(t *testing.T) {
	secret := "TOPSECRETVALUE"
	m := newMasker()
	m.add(secret)
	w := &lineWriter{masks: m}
	got := collect(w)
	line := strings.Repeat("a", maxLineLen-5) + secret + strings.Repeat("b", 100)
	// Written a byte at a time, the worst case for lookahead.
	for i := range len(line) {
		w.Write([]byte{line[i]})
	}
	w.Write([]byte("\n"))
	w.flush()
	if len(*got) != 2 {
		t.Fatalf("%d pieces", len(*got))
	}
	p0, p1 := (*got)[0].text, (*got)[1].text
	if p0+p1 != line {
		t.Error("the pieces do not add up to the line")
	}
	// The cut is not inside the secret: one piece holds all of it, so
	// masking that piece hides it.
	if !strings.Contains(p0, secret) && !strings.Contains(p1, secret) {
		t.Errorf("the split cut the secret: ...%q | %q...", p0[max(0, len(p0)-10):], p1[:min(len(p1), 10)])
	}
	// Masked, neither piece shows the secret or any part of it.
	for i, p := range []string{p0, p1} {
		if frag := longestPart(m.mask(p), secret, 3); frag != "" {
			t.Errorf("masked piece %d shows %q of the secret", i, frag)
		}
	}

	w = &lineWriter{masks: newMasker()}
	got = collect(w)
	line = strings.Repeat("a", maxLineLen-1) + "é" + "z"
	w.Write([]byte(line))
	w.flush()
	if len(*got) != 2 || (*got)[1].text != "éz" {
		t.Errorf("split inside a rune: %d pieces, last %q", len(*got), (*got)[len(*got)-1].text)
	}
}

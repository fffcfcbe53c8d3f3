package web

import (
	"reflect"
	"strings"
	"testing"
)

func TestRenderANSI(t *testing.T) {
	tests := []struct {
		name, in string
		want     []Segment
	}{
		{"plain", "hello <b>", []Segment{{Text: "hello <b>"}}},
		{"colour and reset", "\x1b[31mred\x1b[0m plain", []Segment{{Class: "f2", Text: "red"}, {Text: " plain"}}},
		{"bold bright on blue", "\x1b[1;92;44mx", []Segment{{Class: "f11 b5 sb", Text: "x"}}},
		{"256 colours: basic kept, others dropped", "\x1b[38;5;1ma\x1b[38;5;200mb", []Segment{{Class: "f2", Text: "a"}, {Text: "b"}}},
		{"truecolour dropped, what follows kept", "\x1b[38;2;1;2;3;1mx", []Segment{{Class: "sb", Text: "x"}}},
		{"cursor moves and titles dropped", "a\x1b[2Kb\x1b]0;title\x07c\x1b]8;;http://x\x1b\\d", []Segment{{Text: "abcd"}}},
		{"control characters dropped, tab kept", "a\rb\x00c\td", []Segment{{Text: "abc\td"}}},
		{"unterminated sequence", "a\x1b[31", []Segment{{Text: "a"}}},
		{"only codes", "\x1b[0m", []Segment{{Text: ""}}},
		{"many parameters", "\x1b[" + strings.Repeat("1;", 1000) + "31mx", []Segment{{Class: "sb", Text: "x"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := renderANSI(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("renderANSI(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestShownText(t *testing.T) {
	long := strings.Repeat("é", maxShownLine) // 2 bytes each
	got := shownText(long)
	if len(got) > maxShownLine || !strings.HasPrefix(long, got) || len(got)%2 != 0 {
		t.Errorf("cut to %d bytes, not between characters", len(got))
	}
	if shownText("short") != "short" {
		t.Error("a short line is cut")
	}
}

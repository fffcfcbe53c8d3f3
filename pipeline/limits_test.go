package pipeline

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// allocated is what f allocates, in bytes.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

const oneStage = "stages:\n  - name: s\n    actions:\n      - { name: a, run: 'true' }\n"

func stagesFile(n int) string {
	var b strings.Builder
	b.WriteString("stages:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - name: s%d\n    actions: [{ name: a, run: 'true' }]\n", i)
	}
	return b.String()
}

func actionsFile(actions, onFailure int) string {
	var b strings.Builder
	b.WriteString("stages:\n  - name: s\n    actions:\n")
	for i := range actions {
		fmt.Fprintf(&b, "      - { name: a%d, run: 'true' }\n", i)
	}
	if onFailure > 0 {
		b.WriteString("    on_failure:\n")
		for i := range onFailure {
			fmt.Fprintf(&b, "      - { name: f%d, run: 'true' }\n", i)
		}
	}
	return b.String()
}

// nestedMaps nests block mappings n deep under the first stage's env.
func nestedMaps(n int) string {
	var b strings.Builder
	b.WriteString(oneStage + "env:\n")
	for i := range n {
		fmt.Fprintf(&b, "%sk%d:\n", strings.Repeat(" ", 2*i+2), i)
	}
	return b.String()
}

func manyKeys(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "  K%d: v\n", i)
	}
	return b.String()
}

// Bombs: files made to cost the parser what a pipeline never needs. Each
// is refused with a position, allocating little.
func TestParseRefusesBombs(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		wantPos string
		wantMsg string
	}{
		{"200 KB of nested flow sequences", "stages: " + strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000) + "\n", "1:72", "nesting deeper than 64"},
		{"nested flow mappings", "stages: " + strings.Repeat("{a: ", 50_000) + "1" + strings.Repeat("}", 50_000) + "\n", "1:", "nesting deeper than 64"},
		{"compact block sequences", "stages:\n" + strings.Repeat("- ", 100_000) + "x\n", "2:", "nesting deeper than 64"},
		{"flow sequences over lines", "stages:\n" + strings.Repeat("[\n", 50_000) + strings.Repeat("]\n", 50_000), "65:1", "nesting deeper than 64"},
		{"anchored then nested", "x: &a " + strings.Repeat("[", 100) + strings.Repeat("]", 100) + "\n" + oneStage, "1:", "nesting deeper than 64"},
		{"1000 stages", stagesFile(1000), "102:5", "at most 50 stages; this is stage 51 of 1000"},
		{"101 actions", actionsFile(101, 0), "104:9", "has 101 actions; a stage may have at most 100"},
		{"100 actions and a rollback", actionsFile(100, 1), "105:9", "has 101 actions"},
		{"over 1 MB", oneStage + "# " + strings.Repeat("x", MaxFileSize) + "\n", "1:1", "at most 1048576"},
		{"block mappings 65 deep", nestedMaps(65), "", "nesting deeper than 64"},
		{"100,000 keys", "env:\n" + manyKeys(80_000), "258:", "at most 256 keys"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			alloc := allocated(func() { _, err = Parse("p.yml", []byte(tt.data)) })
			var errs Errors
			if !errors.As(err, &errs) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("error %v, want one saying %q", err, tt.wantMsg)
			}
			if !strings.Contains(err.Error(), "p.yml:"+tt.wantPos) {
				t.Errorf("error %v not at p.yml:%s", err, tt.wantPos)
			}
			// The parser takes some 200 times a file it parses; the
			// bombs, which it would take gigabytes for, are refused
			// before it sees them.
			if limit := uint64(300*len(tt.data) + 8<<20); alloc > limit {
				t.Errorf("allocated %d MB refusing a %d KB file", alloc>>20, len(tt.data)>>10)
			}
		})
	}
}

// What the limits allow, and what merely looks deep, still parses.
func TestParseWithinLimits(t *testing.T) {
	deepScript := "stages:\n  - name: s\n    actions:\n      - name: a\n        run: |\n          " +
		strings.Repeat("[", 200) + "\n          echo '{'\n      - name: b\n        run: \"" + strings.Repeat("[", 200) + "\"\n" +
		"      - name: c  # " + strings.Repeat("[", 200) + "\n        run: test [ -f x ] " + strings.Repeat("[", 100) + "\n" +
		"      - name: d\n        run: '" + strings.Repeat("{", 100) + "'\n"
	tests := []struct {
		name string
		data string
	}{
		{"50 stages", stagesFile(50)},
		{"100 actions", actionsFile(99, 1)},
		{"256 variables", oneStage + "env:\n" + manyKeys(256)},
		{"byte-order mark", "\uFEFF" + oneStage},
		{"brackets in scripts, strings and comments", deepScript},
		{"1 MB exactly", oneStage + "#" + strings.Repeat("x", MaxFileSize-len(oneStage)-2) + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Parse("p.yml", []byte(tt.data)); err != nil {
				t.Fatalf("refused: %v", err)
			}
		})
	}
}

// Nesting up to the limit is left to the decoder, which refuses it for
// what it is.
func TestParseDeepButWithinLimit(t *testing.T) {
	_, err := Parse("p.yml", []byte(nestedMaps(60)))
	if err == nil || strings.Contains(err.Error(), "nesting") || !strings.Contains(err.Error(), "must be a string, number or boolean") {
		t.Fatalf("error %v", err)
	}
}

// A file read from disk is read no further than the limit.
func TestParseFileReadsAtMostTheLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.yml")
	if err := os.WriteFile(path, []byte(oneStage+"#"+strings.Repeat("x", 4*MaxFileSize)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ParseFile(path)
	if err == nil || !strings.Contains(err.Error(), "at most 1048576") {
		t.Fatalf("error %v", err)
	}
}

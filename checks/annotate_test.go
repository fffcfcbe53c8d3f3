package checks

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/stagegate/stagegate/pipeline/engine"
)

// parseAll feeds lines to the parser as one attempt of an action run in
// dir, and returns what it yields, including at the attempt's end.
func parseAll(ix fileIndex, dir string, failed bool, lines ...string) []annotation {
	var st parseState
	var out []annotation
	for _, l := range lines {
		out = append(out, parseLine(ix, &st, dir, sanitizeLine(l))...)
	}
	return append(out, st.finish(failed)...)
}

func TestParseAnnotations(t *testing.T) {
	repo := NewFileIndex([]string{
		"app.go", "main.go", "cmd/tool/main.go", "pkg/a.go", "pkg/a_test.go",
		"web/src/app.ts", "dup/x_test.go", "other/x_test.go", "my dir/f.go",
	})
	ix := fileIndex{has: repo.Has, named: repo.Named, workspace: "/work/ws"}
	fail := func(p string, line, col int, msg string) annotation {
		return annotation{Path: p, StartLine: line, EndLine: line, StartCol: col, EndCol: col, Level: levelFailure, Message: msg}
	}
	for _, tc := range []struct {
		name   string
		ix     fileIndex
		dir    string
		failed bool
		lines  []string
		want   []annotation
	}{
		{name: "workflow error, all properties", ix: ix, lines: []string{
			"::error file=app.go,line=10,col=15,endLine=12,endColumn=3,title=T::message",
		}, want: []annotation{{Path: "app.go", StartLine: 10, EndLine: 12, Level: levelFailure, Message: "message", Title: "T"}}},
		{name: "workflow columns on one line", ix: ix, lines: []string{
			"::warning file=./app.go,line=4,col=2,endColumn=9::careful",
			"::notice file=app.go,line=5,col=7::fyi",
			"::notice file=app.go,line=6,endColumn=7::no start column",
		}, want: []annotation{
			{Path: "app.go", StartLine: 4, EndLine: 4, StartCol: 2, EndCol: 9, Level: levelWarning, Message: "careful"},
			{Path: "app.go", StartLine: 5, EndLine: 5, StartCol: 7, EndCol: 7, Level: levelNotice, Message: "fyi"},
			{Path: "app.go", StartLine: 6, EndLine: 6, Level: levelNotice, Message: "no start column"},
		}},
		{name: "workflow escapes", ix: ix, lines: []string{
			"::error file=app.go,line=1,title=a%3Ab%2Cc%25d::100%25 broken%0Anext line%0D%3A kept",
			"::error file=app.go,line=2::%253A is literal",
		}, want: []annotation{
			{Path: "app.go", StartLine: 1, EndLine: 1, Level: levelFailure, Message: "100% broken\nnext line\r%3A kept", Title: "a:b,c%d"},
			{Path: "app.go", StartLine: 2, EndLine: 2, Level: levelFailure, Message: "%3A is literal"},
		}},
		{name: "workflow without file or line, unknown file, other commands", ix: ix, lines: []string{
			"::error::no file",
			"::error file=app.go::no line",
			"::error file=nope.go,line=3::unknown file",
			"::debug::not an annotation",
			"::group::build",
			"  ::warning file=/work/ws/pkg/a.go,line=8::absolute in the workspace",
			"::warning file=/elsewhere/a.go,line=8::absolute elsewhere",
			"::error file=../app.go,line=1::outside",
		}, want: []annotation{
			{Path: "app.go", StartLine: 1, EndLine: 1, Level: levelFailure, Message: "no line"},
			{Path: "pkg/a.go", StartLine: 8, EndLine: 8, Level: levelWarning, Message: "absolute in the workspace"},
		}},
		{name: "workflow trusted without a file list", ix: fileIndex{}, lines: []string{
			"::error file=anything.go,line=2::trusted",
		}, want: []annotation{{Path: "anything.go", StartLine: 2, EndLine: 2, Level: levelFailure, Message: "trusted"}}},
		{name: "compiler and vet lines", ix: ix, lines: []string{
			"# github.com/octo/app",
			"./main.go:3:2: undefined: x",
			"cmd/tool/main.go:10: missing return",
			"/work/ws/pkg/a.go:7:1: exported func A should have comment",
			"\x1b[1mmain.go:4:5:\x1b[0m warning: unused variable",
			"main.go:5:1: note: declared here",
			"nope.go:1:1: unknown file",
			"12:30:45: timestamp",
			"http://example.com:8080: not a path",
			"main.go:0:1: no line zero",
			"my dir/f.go:1:1: spaces are not paths",
		}, want: []annotation{
			fail("main.go", 3, 2, "undefined: x"),
			fail("cmd/tool/main.go", 10, 0, "missing return"),
			fail("pkg/a.go", 7, 1, "exported func A should have comment"),
			{Path: "main.go", StartLine: 4, EndLine: 4, StartCol: 5, EndCol: 5, Level: levelWarning, Message: "warning: unused variable"},
			{Path: "main.go", StartLine: 5, EndLine: 5, StartCol: 1, EndCol: 1, Level: levelNotice, Message: "note: declared here"},
		}},
		{name: "paths relative to the action's dir", ix: ix, dir: "web", lines: []string{
			"src/app.ts:3:4 - error TS2304: not this format",
			"src/app.ts(3,4): error TS2304: nor this",
			"src/app.ts:3:4: error TS2304: Cannot find name 'x'.",
		}, want: []annotation{fail("web/src/app.ts", 3, 4, "error TS2304: Cannot find name 'x'.")}},
		{name: "no file list, no compiler annotations", ix: fileIndex{}, lines: []string{"main.go:3:2: undefined: x"}},
		{name: "go test without -v", ix: ix, lines: []string{
			"--- FAIL: TestA (0.00s)",
			"    a_test.go:12: got 1, want 2",
			"        continued message",
			"    --- FAIL: TestA/sub (0.00s)",
			"        a_test.go:20: sub failed",
			"    x_test.go:3: ambiguous base name",
			"    zzz_test.go:3: unknown base name",
			"FAIL",
			"FAIL\tgithub.com/octo/app/pkg\t0.01s",
		}, want: []annotation{fail("pkg/a_test.go", 12, 0, "got 1, want 2"), fail("pkg/a_test.go", 20, 0, "sub failed")}},
		{name: "go test -v keeps only failed tests' lines", ix: ix, lines: []string{
			"=== RUN   TestPass",
			"    a_test.go:5: just logging",
			"--- PASS: TestPass (0.00s)",
			"=== RUN   TestFail",
			"    a_test.go:9: boom",
			"--- FAIL: TestFail (0.00s)",
			"=== RUN   TestSkip",
			"    a_test.go:30: skipping",
			"--- SKIP: TestSkip (0.00s)",
			"FAIL",
		}, want: []annotation{fail("pkg/a_test.go", 9, 0, "boom")}},
		{name: "go test cut short by a failure", ix: ix, failed: true, lines: []string{
			"=== RUN   TestHang",
			"    a_test.go:40: waiting",
		}, want: []annotation{fail("pkg/a_test.go", 40, 0, "waiting")}},
		{name: "go test passing package", ix: ix, failed: false, lines: []string{
			"=== RUN   TestLog",
			"    a_test.go:40: log",
			"ok  \tgithub.com/octo/app/pkg\t0.01s",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := parseAll(tc.ix, tc.dir, tc.failed, tc.lines...)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got:\n%s\nwant:\n%s", fmtAnns(got), fmtAnns(tc.want))
			}
		})
	}
}

func TestAnnotationSet(t *testing.T) {
	var s annotationSet
	a := annotation{Path: "a.go", StartLine: 1, EndLine: 1, Level: levelFailure, Message: "x"}
	s.add(a)
	s.add(a)
	for i := range maxAnnotations + 10 {
		s.add(annotation{Path: "a.go", StartLine: i + 2, EndLine: i + 2, Level: levelFailure, Message: "x"})
	}
	if len(s.list) != maxAnnotations || s.over != 11 {
		t.Errorf("kept %d, over %d", len(s.list), s.over)
	}
}

// TestAnnotationToGitHub checks the column rule on the wire: columns go
// only with a single line.
func TestAnnotationToGitHub(t *testing.T) {
	multi := annotation{Path: "a.go", StartLine: 1, EndLine: 3, StartCol: 2, EndCol: 4, Level: levelFailure, Message: "m"}
	if g := multi.toGitHub(); g.StartColumn != nil || g.EndColumn != nil {
		t.Errorf("columns sent on lines 1-3: %v", g)
	}
	single := annotation{Path: "a.go", StartLine: 2, EndLine: 2, StartCol: 5, Level: levelWarning, Message: "m", Title: "t"}
	g := single.toGitHub()
	if g.GetStartColumn() != 5 || g.GetEndColumn() != 5 || g.GetTitle() != "t" {
		t.Errorf("single-line annotation: %v", g)
	}
	validateAnnotation(t, "single", g)
	long := parseAll(fileIndex{}, "", false, "::error file=a.go,line=1,title="+strings.Repeat("t", 300)+"::"+strings.Repeat("m", 10000))
	validateAnnotation(t, "long", long[0].toGitHub())
}

func fmtAnns(as []annotation) string {
	var b strings.Builder
	for _, a := range as {
		fmt.Fprintf(&b, "  %+v\n", a)
	}
	return b.String()
}

// BenchmarkObserveLogLine measures what the engine pays per log line.
func BenchmarkObserveLogLine(b *testing.B) {
	repo := NewFileIndex([]string{"main.go"})
	r := NewReporter(newFakeAPI(nil), testTarget(), Options{Files: repo.Has, FilesNamed: repo.Named})
	r.Observe(engine.StageStarted{Stage: "build"})
	texts := []string{
		"ok  \tgithub.com/octo/app/pkg\t0.01s",
		"compiling package github.com/octo/app/internal/server with some flags",
		"./main.go:3:2: undefined: x",
		"    a_test.go:12: log line",
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r.Observe(engine.LogLine{Stage: "build", Action: "compile", Attempt: 1, Text: texts[i%len(texts)]})
	}
}

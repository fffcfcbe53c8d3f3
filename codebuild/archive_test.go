//go:build unix

package codebuild

import (
	"archive/zip"
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type entry struct {
	name, content string
	mode          fs.FileMode
}

// ZipOf builds an archive of entries, as a build could send back.
func ZipOf(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		mode := e.mode
		if mode == 0 {
			mode = 0o644
		}
		h.SetMode(mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(e.content)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestHostileArchivesAreRefused(t *testing.T) {
	many := make([]entry, 11)
	for i := range many {
		many[i] = entry{name: strings.Repeat("f", i+1), content: "x"}
	}
	for _, tc := range []struct {
		name    string
		entries []entry
	}{
		{"dot-dot", []entry{{name: "ok.txt", content: "fine"}, {name: "../escape.txt", content: "owned"}}},
		{"nested dot-dot", []entry{{name: "a/../../escape.txt", content: "owned"}}},
		{"absolute", []entry{{name: "/tmp/escape.txt", content: "owned"}}},
		{"backslash", []entry{{name: `..\escape.txt`, content: "owned"}}},
		{"link out, absolute", []entry{{name: "link", content: "/etc", mode: fs.ModeSymlink | 0o777}}},
		{"link out, relative", []entry{{name: "sub/link", content: "../../outside", mode: fs.ModeSymlink | 0o777}}},
		{"write through a link", []entry{{name: "ws-link/file.txt", content: "owned"}}},
		{"device", []entry{{name: "dev", mode: fs.ModeDevice | 0o644}}},
		{"too many entries", many},
		{"too many bytes", []entry{{name: "big", content: strings.Repeat("z", 2000)}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parent := t.TempDir()
			ws := filepath.Join(parent, "ws")
			outside := filepath.Join(parent, "outside")
			for _, d := range []string{ws, outside} {
				if err := os.Mkdir(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			// A link the workspace already had, pointing out of it.
			if err := os.Symlink(outside, filepath.Join(ws, "ws-link")); err != nil {
				t.Fatal(err)
			}
			data := ZipOf(t, tc.entries...)
			err := unzipInto(bytes.NewReader(data), int64(len(data)), ws, Limits{Entries: 10, Bytes: 1000})
			if !errors.Is(err, errHostile) {
				t.Fatalf("unzip: %v, want a refusal", err)
			}
			for _, p := range []string{filepath.Join(parent, "escape.txt"), filepath.Join(outside, "file.txt"), filepath.Join(ws, "ok.txt")} {
				if _, err := os.Lstat(p); err == nil {
					t.Errorf("%s was written", p)
				}
			}
		})
	}
}

func TestArchiveRoundTrip(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	if err := os.MkdirAll(filepath.Join(src, "a", "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "a", "b", "run.sh"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("b/run.sh", filepath.Join(src, "a", "run")); err != nil {
		t.Fatal(err)
	}
	// An existing file is replaced, not written through.
	if err := os.MkdirAll(filepath.Join(dst, "a"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dst, "a", "run"), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := zipTrees(&buf, Limits{}, tree{dir: src}); err != nil {
		t.Fatal(err)
	}
	if err := unzipInto(bytes.NewReader(buf.Bytes()), int64(buf.Len()), dst, Limits{}); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dst, "a", "b", "run.sh"))
	if err != nil || st.Mode().Perm()&0o100 == 0 {
		t.Errorf("run.sh %v, %v: want it executable", st, err)
	}
	if target, err := os.Readlink(filepath.Join(dst, "a", "run")); err != nil || target != "b/run.sh" {
		t.Errorf("a/run links to %q, %v", target, err)
	}
}

// The workspace is zipped by the server, outside any sandbox: a link an
// earlier action left there must travel as a link, never as the content
// of the host file it names.
func TestZipKeepsLinksAsLinks(t *testing.T) {
	ws, outside := t.TempDir(), t.TempDir()
	secret := filepath.Join(outside, "server-key.pem")
	if err := os.WriteFile(secret, []byte("PRIVATE KEY"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, filepath.Join(ws, "key")); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := zipTrees(&buf, Limits{}, tree{dir: ws}); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(buf.Bytes(), []byte("PRIVATE KEY")) {
		t.Fatal("the archive holds the linked file's content")
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil || len(zr.File) != 1 || zr.File[0].Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("archive %v, %v: want one link", zr, err)
	}
}

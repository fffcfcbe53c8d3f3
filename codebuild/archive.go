package codebuild

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// Limits of a result archive, so that a build cannot make the server
// allocate or write without bound.
type Limits struct {
	// Entries is the most files and directories; zero means 100000.
	Entries int
	// Bytes is the most bytes the files hold once unpacked, and the
	// most the archive may weigh; zero means 4 GiB.
	Bytes int64
}

func (l Limits) entries() int {
	if l.Entries > 0 {
		return l.Entries
	}
	return 100000
}

func (l Limits) bytes() int64 {
	if l.Bytes > 0 {
		return l.Bytes
	}
	return 4 << 30
}

// tree is a directory to ship and the path it takes in the archive
// ("" for its top).
type tree struct {
	dir, prefix string
}

// zipTrees writes the trees' regular files, directories and symbolic
// links to w as a zip archive. Links are stored as links (their target as
// the entry's content), as zip and CodeBuild know them; other files
// (sockets, devices) are left out. The archive is bounded by lim as a
// result archive is: a workspace too big to come back is refused before
// it goes.
func zipTrees(w io.Writer, lim Limits, trees ...tree) error {
	zw := zip.NewWriter(w)
	entries, budget := 0, lim.bytes()
	for _, tr := range trees {
		if tr.prefix != "" {
			entries++
			if _, err := zw.CreateHeader(&zip.FileHeader{Name: tr.prefix + "/", Modified: time.Now()}); err != nil {
				return fmt.Errorf("zip %s: %w", tr.dir, err)
			}
		}
		if tr.dir == "" {
			continue
		}
		if err := zipTree(zw, tr, lim, &entries, &budget); err != nil {
			return fmt.Errorf("zip %s: %w", tr.dir, err)
		}
	}
	return zw.Close()
}

// zipTree adds one tree to zw, counting its entries and bytes against
// what is left of lim.
func zipTree(zw *zip.Writer, tr tree, lim Limits, entries *int, budget *int64) error {
	root, err := os.OpenRoot(tr.dir)
	if err != nil {
		return err
	}
	defer root.Close()
	return filepath.WalkDir(tr.dir, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && p != tr.dir {
			return nil
		} else if err != nil {
			return err
		}
		rel, err := filepath.Rel(tr.dir, p)
		if err != nil || rel == "." {
			return err
		}
		// A file that went since the directory was read (an artifact
		// another action was just storing, under a temporary name) is
		// left out rather than failing the action.
		info, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		} else if err != nil {
			return err
		}
		mode := info.Mode()
		var target string
		var f *os.File
		switch {
		case mode&fs.ModeSymlink != 0:
			if target, err = os.Readlink(p); errors.Is(err, fs.ErrNotExist) {
				return nil
			} else if err != nil {
				return err
			}
		case mode.IsRegular():
			// Through root: a file replaced by a link out of the tree
			// since it was listed is not followed there.
			if f, err = root.Open(rel); errors.Is(err, fs.ErrNotExist) {
				return nil
			} else if err != nil {
				return err
			}
			defer f.Close()
		case !mode.IsDir():
			return nil
		}
		if *entries++; *entries > lim.entries() {
			return fmt.Errorf("more than %d files and directories to ship", lim.entries())
		}
		h, err := zip.FileInfoHeader(info)
		if err != nil {
			return err
		}
		h.Name = path.Join(tr.prefix, filepath.ToSlash(rel))
		if mode.IsDir() {
			h.Name += "/"
			_, err = zw.CreateHeader(h)
			return err
		}
		h.Method = zip.Deflate
		fw, err := zw.CreateHeader(h)
		if err != nil {
			return err
		}
		if f == nil {
			_, err = io.WriteString(fw, target)
			return err
		}
		// Counted as copied: a file may grow while it is read.
		n, err := io.Copy(fw, io.LimitReader(f, *budget+1))
		if *budget -= n; err == nil && *budget < 0 {
			err = fmt.Errorf("more than %d bytes to ship", lim.bytes())
		}
		return err
	})
}

// errHostile is the cause of an archive refused for what it holds.
var errHostile = errors.New("refused result archive")

// unzipInto writes the archive's entries into dir, over what is there.
// It is written by a build, which may be anyone's: every entry must stay
// inside dir (no .., no absolute path, no path through a link), a link
// must point inside dir, and the entries and bytes are bounded, counted
// as they are written rather than as the archive declares them.
func unzipInto(r io.ReaderAt, size int64, dir string, lim Limits) error {
	if size > lim.bytes() {
		return fmt.Errorf("%w: the archive is %d bytes, more than %d", errHostile, size, lim.bytes())
	}
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return fmt.Errorf("read result archive: %w", err)
	}
	if len(zr.File) > lim.entries() {
		return fmt.Errorf("%w: %d entries, more than %d", errHostile, len(zr.File), lim.entries())
	}
	// Check every name and the declared sizes before writing anything,
	// so that a refused archive leaves the workspace as it was; the
	// sizes are counted again as they are written, since a zip may lie.
	var declared uint64
	for _, f := range zr.File {
		declared += f.UncompressedSize64
		if declared > uint64(lim.bytes()) {
			return fmt.Errorf("%w: its files hold more than %d bytes", errHostile, lim.bytes())
		}
		if _, err := entryPath(f.Name); err != nil {
			return err
		}
		if f.Mode()&fs.ModeSymlink != 0 {
			if err := checkLink(f); err != nil {
				return err
			}
		} else if !f.Mode().IsRegular() && !f.Mode().IsDir() {
			return fmt.Errorf("%w: %s is neither a file, a directory nor a link", errHostile, f.Name)
		}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("open workspace: %w", err)
	}
	defer root.Close()
	budget := lim.bytes()
	for _, f := range zr.File {
		name, _ := entryPath(f.Name)
		if err := writeEntry(root, f, name, &budget); err != nil {
			return err
		}
	}
	return nil
}

// entryPath is an archive entry's path as a local relative path.
func entryPath(name string) (string, error) {
	clean := strings.TrimSuffix(name, "/")
	if clean == "" || strings.Contains(name, "\\") || path.IsAbs(clean) || !filepath.IsLocal(filepath.FromSlash(clean)) {
		return "", fmt.Errorf("%w: entry %q is not a path inside the workspace", errHostile, name)
	}
	return filepath.FromSlash(path.Clean(clean)), nil
}

// checkLink refuses a link whose target leaves the workspace, judged
// lexically from the link's own directory.
func checkLink(f *zip.File) error {
	if f.UncompressedSize64 > 4096 {
		return fmt.Errorf("%w: link %s has a %d-byte target", errHostile, f.Name, f.UncompressedSize64)
	}
	rc, err := f.Open()
	if err != nil {
		return fmt.Errorf("read link %s: %w", f.Name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, 4097))
	if err != nil {
		return fmt.Errorf("read link %s: %w", f.Name, err)
	}
	target := string(b)
	joined := path.Join(path.Dir(strings.TrimSuffix(f.Name, "/")), target)
	if target == "" || path.IsAbs(target) || !filepath.IsLocal(filepath.FromSlash(joined)) {
		return fmt.Errorf("%w: link %s points out of the workspace (%q)", errHostile, f.Name, target)
	}
	return nil
}

// writeEntry writes one entry through root, which refuses to follow a
// link out of the workspace, whatever links earlier entries or the
// workspace itself hold.
func writeEntry(root *os.Root, f *zip.File, name string, budget *int64) error {
	mode := f.Mode()
	if mode.IsDir() {
		if err := root.MkdirAll(name, 0o755); err != nil {
			return fmt.Errorf("%w: %s: %w", errHostile, f.Name, err)
		}
		return nil
	}
	if dir := filepath.Dir(name); dir != "." {
		if err := root.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("%w: %s: %w", errHostile, f.Name, err)
		}
	}
	// What was there goes: a link must not be written through, and a
	// file must not keep a mode the build did not give it.
	if err := root.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("replace %s: %w", f.Name, err)
	}
	rc, err := f.Open()
	if err != nil {
		return fmt.Errorf("read %s: %w", f.Name, err)
	}
	defer rc.Close()
	if mode&fs.ModeSymlink != 0 {
		b, err := io.ReadAll(io.LimitReader(rc, 4097))
		if err != nil {
			return fmt.Errorf("read link %s: %w", f.Name, err)
		}
		if err := root.Symlink(string(b), name); err != nil {
			return fmt.Errorf("link %s: %w", f.Name, err)
		}
		return nil
	}
	out, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode.Perm()|0o600)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", errHostile, f.Name, err)
	}
	n, err := io.Copy(out, io.LimitReader(rc, *budget+1))
	*budget -= n
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", f.Name, err)
	}
	if *budget < 0 {
		return fmt.Errorf("%w: the files hold more than the limit of bytes", errHostile)
	}
	return nil
}

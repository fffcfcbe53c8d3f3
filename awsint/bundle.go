package awsint

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
)

// maxBundle is the largest bundle an action zips: Elastic Beanstalk's
// limit for a source bundle, and plenty for a CodeDeploy revision, so
// that a workspace cannot fill the disk through one.
// https://docs.aws.amazon.com/elasticbeanstalk/latest/dg/applications-sourcebundle.html
const maxBundle = 500 << 20

var errBundleTooLarge = fmt.Errorf("the bundle is larger than %d MB, the most an action uploads (Elastic Beanstalk's limit)", maxBundle>>20)

// zipDir zips the regular files under dir of the workspace root into a
// temporary file, paths relative to dir, and returns the file, rewound.
// The caller removes it. A symbolic link is left out: the root keeps it
// from reaching outside the workspace, and a bundle has no use for one.
// What is left out is told to log, when it is set.
func zipDir(root *os.Root, dir string, log func(string)) (*os.File, int, error) {
	f, err := os.CreateTemp("", "stagegate-bundle-*.zip")
	if err != nil {
		return nil, 0, err
	}
	n, err := writeZip(&limitWriter{w: f, left: maxBundle}, root, dir, log)
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, 0, err
	}
	return f, n, nil
}

// writeZip zips the regular files under dir of root into w, paths
// relative to dir and modes kept (hook scripts must stay executable).
// Anything else, a symbolic link included, is left out and told to log
// when it is set.
func writeZip(w io.Writer, root *os.Root, dir string, log func(string)) (int, error) {
	src := path.Clean(filepath.ToSlash(dir))
	z := zip.NewWriter(w)
	files := 0
	err := fs.WalkDir(root.FS(), src, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() {
			if log != nil {
				log(fmt.Sprintf("left out %s: not a regular file", name))
			}
			return nil
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(name, src), "/")
		if src == "." {
			rel = name
		}
		in, err := root.Open(name)
		if err != nil {
			return err
		}
		defer in.Close()
		info, err := in.Stat()
		if err != nil {
			return err
		}
		h, err := zip.FileInfoHeader(info)
		if err != nil {
			return err
		}
		h.Name, h.Method = rel, zip.Deflate
		w, err := z.CreateHeader(h)
		if err != nil {
			return err
		}
		if _, err := io.Copy(w, in); err != nil {
			return err
		}
		files++
		return nil
	})
	if err == nil {
		err = z.Close()
	}
	if errors.Is(err, errBundleTooLarge) {
		return 0, errBundleTooLarge
	}
	if err != nil {
		return 0, fmt.Errorf("zip %s: %w", dir, err)
	}
	if files == 0 {
		return 0, fmt.Errorf("zip %s: no files in it", dir)
	}
	return files, nil
}

// limitWriter fails once more than left bytes are written.
type limitWriter struct {
	w    io.Writer
	left int64
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > l.left {
		return 0, errBundleTooLarge
	}
	l.left -= int64(len(p))
	return l.w.Write(p)
}

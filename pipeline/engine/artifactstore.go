package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// ArtifactKey names what one action stored in one run.
type ArtifactKey struct {
	Run, Stage, Action string
}

// ReusedArtifacts is the action under which a run keeps again the
// artifacts of a stage it reused from an earlier run, so that a re-run
// of this run finds them under it. No action has this name: action
// names start with a letter or a digit.
const ReusedArtifacts = "_reused"

// ArtifactStore keeps a run's artifacts beyond the directory its actions
// read them from (Run.ArtifactDir), so that a later run, a re-run from a
// stage or a run resumed elsewhere, can have them back. The engine Puts
// what each action stored; whoever prepares a run Gets what the stages it
// reuses stored. Implementations outside this package (S3) keep the
// pipeline free of any cloud's SDK. A store is scoped by its maker to one
// kind of code (trusted or a fork's): keys name runs, never that scope.
type ArtifactStore interface {
	// Put keeps files, paths relative to dir (slash-separated, as
	// collectArtifacts returns them), as what key stored.
	Put(ctx context.Context, key ArtifactKey, dir string, files []string) error
	// Get copies into dir the files a stage of a run stored, as its
	// StageResult.Artifacts lists them, each read-only (ArtifactMode).
	// A file missing from the store is an error: the stages after it
	// would run without it.
	Get(ctx context.Context, run, stage string, files []string, dir string) error
}

// ValidArtifactPath reports whether p, a stored artifact's path, stays
// inside the directory it is relative to: slash-separated, relative, with
// no . or .. element and no empty one. Paths come from the engine, but
// they are read back from a database or a bucket, where nothing holds
// them to that.
func ValidArtifactPath(p string) bool {
	return fs.ValidPath(p) && p != "." && filepath.IsLocal(filepath.FromSlash(p))
}

// ValidKeyPart reports whether s may name a run, stage or action in a
// store's keys: one path element, not . or .., printable.
func ValidKeyPart(s string) bool {
	if s == "" || s == "." || s == ".." || len(s) > 256 {
		return false
	}
	for _, r := range s {
		if r == '/' || r == '\\' || r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// LocalArtifacts is the artifact store on this machine's disk: each run's
// artifacts in a directory of its own, Root/<run>, at the paths the
// workspace had, as the engine stores them. Its scope is its Root.
type LocalArtifacts struct {
	Root string
}

func (l *LocalArtifacts) runDir(run string) (string, error) {
	if !ValidKeyPart(run) {
		return "", fmt.Errorf("run id %q cannot name an artifact store", run)
	}
	return filepath.Join(l.Root, run), nil
}

// Put copies the files into the run's directory, unless dir is that
// directory already, as when the engine stores into it directly.
func (l *LocalArtifacts) Put(_ context.Context, key ArtifactKey, dir string, files []string) error {
	to, err := l.runDir(key.Run)
	if err != nil {
		return err
	}
	if same, err := sameDir(dir, to); err != nil || same {
		return err
	}
	return copyArtifacts(dir, to, files)
}

// Get copies the files from the run's directory into dir.
func (l *LocalArtifacts) Get(_ context.Context, run, _ string, files []string, dir string) error {
	from, err := l.runDir(run)
	if err != nil {
		return err
	}
	return copyArtifacts(from, dir, files)
}

func sameDir(a, b string) (bool, error) {
	sa, err := os.Stat(a)
	if err != nil {
		return false, fmt.Errorf("artifact dir: %w", err)
	}
	sb, err := os.Stat(b)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("artifact dir: %w", err)
	}
	return os.SameFile(sa, sb), nil
}

// copyArtifacts copies files from one artifact directory to another. The
// source is opened as a root, without following a link or blocking on a
// FIFO: only regular files the engine stored are copied.
func copyArtifacts(from, to string, files []string) error {
	src, err := os.OpenRoot(from)
	if err != nil {
		return fmt.Errorf("artifact store: %w", err)
	}
	defer src.Close()
	for _, p := range files {
		if !ValidArtifactPath(p) {
			return fmt.Errorf("artifact path %q leaves the artifact store", p)
		}
		if err := copyArtifact(src, p, to); err != nil {
			return fmt.Errorf("artifact %s: %w", p, err)
		}
	}
	return nil
}

// OpenArtifact opens the stored artifact p of the directory root, a
// regular file, without following a link or blocking on a FIFO.
func OpenArtifact(root *os.Root, p string) (*os.File, fs.FileInfo, error) {
	if !ValidArtifactPath(p) {
		return nil, nil, fmt.Errorf("artifact path %q leaves the artifact store", p)
	}
	f, err := root.OpenFile(filepath.FromSlash(p), os.O_RDONLY|noFollow, 0)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = errors.New("not a regular file")
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, st, nil
}

func copyArtifact(src *os.Root, p, to string) error {
	in, st, err := OpenArtifact(src, p)
	if err != nil {
		return err
	}
	defer in.Close()
	return WriteArtifact(to, p, st.Mode(), func(w io.Writer) error {
		_, err := io.Copy(w, in)
		return err
	})
}

// WriteArtifact writes the artifact p into the directory dir through a
// temporary file renamed into place, so that a reader never sees half a
// file, with mode ArtifactMode(mode). The rename replaces a file copied
// before, which is read-only, as a resumed run copies again. fill writes
// the content; its error leaves nothing behind.
func WriteArtifact(dir, p string, mode fs.FileMode, fill func(io.Writer) error) (err error) {
	if !ValidArtifactPath(p) {
		return fmt.Errorf("artifact path %q leaves the artifact store", p)
	}
	dst := filepath.Join(dir, filepath.FromSlash(p))
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".stagegate-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = fill(tmp); err != nil {
		return err
	}
	if err = tmp.Chmod(ArtifactMode(mode)); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dst)
}

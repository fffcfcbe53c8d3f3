package engine

import (
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/stagegate/stagegate/pipeline"
)

// collectArtifacts copies the workspace files that globs select into the
// artifact store, at the same relative path, and returns those paths
// (slash-separated, sorted). Files are copied rather than linked so that a
// later stage changing the workspace cannot change what was stored.
//
// A glob that finds nothing is a warning, not an error: the action did
// succeed. Failing to store a file that was found is an error, since later
// stages would deploy without it.
func (rs *runState) collectArtifacts(globs []string, warn func(string)) ([]string, error) {
	norm := make([]string, len(globs))
	for i, g := range globs {
		neg := strings.HasPrefix(g, "!")
		g = strings.TrimPrefix(strings.TrimPrefix(g, "!"), "./")
		if !doublestar.ValidatePattern(g) {
			return nil, fmt.Errorf("artifact glob %q is not valid", globs[i])
		}
		if neg {
			g = "!" + g
		}
		norm[i] = g
	}

	fsys := os.DirFS(rs.workspace)
	found := map[string]fs.FileMode{}
	for i, g := range norm {
		if strings.HasPrefix(g, "!") {
			continue
		}
		files, dirs := 0, 0
		err := doublestar.GlobWalk(fsys, g, func(p string, d fs.DirEntry) error {
			if d.IsDir() {
				dirs++
				return nil
			}
			if rs.insideStores(p) {
				return nil
			}
			files++
			found[p] = d.Type()
			return nil
		}, doublestar.WithNoFollow())
		if err != nil {
			return nil, fmt.Errorf("artifact glob %q: %w", globs[i], err)
		}
		switch {
		case files == 0 && dirs > 0:
			warn(fmt.Sprintf("artifact glob %q matched only directories; %s/** selects the files in them", globs[i], strings.TrimSuffix(g, "/")))
		case files == 0:
			warn(fmt.Sprintf("artifact glob %q matched no file", globs[i]))
		}
	}

	// Files are opened through the workspace as a root, so that nothing
	// an action still running (a parallel one) swaps in, a link in place
	// of a directory, can lead the engine, which reads with its own
	// rights, to a file outside the workspace after the checks below.
	ws, err := os.OpenRoot(rs.workspaceReal)
	if err != nil {
		return nil, fmt.Errorf("open the workspace: %w", err)
	}
	defer ws.Close()
	var stored []string
	for _, p := range slices.Sorted(maps.Keys(found)) {
		// Each file is decided by the whole list, last match winning, as
		// pipeline's path filters do; that lets a later glob re-include
		// what an earlier ! excluded.
		if !pipeline.MatchGlobs(norm, p) {
			continue
		}
		src, ok := rs.artifactSource(p, found[p], warn)
		if !ok {
			continue
		}
		if err := rs.storeArtifact(ws, src, p); err != nil {
			return stored, err
		}
		stored = append(stored, p)
	}
	return stored, nil
}

// insideStores reports whether a workspace path lies in the artifact store
// or the temp dir, which callers may put inside the workspace; copying
// them would store the store.
func (rs *runState) insideStores(p string) bool {
	for _, prefix := range rs.skipPrefixes {
		if p == prefix || strings.HasPrefix(p, prefix+"/") {
			return true
		}
	}
	return false
}

// artifactSource is the file to copy for a matched path, relative to the
// workspace. A symlink is followed only to a regular file inside the
// workspace: an artifact is something the build made, and a link to a
// host file must not carry that file out of the workspace into a store
// that may be published.
func (rs *runState) artifactSource(p string, typ fs.FileMode, warn func(string)) (string, bool) {
	full := filepath.Join(rs.workspace, filepath.FromSlash(p))
	switch {
	case typ.IsRegular():
		return filepath.FromSlash(p), true
	case typ&fs.ModeSymlink != 0:
		target, err := filepath.EvalSymlinks(full)
		if err == nil {
			rel, rerr := filepath.Rel(rs.workspaceReal, target)
			st, serr := os.Stat(target)
			if rerr == nil && filepath.IsLocal(rel) && serr == nil && st.Mode().IsRegular() {
				return rel, true
			}
		}
		warn(fmt.Sprintf("artifact %s is a symlink that does not lead to a file in the workspace; not stored", p))
	default:
		warn(fmt.Sprintf("artifact %s is not a regular file; not stored", p))
	}
	return "", false
}

// ArtifactMode is the mode of a stored artifact whose source had mode m:
// its permissions without write, for anyone. A stored artifact is what a
// stage produced; later stages and re-runs read it, and the engine alone
// replaces it (by rename, which needs no write permission on the file).
// An isolating runner also shows the store read-only (runner.Access); the
// mode holds where none does.
func ArtifactMode(m fs.FileMode) fs.FileMode { return m.Perm() &^ 0o222 }

// storeArtifact copies src, a path in the workspace ws, to rel in the
// artifact store. It writes a temporary file and renames it, so a reader
// never sees half a file, and it holds the store's lock, so that two
// actions storing the same path do not interleave.
func (rs *runState) storeArtifact(ws *os.Root, src, rel string) (err error) {
	rs.artifactMu.Lock()
	defer rs.artifactMu.Unlock()

	in, err := ws.OpenFile(src, os.O_RDONLY|noFollow, 0)
	if err != nil {
		return fmt.Errorf("store artifact %s: %w", rel, err)
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return fmt.Errorf("store artifact %s: %w", rel, err)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("store artifact %s: no longer a regular file", rel)
	}
	dst := filepath.Join(rs.artifactDir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("store artifact %s: %w", rel, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".stagegate-*")
	if err != nil {
		return fmt.Errorf("store artifact %s: %w", rel, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = io.Copy(tmp, in); err != nil {
		return fmt.Errorf("store artifact %s: %w", rel, err)
	}
	// Chmod rather than a create mode: the umask would strip bits, and an
	// executable must stay executable for the stage that runs it.
	if err = tmp.Chmod(ArtifactMode(st.Mode())); err != nil {
		return fmt.Errorf("store artifact %s: %w", rel, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("store artifact %s: %w", rel, err)
	}
	if err = os.Rename(tmp.Name(), dst); err != nil {
		return fmt.Errorf("store artifact %s: %w", rel, err)
	}
	return nil
}

// Package rundirs lays out the data dir: each run's workspace, HOME,
// TMPDIR and artifact store, trusted and untrusted code apart, and what
// of it no action may see.
package rundirs

import (
	"path/filepath"
	"strings"
)

// Runs of untrusted code (pull requests from forks) and trusted runs keep
// their files under separate roots of the data dir, so that they never
// share a workspace, a HOME, a TMPDIR or an artifact store: nothing a
// fork's build leaves behind is where a trusted run looks.
const (
	trustedRoot   = "trusted"
	untrustedRoot = "untrusted"
)

// Dirs are the directories of one run.
type Dirs struct {
	// Workspaces is where source.Fetch makes Workspace.
	Workspaces, Workspace string
	// Artifacts is the run's artifact store.
	Artifacts string
	// Temp is the engine's scratch directory: the actions' TMPDIR and
	// output files.
	Temp string
	// Home is the actions' HOME, empty at the start of each run and
	// removed with Temp: no run sees what another left in its HOME.
	Home string
}

// trustRoot is the root of the runs of one kind of code.
func trustRoot(dataDir string, fork bool) string {
	if fork {
		return filepath.Join(dataDir, untrustedRoot)
	}
	return filepath.Join(dataDir, trustedRoot)
}

// Of returns the directories of a run. A run's kind never changes:
// a re-run of a fork's run is a fork's run.
func Of(dataDir, runID string, fork bool) Dirs {
	root := trustRoot(dataDir, fork)
	// Absolute, as source.Remove wants them and the runner shows them.
	if abs, err := filepath.Abs(root); err == nil {
		root = abs
	}
	temp := filepath.Join(root, "tmp", runID)
	return Dirs{
		Workspaces: filepath.Join(root, "workspaces"),
		Workspace:  filepath.Join(root, "workspaces", runID),
		Artifacts:  filepath.Join(root, "artifacts", runID),
		Temp:       temp,
		Home:       filepath.Join(temp, "home"),
	}
}

// ScratchRoots are emptied at start: what is in them was left by a
// process that died.
func ScratchRoots(dataDir string) []string {
	var out []string
	for _, fork := range []bool{false, true} {
		root := trustRoot(dataDir, fork)
		out = append(out, filepath.Join(root, "workspaces"), filepath.Join(root, "tmp"))
	}
	return out
}

// ArtifactRoots hold the runs' artifact stores, pruned after
// housekeeping.ArtifactRetention.
func ArtifactRoots(dataDir string) []string {
	return []string{
		filepath.Join(trustRoot(dataDir, false), "artifacts"),
		filepath.Join(trustRoot(dataDir, true), "artifacts"),
	}
}

// DataDirs are the directories New makes, 0700: checked-out code, HOMEs
// and artifacts are nobody else's business on the machine.
func DataDirs(dataDir string) []string {
	return append([]string{dataDir}, append(ScratchRoots(dataDir), ArtifactRoots(dataDir)...)...)
}

// HiddenFromActions are the host paths no action may see, whatever the
// runner shows it otherwise: the data dir (the App's credentials, the
// default database, other runs' workspaces, HOMEs and artifact stores),
// and the database wherever it is (the key file is the runner's to hide:
// it is read before the App is made). An isolating
// runner shows an action little of the host in the first place; this is
// the second line, should a path it shows contain one of these. The
// run's own directories inside the data dir stay visible to it.
func HiddenFromActions(dataDir, databaseURL string) []string {
	var out []string
	add := func(p string) {
		if p == "" {
			return
		}
		if abs, err := filepath.Abs(p); err == nil {
			out = append(out, abs)
		}
	}
	add(dataDir)
	if db, ok := strings.CutPrefix(databaseURL, "sqlite://"); ok && db != "" {
		for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
			add(db + suffix)
		}
	}
	return out
}

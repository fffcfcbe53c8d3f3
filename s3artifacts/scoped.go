package s3artifacts

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/stagegate/stagegate/pipeline/engine"
)

// maxManifest bounds a manifest read back: ample for tens of thousands
// of files, and no more than that is allocated for one, whatever the
// bucket holds.
const maxManifest = 16 << 20

// maxActionsListed bounds the actions of one stage read back: one page
// of a listing, ten times what a stage may declare (pipeline.MaxActions).
const maxActionsListed = 1000

// manifest is what one action stored.
type manifest struct {
	// Stored orders two actions' manifests that hold the same path: the
	// later one wins, as it does in the run's local directory.
	Stored int64   `json:"stored_unix_nano"`
	Files  []entry `json:"files"`
}

type entry struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	Mode   uint32 `json:"mode"`
}

// scoped is a Store limited to the keys under base: one kind of code's
// runs of one repository.
type scoped struct {
	s    *Store
	base string
}

// actionPrefix is the prefix of what an action stored, its parts checked
// to be single path elements so that none can climb out of base.
func (c *scoped) actionPrefix(key engine.ArtifactKey) (string, error) {
	for _, part := range []string{key.Run, key.Stage, key.Action} {
		if !engine.ValidKeyPart(part) {
			return "", fmt.Errorf("%q cannot name a run, stage or action in the artifact store", part)
		}
	}
	return c.base + key.Run + "/" + key.Stage + "/" + key.Action + "/", nil
}

// Put uploads each file, then the manifest that lists them. A file two
// actions of a stage both store is uploaded as the run's directory holds
// it when read, and the manifest records what was uploaded.
func (c *scoped) Put(ctx context.Context, key engine.ArtifactKey, dir string, files []string) error {
	prefix, err := c.actionPrefix(key)
	if err != nil {
		return err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("artifact dir: %w", err)
	}
	defer root.Close()
	m := manifest{Files: make([]entry, 0, len(files))}
	for _, p := range files {
		e, err := c.putFile(ctx, root, prefix, p)
		if err != nil {
			return fmt.Errorf("upload artifact %s: %w", p, err)
		}
		m.Files = append(m.Files, e)
	}
	m.Stored = time.Now().UnixNano()
	body, err := json.Marshal(m)
	if err != nil {
		return err
	}
	mkey := prefix + "manifest.json"
	// Small requests get the idle time as a whole.
	wctx, _, stop := watch(ctx, c.s.idle)
	defer stop()
	_, err = c.s.client.PutObject(wctx, &s3.PutObjectInput{
		Bucket: &c.s.loc.Bucket, Key: &mkey, Body: strings.NewReader(string(body)),
		ContentLength: aws.Int64(int64(len(body))), ContentType: aws.String("application/json"),
	})
	if err = stalled(wctx, err); err != nil {
		return fmt.Errorf("upload the manifest s3://%s/%s: %w", c.s.loc.Bucket, mkey, err)
	}
	return nil
}

// putFile uploads one file from the artifact directory: a regular file,
// opened without following a link or blocking on a FIFO. It is hashed
// first and then sent from the same open file, which the engine never
// rewrites in place (it replaces files by rename).
func (c *scoped) putFile(ctx context.Context, root *os.Root, prefix, p string) (entry, error) {
	if !engine.ValidArtifactPath(p) {
		return entry{}, errors.New("the path leaves the artifact directory")
	}
	f, st, err := engine.OpenArtifact(root, p)
	if err != nil {
		return entry{}, err
	}
	defer f.Close()
	if st.Size() > c.s.maxFile {
		return entry{}, fmt.Errorf("%d bytes is more than the %d an artifact file may have", st.Size(), c.s.maxFile)
	}
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return entry{}, err
	}
	if n != st.Size() {
		return entry{}, fmt.Errorf("changed while read: %d bytes, then %d", st.Size(), n)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return entry{}, err
	}
	key := prefix + "files/" + p
	wctx, dog, stop := watch(ctx, c.s.idle)
	defer stop()
	_, err = c.s.client.PutObject(wctx, &s3.PutObjectInput{
		Bucket: &c.s.loc.Bucket, Key: &key, Body: &fedReader{io.NewSectionReader(f, 0, n), dog}, ContentLength: aws.Int64(n),
	})
	if err = stalled(wctx, err); err != nil {
		return entry{}, fmt.Errorf("s3://%s/%s: %w", c.s.loc.Bucket, key, err)
	}
	return entry{Path: p, Size: n, SHA256: hex.EncodeToString(h.Sum(nil)), Mode: uint32(st.Mode().Perm())}, nil
}

// located is a file of a manifest with the prefix it was stored under.
type located struct {
	entry
	prefix string
	stored int64
	action string
}

// Get downloads the files a stage of a run stored into dir. It reads the
// manifests of the stage's actions, takes for each path the one stored
// last, and holds each download to the manifest's size and SHA-256.
func (c *scoped) Get(ctx context.Context, run, stage string, files []string, dir string) error {
	if len(files) == 0 {
		return nil
	}
	for _, part := range []string{run, stage} {
		if !engine.ValidKeyPart(part) {
			return fmt.Errorf("%q cannot name a run or stage in the artifact store", part)
		}
	}
	byPath, err := c.stageFiles(ctx, run, stage)
	if err != nil {
		return err
	}
	for _, p := range files {
		if !engine.ValidArtifactPath(p) {
			return fmt.Errorf("artifact path %q leaves the artifact store", p)
		}
		e, ok := byPath[p]
		if !ok {
			return fmt.Errorf("artifact %s of stage %s of run %s is not in %s: %w", p, stage, run, c.s.loc, fs.ErrNotExist)
		}
		if err := c.getFile(ctx, e, dir); err != nil {
			return fmt.Errorf("download artifact %s of stage %s of run %s: %w", p, stage, run, err)
		}
	}
	return nil
}

// stageFiles lists the stage's actions and reads their manifests.
func (c *scoped) stageFiles(ctx context.Context, run, stage string) (map[string]located, error) {
	stagePrefix := c.base + run + "/" + stage + "/"
	lctx, _, stop := watch(ctx, c.s.idle)
	defer stop()
	out, err := c.s.client.ListObjectsV2(lctx, &s3.ListObjectsV2Input{
		Bucket: &c.s.loc.Bucket, Prefix: &stagePrefix, Delimiter: aws.String("/"), MaxKeys: aws.Int32(maxActionsListed),
	})
	if err = stalled(lctx, err); err != nil {
		return nil, fmt.Errorf("list s3://%s/%s: %w", c.s.loc.Bucket, stagePrefix, err)
	}
	if aws.ToBool(out.IsTruncated) {
		return nil, fmt.Errorf("s3://%s/%s holds more than %d actions' artifacts", c.s.loc.Bucket, stagePrefix, maxActionsListed)
	}
	byPath := map[string]located{}
	for _, cp := range out.CommonPrefixes {
		action := strings.TrimSuffix(strings.TrimPrefix(aws.ToString(cp.Prefix), stagePrefix), "/")
		prefix, err := c.actionPrefix(engine.ArtifactKey{Run: run, Stage: stage, Action: action})
		if err != nil {
			return nil, err
		}
		m, err := c.readManifest(ctx, prefix+"manifest.json")
		if errors.Is(err, fs.ErrNotExist) {
			// Files without a manifest: an upload that did not finish.
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, e := range m.Files {
			l := located{entry: e, prefix: prefix, stored: m.Stored, action: action}
			if old, ok := byPath[e.Path]; ok && cmp.Or(cmp.Compare(old.stored, l.stored), strings.Compare(old.action, l.action)) > 0 {
				continue
			}
			byPath[e.Path] = l
		}
	}
	return byPath, nil
}

func (c *scoped) readManifest(ctx context.Context, key string) (manifest, error) {
	var m manifest
	var data buffer
	if _, err := c.downloadTo(ctx, key, maxManifest, false, &data); err != nil {
		return m, err
	}
	if err := json.Unmarshal(data.b, &m); err != nil {
		return m, fmt.Errorf("manifest s3://%s/%s: %w", c.s.loc.Bucket, key, err)
	}
	for _, e := range m.Files {
		if !engine.ValidArtifactPath(e.Path) || e.Size < 0 || e.Size > c.s.maxFile || len(e.SHA256) != sha256.Size*2 {
			return m, fmt.Errorf("manifest s3://%s/%s lists %q (%d bytes, SHA-256 %q), which no upload wrote", c.s.loc.Bucket, key, e.Path, e.Size, e.SHA256)
		}
	}
	return m, nil
}

// getFile downloads one file into dir, read-only, through a temporary
// file that is removed unless the content is the manifest's.
func (c *scoped) getFile(ctx context.Context, e located, dir string) error {
	key := e.prefix + "files/" + e.Path
	return engine.WriteArtifact(dir, e.Path, fs.FileMode(e.Mode), func(w io.Writer) error {
		h := sha256.New()
		if _, err := c.downloadTo(ctx, key, e.Size, true, io.MultiWriter(w, h)); err != nil {
			return err
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != e.SHA256 {
			return fmt.Errorf("s3://%s/%s has SHA-256 %s, the manifest says %s", c.s.loc.Bucket, key, got, e.SHA256)
		}
		return nil
	})
}

// buffer collects a small download.
type buffer struct{ b []byte }

func (b *buffer) Write(p []byte) (int, error) { b.b = append(b.b, p...); return len(p), nil }

// downloadTo copies an object to w: exactly limit bytes when exact, at
// most limit otherwise. No more than that is read, whatever the object's
// headers say, so a replaced or growing object cannot make the server
// allocate or write without bound.
func (c *scoped) downloadTo(ctx context.Context, key string, limit int64, exact bool, w io.Writer) (int64, error) {
	ctx, dog, stop := watch(ctx, c.s.idle)
	defer stop()
	out, err := c.s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &c.s.loc.Bucket, Key: &key})
	if err = stalled(ctx, err); err != nil {
		if isNotFound(err) {
			return 0, fmt.Errorf("s3://%s/%s: %w", c.s.loc.Bucket, key, fs.ErrNotExist)
		}
		return 0, fmt.Errorf("s3://%s/%s: %w", c.s.loc.Bucket, key, err)
	}
	defer out.Body.Close()
	if n := aws.ToInt64(out.ContentLength); out.ContentLength != nil && (n > limit || exact && n != limit) {
		return 0, fmt.Errorf("s3://%s/%s is %d bytes; %s", c.s.loc.Bucket, key, n, want(limit, exact))
	}
	n, err := io.Copy(w, io.LimitReader(&fedReader{out.Body, dog}, limit+1))
	if err = stalled(ctx, err); err != nil {
		return n, fmt.Errorf("s3://%s/%s: %w", c.s.loc.Bucket, key, err)
	}
	if n > limit || exact && n != limit {
		return n, fmt.Errorf("s3://%s/%s sent %d bytes; %s", c.s.loc.Bucket, key, n, want(limit, exact))
	}
	return n, nil
}

func want(limit int64, exact bool) string {
	if exact {
		return fmt.Sprintf("the manifest says %d", limit)
	}
	return fmt.Sprintf("at most %d are read", limit)
}

// isNotFound tells a missing key from other failures.
func isNotFound(err error) bool {
	var nsk *types.NoSuchKey
	var re *smithyhttp.ResponseError
	return errors.As(err, &nsk) || errors.As(err, &re) && re.HTTPStatusCode() == 404
}

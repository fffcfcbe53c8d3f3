package codebuildfake

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/bmatcuk/doublestar/v4"
)

// downloadSource fetches the S3 source, <bucket>/<key> of a zip, and
// unpacks it into src.
func (f *Fake) downloadSource(ctx context.Context, b *build, src string) error {
	bucket, key, _ := strings.Cut(b.req.SourceLocationOverride, "/")
	out, err := s3.NewFromConfig(f.aws).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return fmt.Errorf("CLIENT_ERROR: error while downloading source s3://%s/%s: %w", bucket, key, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		return err
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return fmt.Errorf("CLIENT_ERROR: source is not a zip archive: %w", err)
	}
	if err := os.MkdirAll(src, 0o755); err != nil {
		return err
	}
	root, err := os.OpenRoot(src)
	if err != nil {
		return err
	}
	defer root.Close()
	for _, zf := range zr.File {
		name := filepath.FromSlash(strings.TrimSuffix(zf.Name, "/"))
		if zf.Mode().IsDir() {
			if err := root.MkdirAll(name, 0o755); err != nil {
				return err
			}
			continue
		}
		if d := filepath.Dir(name); d != "." {
			if err := root.MkdirAll(d, 0o755); err != nil {
				return err
			}
		}
		rc, err := zf.Open()
		if err != nil {
			return err
		}
		content, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return err
		}
		if zf.Mode()&fs.ModeSymlink != 0 {
			err = root.Symlink(string(content), name)
		} else {
			err = root.WriteFile(name, content, zf.Mode().Perm()|0o600)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// uploadArtifacts zips the files the buildspec's artifacts section names
// and puts the zip where the artifacts override says: with namespaceType
// NONE, at <location>/<path>/<name>.
func (f *Fake) uploadArtifacts(ctx context.Context, b *build, src string) error {
	ao := b.req.ArtifactsOverride
	if ao == nil || ao.Type != "S3" {
		return nil
	}
	spec, err := parseBuildspec(b.req.BuildspecOverride)
	if err != nil {
		return err
	}
	if ao.Packaging != "ZIP" {
		return fmt.Errorf("the fake packages artifacts as ZIP only, not %q", ao.Packaging)
	}
	base := filepath.Join(src, filepath.FromSlash(spec.Artifacts.BaseDirectory))
	links := spec.Artifacts.EnableSymlinks == "yes"
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	err = filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == base || d.IsDir() {
			return err
		}
		rel := filepath.ToSlash(strings.TrimPrefix(p, base+string(filepath.Separator)))
		matched := false
		for _, g := range spec.Artifacts.Files {
			if ok, _ := doublestar.Match(g, rel); ok {
				matched = true
			}
		}
		if !matched {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		h, err := zip.FileInfoHeader(info)
		if err != nil {
			return err
		}
		h.Name = rel
		var content []byte
		if info.Mode()&fs.ModeSymlink != 0 {
			if !links {
				return nil
			}
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			content = []byte(target)
		} else if content, err = os.ReadFile(p); err != nil {
			return err
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			return err
		}
		_, err = w.Write(content)
		return err
	})
	if err != nil {
		return fmt.Errorf("CLIENT_ERROR: packaging artifacts: %w", err)
	}
	if err := zw.Close(); err != nil {
		return err
	}
	key := path.Join(ao.Path, ao.Name)
	body := buf.Bytes()
	f.mu.Lock()
	if f.artifact != nil {
		body = f.artifact
	}
	f.mu.Unlock()
	_, err = s3.NewFromConfig(f.aws).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(ao.Location), Key: aws.String(key), Body: bytes.NewReader(body)})
	if err != nil {
		return fmt.Errorf("CLIENT_ERROR: uploading artifacts to s3://%s/%s: %w", ao.Location, key, err)
	}
	return nil
}

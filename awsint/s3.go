package awsint

import (
	"context"
	"fmt"
	"io/fs"
	"maps"
	"mime"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/bmatcuk/doublestar/v4"

	"github.com/stagegate/stagegate/pipeline/engine"
)

// runS3 uploads a workspace directory under a bucket's prefix and, with
// delete, removes the keys under the prefix the directory no longer has.
func runS3(ctx context.Context, cfg aws.Config, c engine.IntegrationCall, _ time.Duration) (engine.IntegrationResult, error) {
	w := c.Action.With
	bucket, source, prefix := str(w["bucket"]), str(w["source"]), str(w["prefix"])
	cacheControl := str(w["cache_control"])
	types_, _ := w["content_types"].(map[string]string)
	client := s3.NewFromConfig(cfg)

	// The workspace as a root: a symlink in it cannot make the upload
	// read a file outside it.
	root, err := os.OpenRoot(c.Workspace)
	if err != nil {
		return engine.IntegrationResult{}, fmt.Errorf("workspace: %w", err)
	}
	defer root.Close()
	src := path.Clean(filepath.ToSlash(source))
	uploaded := make(map[string]bool)
	err = fs.WalkDir(root.FS(), src, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(name, src), "/")
		if src == "." {
			rel = name
		}
		key := prefix + rel
		f, err := root.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		ct := contentType(rel, types_)
		in := &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: f, ContentType: &ct}
		if cacheControl != "" {
			in.CacheControl = &cacheControl
		}
		if _, err := client.PutObject(ctx, in); err != nil {
			return fmt.Errorf("upload s3://%s/%s: %w", bucket, key, err)
		}
		uploaded[key] = true
		c.Log(fmt.Sprintf("uploaded %s to s3://%s/%s (%s)", name, bucket, key, ct))
		return nil
	})
	if err != nil {
		return engine.IntegrationResult{}, fmt.Errorf("aws/s3: %w", err)
	}
	deleted := 0
	if w["delete"] == true {
		if deleted, err = deleteStale(ctx, client, bucket, prefix, uploaded, c.Log); err != nil {
			return engine.IntegrationResult{}, fmt.Errorf("aws/s3: %w", err)
		}
	}
	c.Log(fmt.Sprintf("%d files uploaded to s3://%s/%s, %d stale keys deleted", len(uploaded), bucket, prefix, deleted))
	return engine.IntegrationResult{Outputs: map[string]string{
		"uploaded": strconv.Itoa(len(uploaded)),
		"deleted":  strconv.Itoa(deleted),
	}}, nil
}

// deleteStale deletes the keys under prefix that were not just uploaded,
// a thousand per request, DeleteObjects' most.
func deleteStale(ctx context.Context, client *s3.Client, bucket, prefix string, keep map[string]bool, log func(string)) (int, error) {
	var stale []types.ObjectIdentifier
	pages := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &prefix})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return 0, fmt.Errorf("list s3://%s/%s: %w", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			if o.Key != nil && !keep[*o.Key] {
				stale = append(stale, types.ObjectIdentifier{Key: o.Key})
			}
		}
	}
	for batch := range slices.Chunk(stale, 1000) {
		out, err := client.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: &bucket, Delete: &types.Delete{Objects: batch, Quiet: aws.Bool(true)}})
		if err != nil {
			return 0, fmt.Errorf("delete stale keys in s3://%s: %w", bucket, err)
		}
		if len(out.Errors) > 0 {
			e := out.Errors[0]
			return 0, fmt.Errorf("delete s3://%s/%s: %s", bucket, aws.ToString(e.Key), aws.ToString(e.Message))
		}
		for _, o := range batch {
			log(fmt.Sprintf("deleted stale s3://%s/%s", bucket, *o.Key))
		}
	}
	return len(stale), nil
}

// contentType is the type the longest matching glob of types gives, or
// the one the extension implies.
func contentType(rel string, types map[string]string) string {
	globs := slices.SortedFunc(maps.Keys(types), func(a, b string) int {
		if len(a) != len(b) {
			return len(b) - len(a)
		}
		return strings.Compare(a, b)
	})
	for _, g := range globs {
		if ok, _ := doublestar.Match(g, rel); ok {
			return types[g]
		}
		if ok, _ := doublestar.Match(g, path.Base(rel)); ok && !strings.Contains(g, "/") {
			return types[g]
		}
	}
	if t := mime.TypeByExtension(path.Ext(rel)); t != "" {
		return t
	}
	return "application/octet-stream"
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

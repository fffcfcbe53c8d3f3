// Package s3artifacts keeps runs' artifacts in an S3 bucket, as
// CodePipeline does, so that a re-run, a run resumed on another replica
// or a remote runner reaches them. It implements engine.ArtifactStore;
// the engine itself never imports the AWS SDK.
//
// Layout: under the configured prefix,
//
//	<trusted|untrusted>/<owner>/<repo>/<run>/<stage>/<action>/manifest.json
//	<trusted|untrusted>/<owner>/<repo>/<run>/<stage>/<action>/files/<path>
//
// One object per file rather than an archive per action: each file can be
// fetched on its own (a re-run fetches only what its reused stages list;
// `aws s3 cp` or a CodeBuild project reads one file), each download is
// bounded and checked by itself, and reading a file back never parses an
// archive whose entry names could lead outside the directory it is
// unpacked into. The cost, one request per file, is small for the handful
// of files a stage declares. The manifest, written after the files, lists
// each file's size, SHA-256 and mode: a download is held to them.
package s3artifacts

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/stagegate/stagegate/pipeline/engine"
)

// Location is where the artifacts go: a bucket and a key prefix, without
// slashes at either end (empty for the bucket's root).
type Location struct {
	Bucket, Prefix string
}

func (l Location) String() string {
	if l.Prefix == "" {
		return "s3://" + l.Bucket
	}
	return "s3://" + l.Bucket + "/" + l.Prefix
}

// bucketName is S3's rule for general purpose bucket names: 3 to 63
// lower-case letters, digits, dots and hyphens, starting and ending with
// a letter or digit
// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html).
var bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// ParseURL reads s3://bucket/prefix.
func ParseURL(raw string) (Location, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Location{}, fmt.Errorf("is not a URL: %w", err)
	}
	if u.Scheme != "s3" {
		return Location{}, fmt.Errorf("must be an s3://BUCKET/PREFIX URL, not %q", raw)
	}
	if u.Host == "" {
		return Location{}, fmt.Errorf("names no bucket: %q; use s3://BUCKET or s3://BUCKET/PREFIX", raw)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Port() != "" {
		return Location{}, fmt.Errorf("must be s3://BUCKET/PREFIX with no user, port, query or fragment, not %q", raw)
	}
	if !bucketName.MatchString(u.Host) || strings.Contains(u.Host, "..") {
		return Location{}, fmt.Errorf("names bucket %q, which is not an S3 bucket name (3 to 63 lower-case letters, digits, dots and hyphens)", u.Host)
	}
	prefix := strings.Trim(u.Path, "/")
	if prefix != "" {
		for _, part := range strings.Split(prefix, "/") {
			if !engine.ValidKeyPart(part) {
				return Location{}, fmt.Errorf("has prefix %q, whose element %q is empty, . or .. or holds a control character", prefix, part)
			}
		}
	}
	return Location{Bucket: u.Host, Prefix: prefix}, nil
}

// API is what the store asks of S3; *s3.Client has it, and tests may
// hold it to S3's rules.
type API interface {
	PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	ListObjectsV2(context.Context, *s3.ListObjectsV2Input, ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	HeadBucket(context.Context, *s3.HeadBucketInput, ...func(*s3.Options)) (*s3.HeadBucketOutput, error)
}

// DefaultMaxFile bounds one artifact file: S3's limit for one PutObject.
const DefaultMaxFile = 5 << 30

// Store is a bucket of artifacts. Scope it with For before use: only a
// scoped store reads or writes keys.
type Store struct {
	client API
	loc    Location
	// maxFile bounds one file, uploaded or downloaded.
	maxFile int64
	// idle bounds the time a transfer may move nothing.
	idle time.Duration
}

// New is a store in loc through client.
func New(client API, loc Location) *Store {
	return &Store{client: client, loc: loc, maxFile: DefaultMaxFile, idle: DefaultIdle}
}

// SetMaxFile bounds one artifact file, for tests and small hosts.
func (s *Store) SetMaxFile(n int64) { s.maxFile = n }

// SetIdleTimeout bounds how long a transfer may move no byte
// (DefaultIdle).
func (s *Store) SetIdleTimeout(d time.Duration) { s.idle = d }

// Location is where the store keeps artifacts.
func (s *Store) Location() Location { return s.loc }

// Open is a store in loc with the server's own AWS configuration (the
// SDK's default chain and settings, AWS_ENDPOINT_URL included), never
// given to actions. Without a region in cfg, the bucket's own is asked
// of S3. It checks that the bucket is reachable.
func Open(ctx context.Context, cfg aws.Config, loc Location) (*Store, error) {
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
		region, err := bucketRegion(ctx, s3.NewFromConfig(cfg), loc.Bucket)
		if err != nil {
			return nil, err
		}
		cfg.Region = region
	}
	s := New(s3.NewFromConfig(cfg), loc)
	if err := s.Check(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// bucketRegion is the bucket's region, which S3 tells in the
// x-amz-bucket-region header of a HeadBucket answer, even a redirect or
// a refusal
// (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadBucket.html).
func bucketRegion(ctx context.Context, c *s3.Client, bucket string) (string, error) {
	out, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &bucket})
	if err == nil {
		if r := aws.ToString(out.BucketRegion); r != "" {
			return r, nil
		}
		return "us-east-1", nil
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.Response != nil {
		if r := re.Response.Header.Get("X-Amz-Bucket-Region"); r != "" {
			return r, nil
		}
	}
	return "", explainHead(bucket, err)
}

// Check asks S3 whether the bucket is reachable with the server's
// credentials, and says what is wrong when it is not.
func (s *Store) Check(ctx context.Context) error {
	_, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &s.loc.Bucket})
	if err != nil {
		return explainHead(s.loc.Bucket, err)
	}
	return nil
}

func explainHead(bucket string, err error) error {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		switch re.HTTPStatusCode() {
		case 404:
			return fmt.Errorf("artifact bucket %s does not exist: %w", bucket, err)
		case 403:
			return fmt.Errorf("artifact bucket %s refuses the server's AWS credentials (they need s3:ListBucket on it, and s3:GetObject and s3:PutObject on its objects): %w", bucket, err)
		case 301:
			return fmt.Errorf("artifact bucket %s is in another region than the one configured (AWS_REGION): %w", bucket, err)
		}
	}
	return fmt.Errorf("artifact bucket %s cannot be reached (check the AWS credentials, AWS_REGION and AWS_ENDPOINT_URL): %w", bucket, err)
}

// githubName is what GitHub allows in an owner's or a repository's name.
var githubName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)

// For is the store scoped to one kind of code and one repository: the
// runs of a fork's pull requests (fork) or trusted code. A scoped store
// reads and writes only under its kind's prefix, whatever run, stage,
// action or path it is asked for, so a fork's run can neither read nor
// overwrite a trusted run's artifacts.
func (s *Store) For(fork bool, repo string) (engine.ArtifactStore, error) {
	owner, name, ok := strings.Cut(repo, "/")
	if !ok || !githubName.MatchString(owner) || !githubName.MatchString(name) ||
		!engine.ValidKeyPart(owner) || !engine.ValidKeyPart(name) {
		return nil, fmt.Errorf("repository %q cannot name an artifact prefix", repo)
	}
	kind := "trusted"
	if fork {
		kind = "untrusted"
	}
	base := kind + "/" + owner + "/" + name + "/"
	if s.loc.Prefix != "" {
		base = s.loc.Prefix + "/" + base
	}
	return &scoped{s: s, base: base}, nil
}

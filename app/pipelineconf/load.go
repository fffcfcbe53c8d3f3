// Package pipelineconf reads a repository's pipeline file through the
// GitHub contents API: .stagegate.yml at the exact commit being built, or
// else the organization's default from its .github repository.
package pipelineconf

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-github/v60/github"

	"github.com/stagegate/stagegate/pipeline"
)

// ContentsAPI is the part of GitHub's API Load needs.
type ContentsAPI interface {
	GetContents(ctx context.Context, owner, repo, path string, opts *github.RepositoryContentGetOptions) (*github.RepositoryContent, []*github.RepositoryContent, *github.Response, error)
}

var _ ContentsAPI = (*github.RepositoriesService)(nil)

// Source says where a pipeline file came from.
type Source string

const (
	// SourceRepo is the repository's own .stagegate.yml at the head SHA.
	SourceRepo Source = "repo"
	// SourceOrgDefault is .stagegate.yml in the owner's .github
	// repository, at its default branch.
	SourceOrgDefault Source = "org-default"
)

// orgRepo is the repository GitHub reserves for an organization's
// defaults (community health files, workflow templates), where stagegate
// looks for the organization's default pipeline.
const orgRepo = ".github"

var (
	// ErrNoPipeline: neither the repository at the SHA nor the owner's
	// .github repository has a .stagegate.yml. Not a failure: the
	// repository does not use stagegate.
	ErrNoPipeline = errors.New("pipelineconf: no " + pipeline.DefaultFile + " in the repository or its owner's " + orgRepo + " repository")
	// ErrOrgDefaultNotVisible comes with ErrNoPipeline when the owner's
	// .github repository could not be seen at all: GitHub answers 404 for
	// a repository the installation may not read (an installation on
	// selected repositories that does not include a private .github) as
	// for one that does not exist, so a default may be there, unread.
	// The caller knows the installation's repository selection and tells
	// the two apart: with all repositories, there is no .github.
	ErrOrgDefaultNotVisible = errors.New("pipelineconf: the owner's " + orgRepo + " repository is not visible to this installation")
	// ErrCommitNotFound: the head SHA does not exist (any more) in the
	// repository, e.g. after a force push.
	ErrCommitNotFound = errors.New("pipelineconf: commit not found")
)

// Config is a pipeline file as read, parsed and validated.
type Config struct {
	Source Source
	// Path names the file in messages: ".stagegate.yml" for the
	// repository's own, "<owner>/.github/.stagegate.yml" for the default.
	// It is also the File of every pipeline.Error.
	Path string
	// BlobSHA is the git blob id of the file, which tells versions of an
	// organization default apart in logs.
	BlobSHA string
	Raw     []byte
	// Exactly one of Pipeline and Errors is set. An invalid file is not
	// an error of Load: it is the user's to fix, reported as a failed
	// check with Errors' positions.
	Pipeline *pipeline.Pipeline
	Errors   pipeline.Errors
}

// Valid reports whether the file parsed and validated.
func (c *Config) Valid() bool { return c.Pipeline != nil }

// Load reads owner/repo's pipeline file at sha: the repository's own
// .stagegate.yml, else (only when the repository has none at sha) the
// default in owner/.github at that repository's default branch, else
// ErrNoPipeline. The pipeline's name defaults to repo. Errors of the API
// (after the client's retries) are returned wrapped.
func Load(ctx context.Context, api ContentsAPI, owner, repo, sha string) (*Config, error) {
	if owner == "" || repo == "" || sha == "" {
		return nil, fmt.Errorf("pipelineconf: owner, repo and sha are required (got %q, %q, %q)", owner, repo, sha)
	}
	f, err := read(ctx, api, owner, repo, sha)
	if err != nil {
		return nil, fmt.Errorf("pipelineconf: reading %s of %s/%s at %s: %w", pipeline.DefaultFile, owner, repo, sha, err)
	}
	if f != nil {
		return parse(SourceRepo, pipeline.DefaultFile, repo, f), nil
	}
	// The .github repository's own file at sha was just found missing;
	// its default branch must not stand in for the commit being built.
	if strings.EqualFold(repo, orgRepo) {
		return nil, ErrNoPipeline
	}
	f, err = read(ctx, api, owner, orgRepo, "")
	if err != nil {
		return nil, fmt.Errorf("pipelineconf: reading the default %s of %s/%s: %w", pipeline.DefaultFile, owner, orgRepo, err)
	}
	if f == nil {
		return nil, orgRepoMissing(ctx, api, owner)
	}
	return parse(SourceOrgDefault, owner+"/"+orgRepo+"/"+pipeline.DefaultFile, repo, f), nil
}

// repoGetter is the part of GitHub's repository API that tells a missing
// file of a visible repository from a repository that is not visible;
// go-github's RepositoriesService has it.
type repoGetter interface {
	Get(ctx context.Context, owner, repo string) (*github.Repository, *github.Response, error)
}

// orgRepoMissing says why owner/.github gave no file: ErrNoPipeline when
// the repository is visible (it has no such file), joined with
// ErrOrgDefaultNotVisible when the repository itself answers 404.
func orgRepoMissing(ctx context.Context, api ContentsAPI, owner string) error {
	g, ok := api.(repoGetter)
	if !ok {
		return ErrNoPipeline
	}
	_, resp, err := g.Get(ctx, owner, orgRepo)
	switch {
	case err == nil:
		return ErrNoPipeline
	case resp != nil && resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("%w: %w", ErrNoPipeline, ErrOrgDefaultNotVisible)
	}
	return fmt.Errorf("pipelineconf: reading %s/%s: %w", owner, orgRepo, err)
}

// file is what read found at the path: content, or a problem that makes
// it unusable as a pipeline file (a directory, a submodule, too large).
type file struct {
	blobSHA string
	data    []byte
	problem string
}

// read gets .stagegate.yml of owner/repo at ref ("" for the default
// branch); nil when there is none.
func read(ctx context.Context, api ContentsAPI, owner, repo, ref string) (*file, error) {
	var opts *github.RepositoryContentGetOptions
	if ref != "" {
		opts = &github.RepositoryContentGetOptions{Ref: ref}
	}
	fc, dir, resp, err := api.GetContents(ctx, owner, repo, pipeline.DefaultFile, opts)
	if err != nil {
		if tooLarge(err) {
			return &file{problem: pipeline.DefaultFile + " is too large: pipeline files may be up to 1 MB"}, nil
		}
		if resp == nil || resp.StatusCode != http.StatusNotFound {
			return nil, err
		}
		// GitHub answers 404 for a missing file, a missing or
		// inaccessible repository, and a missing commit; only the last
		// is told apart, by its message, since building some other
		// file for a commit that is gone would be wrong.
		var er *github.ErrorResponse
		if ref != "" && errors.As(err, &er) && strings.HasPrefix(er.Message, "No commit found") {
			return nil, fmt.Errorf("%w: %w", ErrCommitNotFound, err)
		}
		return nil, nil
	}
	switch {
	case fc == nil && dir != nil:
		return &file{problem: pipeline.DefaultFile + " is a directory; it must be a file"}, nil
	case fc == nil:
		return nil, errors.New("GitHub returned no content")
	case fc.GetType() != "file":
		// GitHub resolves a symlink to a file of the repository itself;
		// one left as a symlink points outside it.
		return &file{blobSHA: fc.GetSHA(), problem: fmt.Sprintf("%s is a %s; it must be a file", pipeline.DefaultFile, fc.GetType())}, nil
	case fc.GetEncoding() == "none":
		return &file{blobSHA: fc.GetSHA(), problem: fmt.Sprintf("%s is too large (%d bytes): pipeline files may be up to 1 MB", pipeline.DefaultFile, fc.GetSize())}, nil
	}
	content, err := fc.GetContent()
	if err != nil {
		return nil, fmt.Errorf("decoding the content: %w", err)
	}
	return &file{blobSHA: fc.GetSHA(), data: []byte(content)}, nil
}

func parse(src Source, path, repo string, f *file) *Config {
	c := &Config{Source: src, Path: path, BlobSHA: f.blobSHA, Raw: f.data}
	if f.problem != "" {
		c.Errors = pipeline.Errors{{File: path, Line: 1, Col: 1, Msg: f.problem}}
		return c
	}
	p, err := pipeline.Parse(path, f.data)
	if err != nil {
		var errs pipeline.Errors
		if !errors.As(err, &errs) || len(errs) == 0 {
			// Parse promises Errors; anything else still must not pass
			// for a valid pipeline.
			errs = pipeline.Errors{{File: path, Line: 1, Col: 1, Msg: err.Error()}}
		}
		c.Errors = errs
		return c
	}
	if p.Name == "" {
		p.Name = repo
	}
	c.Pipeline = p
	return c
}

// tooLarge reports GitHub's 403 for a file over 1 MB asked for without
// the raw media type (error code too_large), which some servers answer
// instead of JSON with encoding "none"
// (https://docs.github.com/rest/repos/contents#get-repository-content).
// stagegate does not ask for the raw bytes: a pipeline file that large is
// refused either way, and reading it would cost up to 100 MB.
func tooLarge(err error) bool {
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response == nil || er.Response.StatusCode != http.StatusForbidden {
		return false
	}
	for _, e := range er.Errors {
		if e.Code == "too_large" {
			return true
		}
	}
	return false
}

package codebuildfake

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
)

type envVar struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	Type  string `json:"type"`
}

type artifactsOverride struct {
	Type          string `json:"type"`
	Location      string `json:"location"`
	Path          string `json:"path"`
	Name          string `json:"name"`
	Packaging     string `json:"packaging"`
	NamespaceType string `json:"namespaceType"`
}

// startRequest is the part of StartBuild's request the fake reads
// (https://docs.aws.amazon.com/codebuild/latest/APIReference/API_StartBuild.html).
type startRequest struct {
	ProjectName                  string             `json:"projectName"`
	SourceTypeOverride           string             `json:"sourceTypeOverride"`
	SourceLocationOverride       string             `json:"sourceLocationOverride"`
	BuildspecOverride            string             `json:"buildspecOverride"`
	EnvironmentVariablesOverride []envVar           `json:"environmentVariablesOverride"`
	ArtifactsOverride            *artifactsOverride `json:"artifactsOverride"`
	ImageOverride                string             `json:"imageOverride"`
	ComputeTypeOverride          string             `json:"computeTypeOverride"`
	PrivilegedModeOverride       *bool              `json:"privilegedModeOverride"`
	TimeoutInMinutesOverride     *int               `json:"timeoutInMinutesOverride"`
	IdempotencyToken             string             `json:"idempotencyToken"`
}

// envName is CodeBuild's rule for variable names; names starting with
// CODEBUILD_ are reserved.
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func (f *Fake) startBuild(body []byte) (any, error) {
	var req startRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, &apiError{http.StatusBadRequest, "SerializationException", err.Error()}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.starts = append(f.starts, Start{Time: time.Now(), Body: body})
	if !f.projects[req.ProjectName] {
		return nil, &apiError{http.StatusBadRequest, "ResourceNotFoundException", "Project cannot be found: arn:aws:codebuild:us-east-1:123456789012:project/" + req.ProjectName}
	}
	if id, ok := f.tokens[req.IdempotencyToken]; ok && req.IdempotencyToken != "" {
		return map[string]any{"build": f.builds[id].json()}, nil
	}
	switch {
	case req.SourceTypeOverride == "S3" && !strings.Contains(req.SourceLocationOverride, "/"):
		return nil, invalid("Invalid source location: an S3 source is <bucket>/<key>")
	case req.SourceTypeOverride != "" && req.SourceTypeOverride != "S3":
		return nil, invalid("the fake builds S3 sources only, not %s", req.SourceTypeOverride)
	case req.TimeoutInMinutesOverride != nil && (*req.TimeoutInMinutesOverride < 5 || *req.TimeoutInMinutesOverride > 2160):
		return nil, invalid("1 validation error detected: Value at 'timeoutInMinutesOverride' failed to satisfy constraint: Member must have value between 5 and 2160")
	case req.ArtifactsOverride != nil && req.ArtifactsOverride.Type == "S3" && req.ArtifactsOverride.Location == "":
		return nil, invalid("Artifact location is required for S3 artifacts")
	}
	for _, v := range req.EnvironmentVariablesOverride {
		switch {
		case !envName.MatchString(v.Name):
			return nil, invalid("Invalid environment variable name: %s", v.Name)
		case v.Value == "":
			// As CodeBuild has answered: "CodeBuild environment variable
			// keys and values cannot be empty"
			// (https://github.com/awslabs/aws-codebuild-jenkins-plugin/issues/117).
			return nil, invalid("Environment variable values cannot be empty: %s", v.Name)
		case strings.HasPrefix(v.Name, "CODEBUILD_"):
			return nil, invalid("Environment variable names cannot start with CODEBUILD_: %s", v.Name)
		case !slices.Contains([]string{"PLAINTEXT", "PARAMETER_STORE", "SECRETS_MANAGER", ""}, v.Type):
			return nil, invalid("Invalid environment variable type: %s", v.Type)
		}
	}
	f.seq++
	uuid := fmt.Sprintf("%08x-0000-4000-8000-%012x", time.Now().UnixNano()&0xffffffff, f.seq)
	ctx, cancel := context.WithCancelCause(context.Background())
	runCtx, stopTimer := ctx, context.CancelFunc(func() {})
	if f.buildLimit > 0 {
		runCtx, stopTimer = context.WithTimeoutCause(ctx, f.buildLimit, errTimedOut)
	}
	b := &build{
		id:        req.ProjectName + ":" + uuid,
		project:   req.ProjectName,
		number:    f.seq,
		start:     time.Now(),
		status:    "IN_PROGRESS",
		group:     "/aws/codebuild/" + req.ProjectName,
		stream:    uuid,
		req:       req,
		cancel:    cancel,
		failPhase: maps.Clone(f.failPhase),
	}
	f.builds[b.id] = b
	if req.IdempotencyToken != "" {
		f.tokens[req.IdempotencyToken] = b.id
	}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		defer cancel(nil)
		defer stopTimer()
		f.execute(runCtx, b)
	}()
	return map[string]any{"build": b.json()}, nil
}

func (f *Fake) batchGetBuilds(body []byte) (any, error) {
	var req struct {
		IDs []string `json:"ids"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, &apiError{http.StatusBadRequest, "SerializationException", err.Error()}
	}
	if len(req.IDs) == 0 || len(req.IDs) > 100 {
		return nil, invalid("ids must hold 1 to 100 build ids")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	builds, missing := []any{}, []string{}
	for _, id := range req.IDs {
		if b := f.builds[id]; b != nil {
			builds = append(builds, b.json())
		} else {
			missing = append(missing, id)
		}
	}
	return map[string]any{"builds": builds, "buildsNotFound": missing}, nil
}

func (f *Fake) stopBuild(body []byte) (any, error) {
	var req struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, &apiError{http.StatusBadRequest, "SerializationException", err.Error()}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	b := f.builds[req.ID]
	if b == nil {
		return nil, &apiError{http.StatusBadRequest, "ResourceNotFoundException", "Build " + req.ID + " not found"}
	}
	f.stops = append(f.stops, req.ID)
	b.cancel(errStopped)
	return map[string]any{"build": b.json()}, nil
}

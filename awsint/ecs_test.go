package awsint_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/stagegate/stagegate/internal/awstest"
)

// ecsService is a cluster, a task definition of two containers with
// most of the fields a real one has, and a service running it, in moto.
type ecsService struct {
	client                *ecs.Client
	cluster, service, arn string
	family                string
}

// newECSService makes the service with desired tasks. moto completes a
// rollout only when its running count (MOTO_ECS_SERVICE_RUNNING in moto's
// environment, 0 unless set) reaches the desired count when the service
// is created, and never changes a deployment after: a service of 0 tasks
// is stable, one of 2 never is.
func newECSService(t *testing.T, desired int32) *ecsService {
	t.Helper()
	ctx := context.Background()
	s := &ecsService{client: ecs.NewFromConfig(awstest.Config(t)), cluster: awstest.Name(t, "c"), service: awstest.Name(t, "web"), family: awstest.Name(t, "web")}
	if _, err := s.client.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: &s.cluster}); err != nil {
		t.Fatal(err)
	}
	td, err := s.client.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: &s.family, Cpu: aws.String("256"), Memory: aws.String("512"), NetworkMode: ecstypes.NetworkModeAwsvpc,
		ExecutionRoleArn:        aws.String("arn:aws:iam::123456789012:role/exec"),
		TaskRoleArn:             aws.String("arn:aws:iam::123456789012:role/task"),
		RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityFargate},
		ContainerDefinitions: []ecstypes.ContainerDefinition{
			{Name: aws.String("app"), Image: aws.String("nginx:1"), Memory: aws.Int32(256), Essential: aws.Bool(true),
				Environment:  []ecstypes.KeyValuePair{{Name: aws.String("MODE"), Value: aws.String("s3cr3t-old")}},
				PortMappings: []ecstypes.PortMapping{{ContainerPort: aws.Int32(80)}}},
			{Name: aws.String("side"), Image: aws.String("busybox:1.36"), Memory: aws.Int32(64), Essential: aws.Bool(false)},
		},
		Tags: []ecstypes.Tag{{Key: aws.String("team"), Value: aws.String("web")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	s.arn = aws.ToString(td.TaskDefinition.TaskDefinitionArn)
	svc, err := s.client.CreateService(ctx, &ecs.CreateServiceInput{Cluster: &s.cluster, ServiceName: &s.service,
		TaskDefinition: &s.arn, DesiredCount: aws.Int32(desired)})
	if err != nil {
		t.Fatal(err)
	}
	if deps := svc.Service.Deployments; len(deps) != 1 || (deps[0].RolloutState == ecstypes.DeploymentRolloutStateCompleted) != (desired == 0) {
		t.Fatalf("moto's new service of %d tasks has deployments %+v; these tests need moto_server started without MOTO_ECS_SERVICE_RUNNING", desired, deps)
	}
	return s
}

// taskDefinition is the service's task definition now.
func (s *ecsService) taskDefinition(t *testing.T) string {
	t.Helper()
	out, err := s.client.DescribeServices(context.Background(), &ecs.DescribeServicesInput{Cluster: &s.cluster, Services: []string{s.service}})
	if err != nil || len(out.Services) != 1 {
		t.Fatalf("describe service: %v", err)
	}
	return aws.ToString(out.Services[0].TaskDefinition)
}

// revisions counts the family's task definitions.
func (s *ecsService) revisions(t *testing.T) int {
	t.Helper()
	out, err := s.client.ListTaskDefinitions(context.Background(), &ecs.ListTaskDefinitionsInput{FamilyPrefix: &s.family})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.TaskDefinitionArns)
}

func (s *ecsService) describeTD(t *testing.T, arn string) (*ecstypes.TaskDefinition, []ecstypes.Tag) {
	t.Helper()
	out, err := s.client.DescribeTaskDefinition(context.Background(), &ecs.DescribeTaskDefinitionInput{
		TaskDefinition: &arn, Include: []ecstypes.TaskDefinitionField{ecstypes.TaskDefinitionFieldTags}})
	if err != nil {
		t.Fatal(err)
	}
	return out.TaskDefinition, out.Tags
}

func (s *ecsService) deploy(t *testing.T, with map[string]any, ws string, apply bool) (map[string]string, []string, error) {
	t.Helper()
	r := hostRunner(t)
	r.Poll = 20 * time.Millisecond
	with["cluster"], with["service"] = s.cluster, s.service
	var log []string
	c := call(ws, "aws/ecs", with, &log)
	c.Apply, c.RunID = apply, "r1"
	res, err := r.Run(context.Background(), c)
	t.Logf("log:\n%s", strings.Join(log, "\n"))
	return res.Outputs, log, err
}

// sameButRevision clears what differs between two revisions of one
// task definition by nature.
func sameButRevision(td ecstypes.TaskDefinition) ecstypes.TaskDefinition {
	td.TaskDefinitionArn, td.Revision, td.RegisteredAt, td.RegisteredBy = nil, 0, nil, nil
	return td
}

func TestECSDeployImage(t *testing.T) {
	s := newECSService(t, 0)
	ws := t.TempDir()
	const image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:2"
	with := map[string]any{"container": "app", "image": image}

	// A pull request: the diff, and nothing registered or moved.
	out, log, err := s.deploy(t, with, ws, false)
	if err != nil {
		t.Fatal(err)
	}
	if !hasLine(log, "container app: image: nginx:1 -> "+image) || out["previous_task_definition_arn"] != s.arn || out["task_definition_arn"] != "" {
		t.Errorf("plan: outputs %v; log lacks the image's change", out)
	}
	if hasLine(log, "container side") || hasLine(log, "cpu") {
		t.Errorf("plan shows changes beyond the image")
	}
	if n, td := s.revisions(t), s.taskDefinition(t); n != 1 || td != s.arn {
		t.Fatalf("after a plan: %d revisions, service on %s; want 1 and %s", n, td, s.arn)
	}

	// The deploy: a new revision that differs only by the image.
	out, log, err = s.deploy(t, with, ws, true)
	if err != nil {
		t.Fatal(err)
	}
	next := out["task_definition_arn"]
	if !strings.HasSuffix(next, ":task-definition/"+s.family+":2") || out["previous_task_definition_arn"] != s.arn {
		t.Fatalf("outputs %v, want revision 2 and the previous one", out)
	}
	if td := s.taskDefinition(t); td != next {
		t.Errorf("service on %s, want %s", td, next)
	}
	if !hasLine(log, "is stable on "+next) {
		t.Errorf("log does not say the service is stable")
	}
	old, oldTags := s.describeTD(t, s.arn)
	got, gotTags := s.describeTD(t, next)
	want := sameButRevision(*old)
	want.ContainerDefinitions = append([]ecstypes.ContainerDefinition(nil), old.ContainerDefinitions...)
	want.ContainerDefinitions[0].Image = aws.String(image)
	if g := sameButRevision(*got); !reflect.DeepEqual(g, want) {
		t.Errorf("new revision\n%+v\nwant the old one with the new image\n%+v", g, want)
	}
	if !reflect.DeepEqual(gotTags, oldTags) || len(gotTags) != 1 {
		t.Errorf("tags %v, want the old revision's %v", gotTags, oldTags)
	}
}

// moto never completes the rollout of a service of 2 tasks: the action
// gives up after its timeout and moves the service back.
func TestECSTimeoutPutsPreviousBack(t *testing.T) {
	s := newECSService(t, 2)
	out, log, err := s.deploy(t, map[string]any{"container": "app", "image": "nginx:2", "timeout": "1s"}, t.TempDir(), true)
	if err == nil || !strings.Contains(err.Error(), "not stable within 1s") || !strings.Contains(err.Error(), "the previous task definition "+s.arn+" was put back") {
		t.Fatalf("error %v, want the timeout and the restore", err)
	}
	if td := s.taskDefinition(t); td != s.arn {
		t.Errorf("service on %s after the failure, want the previous %s", td, s.arn)
	}
	if out["task_definition_arn"] == "" || out["task_definition_arn"] == s.arn {
		t.Errorf("outputs %v, want the revision that was tried", out)
	}
	if !hasLine(log, "deployments: primary 0/2 running, 2 pending, rollout in_progress") {
		t.Errorf("log lacks the deployment's progress")
	}
}

func TestECSTaskDefinitionFile(t *testing.T) {
	s := newECSService(t, 0)
	ws := t.TempDir()
	// describe-task-definition's output, edited: cpu doubled, a new
	// image and variable, the side container gone.
	writeFiles(t, ws, map[string]string{"deploy/task.json": `{"taskDefinition": {
  "taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/x:9", "revision": 9, "status": "ACTIVE",
  "family": "` + s.family + `", "cpu": "512", "memory": "512", "networkMode": "awsvpc",
  "executionRoleArn": "arn:aws:iam::123456789012:role/exec", "taskRoleArn": "arn:aws:iam::123456789012:role/task",
  "requiresCompatibilities": ["FARGATE"],
  "containerDefinitions": [{"name": "app", "image": "nginx:3", "memory": 256, "essential": true,
    "environment": [{"name": "MODE", "value": "s3cr3t-new"}, {"name": "DEBUG", "value": "0"}],
    "portMappings": [{"containerPort": 80}]}]},
  "tags": [{"key": "team", "value": "web"}]}`})
	with := map[string]any{"task_definition": "deploy/task.json"}
	_, log, err := s.deploy(t, with, ws, false)
	if err != nil {
		t.Fatal(err)
	}
	if all := strings.Join(log, "\n"); strings.Contains(all, "s3cr3t") {
		t.Errorf("the plan shows a variable's value")
	}
	for _, want := range []string{
		"container app: image: nginx:1 -> nginx:3",
		"container app: environment: +DEBUG ~MODE (values not shown)",
		"container side: removed",
		"cpu: 256 -> 512",
	} {
		if !hasLine(log, want) {
			t.Errorf("plan lacks %q", want)
		}
	}
	out, _, err := s.deploy(t, with, ws, true)
	if err != nil {
		t.Fatal(err)
	}
	got, tags := s.describeTD(t, out["task_definition_arn"])
	if len(got.ContainerDefinitions) != 1 || aws.ToString(got.ContainerDefinitions[0].Image) != "nginx:3" ||
		aws.ToString(got.Cpu) != "512" || len(got.ContainerDefinitions[0].Environment) != 2 || len(tags) != 1 {
		t.Errorf("registered %+v, tags %v; want the file's", got, tags)
	}
	if td := s.taskDefinition(t); td != out["task_definition_arn"] {
		t.Errorf("service on %s, want %s", td, out["task_definition_arn"])
	}
}

func TestECSBadInputChangesNothing(t *testing.T) {
	s := newECSService(t, 0)
	ws := t.TempDir()
	writeFiles(t, ws, map[string]string{
		"typo.json":  `{"family": "x", "containerDefinition": [{"name": "app", "image": "nginx"}]}`,
		"empty.json": `{"family": "x"}`,
		"list.json":  `[]`,
		"big.json":   `{"family": "` + strings.Repeat("x", 1<<20) + `"}`,
	})
	outside := filepath.Join(t.TempDir(), "task.json")
	writeFiles(t, filepath.Dir(outside), map[string]string{"task.json": `{"containerDefinitions": [{"name": "app", "image": "evil"}]}`})
	if err := os.Symlink(outside, filepath.Join(ws, "out.json")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		with map[string]any
		want string
	}{
		{"unknown container", map[string]any{"container": "api", "image": "nginx:2"}, `has no container "api"; it has app, side`},
		{"misspelt key", map[string]any{"task_definition": "typo.json"}, `typo.json: json: unknown field "containerDefinition"`},
		{"no containers", map[string]any{"task_definition": "empty.json"}, "empty.json has no containerDefinitions"},
		{"not an object", map[string]any{"task_definition": "list.json"}, "list.json: not a JSON object"},
		{"too large", map[string]any{"task_definition": "big.json"}, "larger than 1048576 bytes"},
		{"missing file", map[string]any{"task_definition": "nope.json"}, "nope.json: no such file"},
		// A link out of the workspace is not followed.
		{"link out", map[string]any{"task_definition": "out.json"}, "path escapes from parent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := s.deploy(t, tt.with, ws, true)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
	if n, td := s.revisions(t), s.taskDefinition(t); n != 1 || td != s.arn {
		t.Errorf("after bad input: %d revisions, service on %s; want 1 and %s", n, td, s.arn)
	}
	// A service that does not exist is named as such.
	s.service = awstest.Name(t, "nope")
	if _, _, err := s.deploy(t, map[string]any{"container": "app", "image": "nginx:2"}, ws, true); err == nil || !strings.Contains(err.Error(), "not found in cluster "+s.cluster) {
		t.Errorf("error %v, want the missing service", err)
	}
}

// A file of many containers (ECS would refuse it) makes a plan of
// bounded length.
func TestECSPlanIsBounded(t *testing.T) {
	s := newECSService(t, 0)
	ws := t.TempDir()
	var cs []string
	for i := range 500 {
		cs = append(cs, fmt.Sprintf(`{"name": "c%d", "image": "nginx:%d"}`, i, i))
	}
	writeFiles(t, ws, map[string]string{"many.json": `{"containerDefinitions": [` + strings.Join(cs, ",") + `]}`})
	_, log, err := s.deploy(t, map[string]any{"task_definition": "many.json"}, ws, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) > 210 || !hasLine(log, "and 3", "more changes") {
		t.Errorf("%d log lines, want the changes cut at 200", len(log))
	}
}

// registerInputOf carries a task definition's fields to the new
// revision by name; this holds only while every field
// RegisterTaskDefinition takes comes back from DescribeTaskDefinition
// under the same name and type. An SDK upgrade that breaks it fails
// here, not in a deploy that loses a field.
func TestECSRegisterFieldsComeBack(t *testing.T) {
	in, td := reflect.TypeFor[ecs.RegisterTaskDefinitionInput](), reflect.TypeFor[ecstypes.TaskDefinition]()
	for f := range in.Fields() {
		if !f.IsExported() || f.Name == "Tags" { // tags come apart from the definition
			continue
		}
		g, ok := td.FieldByName(f.Name)
		if !ok || g.Type != f.Type {
			t.Errorf("RegisterTaskDefinitionInput.%s (%v) has no counterpart in TaskDefinition (%v)", f.Name, f.Type, g.Type)
		}
	}
}

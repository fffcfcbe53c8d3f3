//go:build unix

package main

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/stagegate/stagegate/internal/awstest"
)

func TestExplainSaysWhatECSAndCodeDeployDo(t *testing.T) {
	dir := workTree(t, `aws: {region: eu-west-1}
stages:
  - name: plan
    actions:
      - name: web
        uses: aws/ecs
        with: {cluster: prod, service: web, container: app, image: "web:2"}
  - name: production
    environment: production
    actions:
      - name: worker
        uses: aws/ecs
        with: {service: worker, task_definition: deploy/worker.json, timeout: 20m}
      - name: servers
        uses: aws/codedeploy
        with: {application: web, deployment_group: fleet, source: bundle, bucket: builds, key_prefix: revs/}
`)
	// A local run skips the deploy stage unless it is named.
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, "plan/web (aws/ecs): register a revision of service web's task definition with container app's image web:2, move service web to it " +
			"and wait up to 10m for it to be stable, else put the previous one back; outside a deploy stage it only shows the task definition's changes"},
		{[]string{"--stage", "production"}, "production/worker (aws/ecs): register the task definition of deploy/worker.json, move service worker to it " +
			"and wait up to 20m for it to be stable, else put the previous one back\n"},
		{[]string{"--stage", "production"}, "production/servers (aws/codedeploy): deploy bundle/ zipped to s3://builds/revs/ to deployment group fleet " +
			"of application web and follow the deployment to the end\n"},
	} {
		res := stagegate(t, dir, nil, append([]string{"explain", "--branch", "main"}, tt.args...)...)
		if res.code != 0 {
			t.Fatalf("exit %d: %s", res.code, res.stderr)
		}
		if !strings.Contains(res.stdout, tt.want) {
			t.Errorf("stdout of explain %v lacks %q:\n%s", tt.args, tt.want, res.stdout)
		}
	}
}

// stagegate run shows an ECS deploy's changes on a plain stage, and
// makes it only when the deploy stage is named, with the developer's
// own credentials (moto's, through AWS_ENDPOINT_URL).
func TestRunECSPlanThenDeploy(t *testing.T) {
	ctx := context.Background()
	moto := awstest.URL(t)
	client := ecs.NewFromConfig(awstest.Config(t))
	cluster, service, family := awstest.Name(t, "c"), awstest.Name(t, "web"), awstest.Name(t, "web")
	if _, err := client.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: &cluster}); err != nil {
		t.Fatal(err)
	}
	td, err := client.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: &family,
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("nginx:1"), Memory: aws.Int32(128)}}})
	if err != nil {
		t.Fatal(err)
	}
	first := aws.ToString(td.TaskDefinition.TaskDefinitionArn)
	// moto settles only a service of no tasks (see awsint's tests).
	if _, err := client.CreateService(ctx, &ecs.CreateServiceInput{Cluster: &cluster, ServiceName: &service, TaskDefinition: &first, DesiredCount: aws.Int32(0)}); err != nil {
		t.Fatal(err)
	}
	with := "{cluster: " + cluster + ", service: " + service + ", container: app, image: \"nginx:2\"}"
	dir := workTree(t, `stages:
  - name: plan
    actions: [{name: web, uses: aws/ecs, with: `+with+`}]
  - name: production
    environment: production
    actions: [{name: web, uses: aws/ecs, with: `+with+`}]
`)
	env := []string{"AWS_ENDPOINT_URL=" + moto, "AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing", "AWS_REGION=" + awstest.Region,
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null"}
	onService := func() string {
		t.Helper()
		out, err := client.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: &cluster, Services: []string{service}})
		if err != nil || len(out.Services) != 1 {
			t.Fatalf("describe service: %v", err)
		}
		return aws.ToString(out.Services[0].TaskDefinition)
	}

	res := stagegate(t, dir, env, "run", "--sandbox=off")
	if res.code != 0 || !strings.Contains(res.stdout, "container app: image: nginx:1 -> nginx:2") || !strings.Contains(res.stdout, "would register a revision") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	if got := onService(); got != first {
		t.Fatalf("a plan moved the service to %s", got)
	}
	res = stagegate(t, dir, env, "run", "--sandbox=off", "--stage", "production")
	if res.code != 0 || !strings.Contains(res.stdout, "is stable on") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	if got := onService(); got == first || !strings.HasSuffix(got, ":task-definition/"+family+":2") {
		t.Errorf("service on %s after the deploy, want revision 2", got)
	}
}

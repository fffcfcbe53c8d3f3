//go:build unix

package app_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/stagegate/stagegate/internal/awstest"
	"github.com/stagegate/stagegate/internal/githubtest"
)

// The path of issue 10 through the App and the fake GitHub, on moto and
// the CodeBuild wire fake: a pull request adding a stack's template shows
// its change set on the infra stage's check and changes nothing; once it
// is merged, the push of the merge commit builds on CodeBuild (its log on
// the build stage's check), then the production deploy creates the stack
// and moves the ECS service to the new image, with a GitHub Deployment
// that ends in success.
func TestMergedPullRequestBuildsOnCodeBuildThenDeploysStackAndService(t *testing.T) {
	moto := awstest.Config(t)
	ctx := context.Background()
	stack, cluster, service, family := awstest.Name(t, "web"), awstest.Name(t, "prod"), awstest.Name(t, "web"), awstest.Name(t, "web")
	const oldImage, newImage = "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1", "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:2"
	ecsc := ecs.NewFromConfig(moto)
	if _, err := ecsc.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: &cluster}); err != nil {
		t.Fatal(err)
	}
	td, err := ecsc.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: &family,
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("app"), Image: aws.String(oldImage), Memory: aws.Int32(256)}}})
	if err != nil {
		t.Fatal(err)
	}
	// moto completes the rollout of a service of no tasks (see
	// awsint's newECSService).
	if _, err := ecsc.CreateService(ctx, &ecs.CreateServiceInput{Cluster: &cluster, ServiceName: &service,
		TaskDefinition: td.TaskDefinition.TaskDefinitionArn, DesiredCount: aws.Int32(0)}); err != nil {
		t.Fatal(err)
	}
	pipeline := `aws: {role: "arn:aws:iam::123456789012:role/web-ci", region: us-east-1}
environments:
  production: {aws: {role: "arn:aws:iam::123456789012:role/web-deploy", region: us-east-1}}
stages:
  - name: infra
    actions:
      - {name: stack, uses: aws/cloudformation, with: {stack: ` + stack + `, template: stack.yml}}
  - name: build
    runner: {type: codebuild, project: web-build}
    actions:
      - name: image
        run: echo "building web:2 from $(cat src/main.txt)"
  - name: production
    if: branch == "main"
    environment: production
    actions:
      - {name: stack, uses: aws/cloudformation, with: {stack: ` + stack + `, template: stack.yml}}
      - name: web
        uses: aws/ecs
        with: {cluster: ` + cluster + `, service: ` + service + `, container: app, image: "` + newImage + `"}
`
	h, fake, _ := newCodeBuildHarness(t, map[string]string{".stagegate.yml": pipeline, "src/main.txt": "v1"})

	// The pull request: the change set in the infra check's summary, and
	// no stack.
	template := "Resources:\n  Queue:\n    Type: AWS::SQS::Queue\n"
	head := h.openPR(12, "infra", "", map[string]string{"stack.yml": template, "src/main.txt": "v2"})
	checks := h.waitChecks(head, 90*time.Second)
	infra := checks["stagegate/infra"]
	if infra.Conclusion != "success" || checks["stagegate/build"].Conclusion != "success" {
		t.Fatalf("on the pull request:%s\n%s", describeChecks(checks), infra.Output.Text)
	}
	if !containsAll(infra.Output.Summary, "would make 1 change: 1 to add", "| add | `Queue` | `AWS::SQS::Queue` |", "Not executed") {
		t.Errorf("the pull request's infra check does not show the change set:\n%s", infra.Output.Summary)
	}
	if p := checks["stagegate/production"]; p.Conclusion != "skipped" {
		t.Errorf("the pull request's production stage concluded %q, want skipped", p.Conclusion)
	}
	if stackExists(t, moto, stack) {
		t.Fatalf("the pull request created stack %s", stack)
	}

	// The merge, and the push of its commit to main.
	before, merge := h.gh.MergePullRequest("acme", "web", 12)
	if code, text := h.send("push", githubtest.NewDeliveryID(), h.repo.PushWebhook("main", before)); code != http.StatusAccepted {
		t.Fatalf("push webhook: %d %s", code, text)
	}
	checks = h.waitChecks(merge, 120*time.Second)
	build, prod := checks["stagegate/build"], checks["stagegate/production"]
	if build.Conclusion != "success" || prod.Conclusion != "success" {
		t.Fatalf("on the merge commit:%s\nbuild:\n%s\nproduction:\n%s", describeChecks(checks), build.Output.Text, prod.Output.Text)
	}
	if !containsAll(build.Output.Text, "Entering phase BUILD", "building web:2 from v2") {
		t.Errorf("the build check lacks the CodeBuild build's log:\n%s", build.Output.Text)
	}
	if n := len(fake.Starts()); n != 2 {
		t.Errorf("%d CodeBuild builds started, want 2 (the pull request's and the merge's)", n)
	}
	if !containsAll(prod.Output.Text, "is stable on") {
		t.Errorf("the production check lacks the ECS rollout:\n%s", prod.Output.Text)
	}
	if d := h.deploymentStates(merge); len(d) != 1 || strings.Join(d[0], ",") != "queued,in_progress,success" {
		t.Errorf("deployments of the merge commit: %v, want one queued,in_progress,success", d)
	}
	for _, d := range h.gh.Deployments("acme", "web") {
		if d.SHA == merge && d.Environment != "production" {
			t.Errorf("deployment to %q, want production", d.Environment)
		}
	}

	// moto's state: the stack with the template's queue, and the service
	// on a new revision of its task definition running the new image.
	res, err := cloudformation.NewFromConfig(moto).DescribeStackResources(ctx, &cloudformation.DescribeStackResourcesInput{StackName: &stack})
	if err != nil {
		t.Fatalf("the stack after the deploy: %v", err)
	}
	if len(res.StackResources) != 1 || aws.ToString(res.StackResources[0].LogicalResourceId) != "Queue" ||
		aws.ToString(res.StackResources[0].ResourceType) != "AWS::SQS::Queue" {
		t.Errorf("stack resources %+v, want the template's Queue", res.StackResources)
	}
	svc, err := ecsc.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: &cluster, Services: []string{service}})
	if err != nil || len(svc.Services) != 1 {
		t.Fatalf("describe service: %v", err)
	}
	now := aws.ToString(svc.Services[0].TaskDefinition)
	if !strings.HasSuffix(now, ":task-definition/"+family+":2") {
		t.Fatalf("the service runs %s, want revision 2 of %s", now, family)
	}
	got, err := ecsc.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: &now})
	if err != nil {
		t.Fatal(err)
	}
	if img := aws.ToString(got.TaskDefinition.ContainerDefinitions[0].Image); img != newImage {
		t.Errorf("the service's task definition runs %s, want %s", img, newImage)
	}
}

// stackExists says whether stack exists in moto, not deleted.
func stackExists(t *testing.T, cfg aws.Config, stack string) bool {
	t.Helper()
	out, err := cloudformation.NewFromConfig(cfg).DescribeStacks(context.Background(), &cloudformation.DescribeStacksInput{StackName: &stack})
	return err == nil && len(out.Stacks) > 0 && out.Stacks[0].StackStatus != "DELETE_COMPLETE"
}

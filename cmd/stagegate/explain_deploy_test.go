//go:build unix

package main

import (
	"strings"
	"testing"
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

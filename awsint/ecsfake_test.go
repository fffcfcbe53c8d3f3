package awsint_test

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"
)

const (
	fakeOldTD = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:7"
	fakeNewTD = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:8"
)

// ecsFake is one ECS service, "web" of cluster "prod", for what moto
// cannot show: a rollout that makes progress and settles, one that never
// does, and one ECS's deployment circuit breaker fails, with or without
// its own rollback. Its shapes are the API reference's:
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeServices.html
type ecsFake struct {
	*jsonAPI
	scenario string
	// td is the service's task definition; updates lists the task
	// definitions UpdateService was given; registered is the last
	// RegisterTaskDefinition input.
	td         string
	updates    []string
	registered map[string]any
	polls      int
	updatedAt  time.Time
	// throttlePolls is how many DescribeServices after the update are
	// answered ThrottlingException: more than the SDK's 3 attempts.
	throttlePolls int
}

func newECSFake(scenario string, throttle, throttlePolls int) *ecsFake {
	f := &ecsFake{scenario: scenario, td: fakeOldTD, throttlePolls: throttlePolls}
	f.jsonAPI = &jsonAPI{prefix: "AmazonEC2ContainerServiceV20141113", throttle: throttle, ops: map[string]func(map[string]any) (any, *apiError){
		"DescribeServices":       f.describeServices,
		"DescribeTaskDefinition": f.describeTaskDefinition,
		"RegisterTaskDefinition": f.registerTaskDefinition,
		"UpdateService":          f.updateService,
	}}
	return f
}

func (f *ecsFake) describeTaskDefinition(in map[string]any) (any, *apiError) {
	if in["taskDefinition"] != fakeOldTD {
		return nil, &apiError{400, "ClientException", "Unable to describe task definition."}
	}
	return map[string]any{
		"taskDefinition": map[string]any{
			"taskDefinitionArn": fakeOldTD, "family": "web", "revision": 7, "status": "ACTIVE",
			"cpu": "256", "memory": "512", "networkMode": "awsvpc", "compatibilities": []string{"EC2", "FARGATE"},
			"executionRoleArn": "arn:aws:iam::123456789012:role/exec",
			"containerDefinitions": []any{
				map[string]any{"name": "app", "image": "web:1", "essential": true, "environment": []any{}},
				map[string]any{"name": "log", "image": "fluent-bit:3", "essential": false},
			},
			"registeredAt": epoch(time.Now().Add(-24 * time.Hour)),
		},
		"tags": []any{map[string]any{"key": "team", "value": "web"}},
	}, nil
}

func (f *ecsFake) registerTaskDefinition(in map[string]any) (any, *apiError) {
	f.registered = in
	td := maps.Clone(in)
	td["taskDefinitionArn"], td["revision"], td["status"] = fakeNewTD, 8, "ACTIVE"
	delete(td, "tags")
	return map[string]any{"taskDefinition": td, "tags": in["tags"]}, nil
}

func (f *ecsFake) updateService(in map[string]any) (any, *apiError) {
	if in["cluster"] != "prod" || in["service"] != "web" {
		return nil, &apiError{400, "ServiceNotFoundException", "Service not found."}
	}
	td, _ := in["taskDefinition"].(string)
	f.td, f.updates, f.polls, f.updatedAt = td, append(f.updates, td), 0, time.Now()
	return map[string]any{"service": f.service(false)}, nil
}

func (f *ecsFake) describeServices(in map[string]any) (any, *apiError) {
	if in["cluster"] != "prod" {
		return nil, &apiError{400, "ClusterNotFoundException", "Cluster not found."}
	}
	if !f.updatedAt.IsZero() && f.throttlePolls > 0 {
		f.throttlePolls--
		return nil, &apiError{400, "ThrottlingException", "Rate exceeded"}
	}
	f.polls++
	return map[string]any{"services": []any{f.service(true)}, "failures": []any{}}, nil
}

// service is the service as described; poll says whether this is a
// poll after an update (progress happens on polls).
func (f *ecsFake) service(poll bool) map[string]any {
	now := time.Now()
	dep := func(status, td string, running, pending int, rollout, reason string) map[string]any {
		return map[string]any{"id": "ecs-svc/" + status + td[len(td)-1:], "status": status, "taskDefinition": td,
			"desiredCount": 2, "runningCount": running, "pendingCount": pending,
			"rolloutState": rollout, "rolloutStateReason": reason, "createdAt": epoch(f.updatedAt)}
	}
	events := []any{
		// Before this deploy: never shown.
		map[string]any{"id": "e0", "createdAt": epoch(now.Add(-time.Hour)), "message": "(service web) deployment ecs-svc/0 completed."},
	}
	event := func(id, msg string) {
		events = append([]any{map[string]any{"id": id, "createdAt": epoch(f.updatedAt.Add(time.Second)), "message": msg}}, events...)
	}
	deps := []any{dep("PRIMARY", f.td, 2, 0, "COMPLETED", "")}
	if f.td == fakeNewTD && !f.updatedAt.IsZero() {
		old := dep("ACTIVE", fakeOldTD, 2, 0, "COMPLETED", "")
		settled := f.polls >= 2 && poll
		switch {
		case f.scenario == "stable" && settled:
			event("e1", "(service web) has started 2 tasks: (task 1) (task 2).")
			event("e2", "(service web) has reached a steady state.")
		case f.scenario == "stable":
			event("e1", "(service web) has started 2 tasks: (task 1) (task 2).")
			deps = []any{dep("PRIMARY", f.td, 1, 1, "IN_PROGRESS", ""), old}
		case f.scenario == "never" || !settled:
			event("e1", "(service web) was unable to place a task because no container instance met all of its requirements.")
			deps = []any{dep("PRIMARY", f.td, 0, 2, "IN_PROGRESS", ""), old}
		case f.scenario == "failed":
			deps = []any{dep("PRIMARY", f.td, 0, 0, "FAILED", "ECS deployment circuit breaker: tasks failed to start."), old}
		case f.scenario == "rolledback":
			// The circuit breaker's rollback: the service is on the
			// old task definition again, by ECS's own doing.
			f.td = fakeOldTD
			deps = []any{dep("PRIMARY", fakeOldTD, 1, 1, "IN_PROGRESS", ""),
				dep("ACTIVE", fakeNewTD, 0, 0, "FAILED", "ECS deployment circuit breaker: tasks failed to start.")}
		}
	}
	return map[string]any{
		"serviceName": "web", "serviceArn": "arn:aws:ecs:us-east-1:123456789012:service/prod/web",
		"clusterArn": "arn:aws:ecs:us-east-1:123456789012:cluster/prod", "status": "ACTIVE",
		"taskDefinition": f.td, "desiredCount": 2, "deploymentController": map[string]any{"type": "ECS"},
		"deployments": deps, "events": events,
	}
}

func TestECSRolloutsOnTheWire(t *testing.T) {
	tests := []struct {
		name, scenario          string
		throttle, throttlePolls int
		wantErr                 string // "" for success
		cancel                  bool   // the action's context ends first
		wantTD                  string
		wantUpdates             int
		wantLog                 []string
	}{
		{name: "settles", scenario: "stable", wantTD: fakeNewTD, wantUpdates: 1,
			wantLog: []string{"deployments: primary 1/2 running, 1 pending, rollout in_progress; active 2/2 running",
				"has started 2 tasks", "has reached a steady state.", "is stable on " + fakeNewTD}},
		// Each call is throttled twice: the SDK's retryer (3 attempts)
		// gets through on the third.
		{name: "throttled", scenario: "stable", throttle: 2, wantTD: fakeNewTD, wantUpdates: 1,
			wantLog: []string{"is stable on " + fakeNewTD}},
		// Polls throttled past the SDK's retries: the wait asks again.
		{name: "polls throttled", scenario: "stable", throttlePolls: 5, wantTD: fakeNewTD, wantUpdates: 1,
			wantLog: []string{"Rate exceeded; asking again", "is stable on " + fakeNewTD}},
		{name: "never settles", scenario: "never", wantTD: fakeOldTD, wantUpdates: 2,
			wantErr: "not stable within 300ms (deployments: primary 0/2 running, 2 pending, rollout in_progress; active 2/2 running, 0 pending, rollout completed); the previous task definition " + fakeOldTD + " was put back",
			wantLog: []string{"was unable to place a task", "put the previous task definition " + fakeOldTD + " back"}},
		// The run is cancelled, or the action's own timeout ends it,
		// before the service's: the service is moved back all the same.
		{name: "cancelled", scenario: "never", cancel: true, wantTD: fakeOldTD, wantUpdates: 2,
			wantErr: "context deadline exceeded; the previous task definition " + fakeOldTD + " was put back"},
		{name: "circuit breaker", scenario: "failed", wantTD: fakeOldTD, wantUpdates: 2,
			wantErr: "the rollout failed: ECS deployment circuit breaker: tasks failed to start.; the previous task definition " + fakeOldTD + " was put back"},
		{name: "circuit breaker rolled back", scenario: "rolledback", wantTD: fakeOldTD, wantUpdates: 1,
			wantErr: "the rollout failed: ECS deployment circuit breaker: tasks failed to start.; ECS's deployment circuit breaker moved the service back to " + fakeOldTD},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newECSFake(tt.scenario, tt.throttle, tt.throttlePolls)
			r := fakeRunner(t, f)
			var log []string
			with := map[string]any{"cluster": "prod", "service": "web", "container": "app", "image": "web:2", "timeout": "300ms"}
			ctx, cancel := context.WithCancel(context.Background())
			if tt.cancel {
				with["timeout"] = "1h"
				ctx, cancel = context.WithTimeout(context.Background(), 200*time.Millisecond)
			}
			defer cancel()
			c := call(t.TempDir(), "aws/ecs", with, &log)
			c.Apply = true
			res, err := r.Run(ctx, c)
			all := strings.Join(log, "\n")
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("error %v\n%s", err, all)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v\nwant %q\n%s", err, tt.wantErr, all)
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			if f.td != tt.wantTD || len(f.updates) != tt.wantUpdates {
				t.Errorf("service ended on %s after updates %v; want %s after %d", f.td, f.updates, tt.wantTD, tt.wantUpdates)
			}
			for _, w := range tt.wantLog {
				if !strings.Contains(all, w) {
					t.Errorf("log lacks %q:\n%s", w, all)
				}
			}
			if strings.Contains(all, "ecs-svc/0 completed") || strings.Count(all, "has started 2 tasks") > 1 {
				t.Errorf("an event from before the deploy was logged:\n%s", all)
			}
			if res.Outputs["task_definition_arn"] != fakeNewTD || res.Outputs["previous_task_definition_arn"] != fakeOldTD {
				t.Errorf("outputs %v", res.Outputs)
			}
			// What went over the wire: the old definition with the new
			// image, and nothing RegisterTaskDefinition refuses.
			reg := fmt.Sprint(f.registered)
			for _, w := range []string{"image:web:2", "image:fluent-bit:3", "cpu:256", "executionRoleArn:arn:aws:iam::123456789012:role/exec", "networkMode:awsvpc", "key:team"} {
				if !strings.Contains(reg, w) {
					t.Errorf("registered %s, lacks %s", reg, w)
				}
			}
			for _, w := range []string{"revision", "status", "compatibilities", "registeredAt", "taskDefinitionArn"} {
				if _, ok := f.registered[w]; ok {
					t.Errorf("registered the read-only %s: %s", w, reg)
				}
			}
			if tt.throttle > 0 && f.throttled < 4*tt.throttle {
				t.Errorf("%d throttled answers, want each of the 4 operations throttled %d times", f.throttled, tt.throttle)
			}
		})
	}
}

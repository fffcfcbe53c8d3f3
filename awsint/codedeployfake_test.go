package awsint_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// codeDeployFake is one deployment group of two instances, for what moto
// cannot show (moto never starts a deployment): a deployment that goes
// through to success, one that fails on an instance's hook script, one
// that never ends. Shapes as the API reference gives them:
// https://docs.aws.amazon.com/codedeploy/latest/APIReference/API_GetDeployment.html,
// https://docs.aws.amazon.com/codedeploy/latest/APIReference/API_BatchGetDeploymentTargets.html
type codeDeployFake struct {
	*jsonAPI
	scenario string
	created  map[string]any // the CreateDeployment input
	polls    int
	stopped  map[string]any // the StopDeployment input
	filters  []any          // the TargetFilters of ListDeploymentTargets
	// throttlePolls is how many GetDeployment after the first are
	// answered ThrottlingException: more than the SDK's 3 attempts.
	throttlePolls int
}

const fakeDeploymentID = "d-EXAMPLE11"

func newCodeDeployFake(scenario string, throttle, throttlePolls int) *codeDeployFake {
	f := &codeDeployFake{scenario: scenario, throttlePolls: throttlePolls}
	f.jsonAPI = &jsonAPI{prefix: "CodeDeploy_20141006", throttle: throttle, ops: map[string]func(map[string]any) (any, *apiError){
		"GetDeploymentGroup": func(in map[string]any) (any, *apiError) {
			if in["applicationName"] != "web" || in["deploymentGroupName"] != "fleet" {
				return nil, &apiError{400, "DeploymentGroupDoesNotExistException", "No Deployment Group found for name: " + fmt.Sprint(in["deploymentGroupName"])}
			}
			return map[string]any{"deploymentGroupInfo": map[string]any{"applicationName": "web", "deploymentGroupName": "fleet",
				"deploymentConfigName": "CodeDeployDefault.HalfAtATime", "computePlatform": "Server"}}, nil
		},
		"CreateDeployment": func(in map[string]any) (any, *apiError) {
			f.created = in
			return map[string]any{"deploymentId": fakeDeploymentID}, nil
		},
		"GetDeployment":             f.getDeployment,
		"ListDeploymentTargets":     f.listTargets,
		"BatchGetDeploymentTargets": f.batchGetTargets,
		"StopDeployment": func(in map[string]any) (any, *apiError) {
			f.stopped = in
			return map[string]any{"status": "Pending", "statusMessage": "Stopping Pending. Stopping to schedule commands in the deployment instances"}, nil
		},
	}}
	return f
}

func (f *codeDeployFake) getDeployment(in map[string]any) (any, *apiError) {
	if in["deploymentId"] != fakeDeploymentID {
		return nil, &apiError{400, "DeploymentDoesNotExistException", "no such deployment"}
	}
	if f.polls > 0 && f.throttlePolls > 0 {
		f.throttlePolls--
		return nil, &apiError{400, "ThrottlingException", "Rate exceeded"}
	}
	f.polls++
	info := map[string]any{"deploymentId": fakeDeploymentID, "applicationName": "web", "deploymentGroupName": "fleet",
		"status": "Created", "createTime": epoch(time.Now()), "computePlatform": "Server",
		"deploymentOverview": map[string]any{"Pending": 2, "InProgress": 0, "Succeeded": 0, "Failed": 0, "Skipped": 0, "Ready": 0}}
	overview := info["deploymentOverview"].(map[string]any)
	switch {
	case f.polls == 1:
	case f.polls == 2 || f.scenario == "hangs":
		info["status"], overview["Pending"], overview["InProgress"] = "InProgress", 1, 1
	case f.scenario == "fails":
		info["status"], overview["Pending"], overview["Succeeded"], overview["Failed"] = "Failed", 0, 1, 1
		info["errorInformation"] = map[string]any{"code": "HEALTH_CONSTRAINTS", "message": "The overall deployment failed because too many individual instances failed deployment, too few healthy instances are available for deployment, or some instances in your deployment group are experiencing problems."}
		info["rollbackInfo"] = map[string]any{"rollbackDeploymentId": "d-ROLLBACK1"}
	default:
		info["status"], overview["Pending"], overview["Succeeded"] = "Succeeded", 0, 2
	}
	return map[string]any{"deploymentInfo": info}, nil
}

// instance is an instance target; i-2 fails its AfterInstall hook in
// the failing scenario.
func (f *codeDeployFake) instance(id string) map[string]any {
	ev := func(name, status string) map[string]any {
		return map[string]any{"lifecycleEventName": name, "status": status}
	}
	evs := []any{ev("ApplicationStop", "Succeeded"), ev("DownloadBundle", "Succeeded"), ev("BeforeInstall", "Succeeded"),
		ev("Install", "Succeeded"), ev("AfterInstall", "Succeeded"), ev("ApplicationStart", "Succeeded")}
	status := "Succeeded"
	if f.scenario == "fails" && id == "i-2" {
		status = "Failed"
		failed := ev("AfterInstall", "Failed")
		failed["diagnostics"] = map[string]any{"errorCode": "ScriptFailed", "scriptName": "scripts/after_install.sh",
			"message": "Script at specified location: scripts/after_install.sh run as user root failed with exit code 1",
			"logTail": "[stdout]migrating\n[stderr]migrate: database is locked\n"}
		evs[4], evs[5] = failed, ev("ApplicationStart", "Skipped")
	}
	return map[string]any{"deploymentTargetType": "InstanceTarget", "instanceTarget": map[string]any{
		"deploymentId": fakeDeploymentID, "targetId": id, "targetArn": "arn:aws:ec2:us-east-1:123456789012:instance/" + id,
		"status": status, "lastUpdatedAt": epoch(time.Now()), "lifecycleEvents": evs}}
}

// listTargets pages one target at a time, honouring a TargetStatus
// filter.
func (f *codeDeployFake) listTargets(in map[string]any) (any, *apiError) {
	filters, _ := in["targetFilters"].(map[string]any)
	statuses, _ := filters["TargetStatus"].([]any)
	f.filters = statuses
	var ids []string
	for _, id := range []string{"i-1", "i-2"} {
		st := f.instance(id)["instanceTarget"].(map[string]any)["status"]
		if len(statuses) == 0 || fmt.Sprint(statuses...) == st {
			ids = append(ids, id)
		}
	}
	start := 0
	if tok, _ := in["nextToken"].(string); tok != "" {
		fmt.Sscan(tok, &start)
	}
	out := map[string]any{"targetIds": ids[start:min(start+1, len(ids))]}
	if start+1 < len(ids) {
		out["nextToken"] = fmt.Sprint(start + 1)
	}
	return out, nil
}

func (f *codeDeployFake) batchGetTargets(in map[string]any) (any, *apiError) {
	ids, _ := in["targetIds"].([]any)
	if len(ids) == 0 || len(ids) > 25 {
		return nil, &apiError{400, "InstanceIdRequiredException", "1 to 25 target ids"}
	}
	var out []any
	for _, id := range ids {
		out = append(out, f.instance(fmt.Sprint(id)))
	}
	return map[string]any{"deploymentTargets": out}, nil
}

func TestCodeDeployOnTheWire(t *testing.T) {
	tests := []struct {
		name, scenario          string
		throttle, throttlePolls int
		wantErr                 string
		wantLog                 []string
		notInErr                string
	}{
		{name: "succeeds", scenario: "succeeds", wantLog: []string{
			"deployment Created: 2 pending, 0 in progress, 0 succeeded, 0 failed, 0 skipped",
			"deployment InProgress: 1 pending, 1 in progress",
			"deployment Succeeded: 0 pending, 0 in progress, 2 succeeded",
			"instance i-1 Succeeded: ApplicationStop Succeeded, DownloadBundle Succeeded",
			"instance i-2 Succeeded:"}},
		{name: "throttled", scenario: "succeeds", throttle: 2, wantLog: []string{"deployment Succeeded"}},
		{name: "polls throttled", scenario: "succeeds", throttlePolls: 5, wantLog: []string{"Rate exceeded; asking again", "deployment Succeeded"}},
		{name: "fails", scenario: "fails",
			wantErr: "deployment " + fakeDeploymentID + ": Failed: HEALTH_CONSTRAINTS: The overall deployment failed because too many individual instances failed deployment" +
				", too few healthy instances are available for deployment, or some instances in your deployment group are experiencing problems." +
				"; CodeDeploy rolls back with deployment d-ROLLBACK1" +
				"; i-2 AfterInstall: ScriptFailed in scripts/after_install.sh: Script at specified location: scripts/after_install.sh run as user root failed with exit code 1",
			notInErr: "i-1",
			wantLog: []string{"instance i-2 Failed: ApplicationStop Succeeded, DownloadBundle Succeeded, BeforeInstall Succeeded, Install Succeeded, AfterInstall Failed, ApplicationStart Skipped",
				"    | [stderr]migrate: database is locked"}},
		{name: "hangs", scenario: "hangs", wantErr: "context deadline exceeded; the deployment was stopped, with rollback",
			wantLog: []string{"stopped deployment " + fakeDeploymentID + ": Pending"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newCodeDeployFake(tt.scenario, tt.throttle, tt.throttlePolls)
			r := fakeRunner(t, f)
			var log []string
			c := call(t.TempDir(), "aws/codedeploy", map[string]any{"application": "web", "deployment_group": "fleet",
				"s3_bucket": "builds", "s3_key": "web/1.2.3.tgz", "deployment_config": "CodeDeployDefault.OneAtATime"}, &log)
			c.Apply, c.RunID = true, "r9"
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if tt.scenario == "hangs" {
				ctx, cancel = context.WithTimeout(context.Background(), 200*time.Millisecond)
			}
			defer cancel()
			res, err := r.Run(ctx, c)
			all := strings.Join(log, "\n")
			t.Logf("error: %v\nlog:\n%s", err, all)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("error %v\n%s", err, all)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v\nwant %q\n%s", err, tt.wantErr, all)
			case tt.notInErr != "" && strings.Contains(err.Error(), tt.notInErr):
				t.Errorf("error names %s, which did not fail: %v", tt.notInErr, err)
			}
			for _, w := range tt.wantLog {
				if !strings.Contains(all, w) {
					t.Errorf("log lacks %q:\n%s", w, all)
				}
			}
			if res.Outputs["deployment_id"] != fakeDeploymentID {
				t.Errorf("outputs %v", res.Outputs)
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			got := fmt.Sprint(f.created)
			for _, w := range []string{"bucket:builds", "key:web/1.2.3.tgz", "bundleType:tgz", "revisionType:S3",
				"deploymentConfigName:CodeDeployDefault.OneAtATime", "description:stagegate run r9, site/upload"} {
				if !strings.Contains(got, w) {
					t.Errorf("CreateDeployment input %s lacks %s", got, w)
				}
			}
			if stopped := f.stopped != nil; stopped != (tt.scenario == "hangs") || stopped && f.stopped["autoRollbackEnabled"] != true {
				t.Errorf("StopDeployment input %v in scenario %s", f.stopped, tt.scenario)
			}
			if tt.scenario == "fails" && fmt.Sprint(f.filters...) != "Failed" {
				t.Errorf("failed targets listed with filter %v, want TargetStatus Failed", f.filters)
			}
			if tt.throttle > 0 && f.throttled < 3*tt.throttle {
				t.Errorf("%d throttled answers, want each operation throttled %d times", f.throttled, tt.throttle)
			}
		})
	}
}

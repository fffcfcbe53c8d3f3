package codebuild

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cbtypes "github.com/aws/aws-sdk-go-v2/service/codebuild/types"
)

// Each way a build can end that is not success is an action failure
// with CodeBuild's reason, not an engine error.
func TestBuildStatusesMapToResults(t *testing.T) {
	phase := func(typ cbtypes.BuildPhaseType, st cbtypes.StatusType, code, msg string) cbtypes.BuildPhase {
		p := cbtypes.BuildPhase{PhaseType: typ, PhaseStatus: st}
		if code != "" || msg != "" {
			p.Contexts = []cbtypes.PhaseContext{{StatusCode: aws.String(code), Message: aws.String(msg)}}
		}
		return p
	}
	ok := phase(cbtypes.BuildPhaseTypeSubmitted, cbtypes.StatusTypeSucceeded, "", "")
	for _, tc := range []struct {
		status cbtypes.StatusType
		phases []cbtypes.BuildPhase
		want   string
	}{
		{cbtypes.StatusTypeFailed, []cbtypes.BuildPhase{ok, phase(cbtypes.BuildPhaseTypeBuild, cbtypes.StatusTypeFailed, "COMMAND_EXECUTION_ERROR", "Error while executing command: make. Reason: exit status 2")},
			"b:1 FAILED in phase BUILD: COMMAND_EXECUTION_ERROR: Error while executing command: make. Reason: exit status 2"},
		{cbtypes.StatusTypeFault, []cbtypes.BuildPhase{ok, phase(cbtypes.BuildPhaseTypeProvisioning, cbtypes.StatusTypeFault, "", "internal error")},
			"b:1 FAULT in phase PROVISIONING: internal error"},
		{cbtypes.StatusTypeTimedOut, []cbtypes.BuildPhase{ok, phase(cbtypes.BuildPhaseTypeBuild, cbtypes.StatusTypeTimedOut, "BUILD_TIMED_OUT", "Build has timed out.")},
			"b:1 timed out in phase BUILD: BUILD_TIMED_OUT: Build has timed out."},
		{cbtypes.StatusTypeStopped, nil, "b:1 was stopped outside stagegate"},
	} {
		t.Run(string(tc.status), func(t *testing.T) {
			b := &build{}
			res, err := b.finish(t.Context(), cbtypes.Build{Id: aws.String("b:1"), BuildStatus: tc.status, Phases: tc.phases, BuildComplete: true})
			if err != nil || res.ExitCode == 0 || res.Killed {
				t.Fatalf("result %+v, %v: want a failure", res, err)
			}
			if !strings.HasSuffix(res.Reason, tc.want) {
				t.Errorf("reason %q, want %q", res.Reason, tc.want)
			}
		})
	}
}

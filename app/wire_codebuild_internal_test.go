package app

import "testing"

// Without --codebuild-staging, an S3 artifact store lends its bucket.
func TestCodeBuildStagingLocation(t *testing.T) {
	tests := []struct {
		name, staging, artifacts string
		want                     string // "" means no CodeBuild runner
		wantErr                  bool
	}{
		{name: "neither", want: ""},
		{name: "staging", staging: "s3://builds/stage", want: "s3://builds/stage"},
		{name: "artifact store", artifacts: "s3://arts/keep/", want: "s3://arts/keep/codebuild"},
		{name: "staging wins", staging: "s3://builds", artifacts: "s3://arts/keep", want: "s3://builds"},
		{name: "bad staging", staging: "gs://builds", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := newCodeBuild(Config{CodeBuildStaging: tt.staging, ArtifactStore: tt.artifacts}, Options{})
			if tt.wantErr {
				if err == nil {
					t.Fatalf("got a runner staging at %v, want an error", r.Staging)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if r != nil {
				got = r.Staging.String()
			}
			if got != tt.want {
				t.Errorf("staging = %q, want %q", got, tt.want)
			}
		})
	}
}

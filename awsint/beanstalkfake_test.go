package awsint_test

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticbeanstalk"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/stagegate/stagegate/internal/awstest"
)

// beanstalkFake speaks Elastic Beanstalk's query protocol (form-encoded
// Action=..., XML answers, as the API reference's examples show:
// https://docs.aws.amazon.com/elasticbeanstalk/latest/api/API_DescribeEnvironments.html),
// which moto implements only in part (no application versions, updates
// or events), and passes every other request, S3's, to moto, so that
// the bundle really lands in a bucket.
type beanstalkFake struct {
	moto http.Handler
	mu   sync.Mutex
	// after are the environment's states after UpdateEnvironment, one per
	// DescribeEnvironments; the last one stays.
	after []envState
	// versionExists makes CreateApplicationVersion answer as for a label
	// already taken.
	versionExists bool
	label         string // the version the environment runs
	created       url.Values
	updates       int
	polls         int
	calls         []string
	start         time.Time
}

type envState struct {
	status, health, healthStatus string
	// label is the version the environment runs then; "" means the
	// version the update asked for.
	label  string
	events [][2]string // severity, message
}

const ebNS = `xmlns="http://elasticbeanstalk.amazonaws.com/docs/2010-12-01/"`

func (f *beanstalkFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		f.moto.ServeHTTP(w, r)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	action := r.Form.Get("Action")
	f.calls = append(f.calls, action)
	state := envState{status: "Ready", health: "Green", healthStatus: "Ok"}
	// An earlier deploy's error, from before this one's update.
	events := [][2]string{{"ERROR", "Old deploy failed."}}
	if f.updates > 0 {
		i := min(f.polls, len(f.after)-1)
		state = f.after[i]
		if state.label == "" {
			state.label = r.Form.Get("VersionLabel")
		}
		for _, s := range f.after[:i+1] {
			events = append(events, s.events...)
		}
	}
	var result string
	switch action {
	case "DescribeEnvironments":
		if r.Form.Get("EnvironmentNames.member.1") != "web-prod" {
			result = "<Environments/>"
			break
		}
		if f.updates > 0 {
			f.polls++
			if state.label == "" {
				state.label = f.label
			}
		} else {
			state.label = "v0"
		}
		result = fmt.Sprintf(`<Environments><member><EnvironmentName>web-prod</EnvironmentName><ApplicationName>web</ApplicationName>
<VersionLabel>%s</VersionLabel><Status>%s</Status><Health>%s</Health><HealthStatus>%s</HealthStatus><CNAME>web-prod.eu-west-1.elasticbeanstalk.com</CNAME></member></Environments>`,
			state.label, state.status, state.health, state.healthStatus)
	case "CreateApplicationVersion":
		if f.versionExists {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `<ErrorResponse %s><Error><Type>Sender</Type><Code>InvalidParameterValue</Code><Message>Application Version %s already exists.</Message></Error><RequestId>r</RequestId></ErrorResponse>`,
				ebNS, r.Form.Get("VersionLabel"))
			return
		}
		f.created = r.Form
		result = fmt.Sprintf(`<ApplicationVersion><ApplicationName>web</ApplicationName><VersionLabel>%s</VersionLabel><Status>UNPROCESSED</Status></ApplicationVersion>`, r.Form.Get("VersionLabel"))
	case "UpdateEnvironment":
		f.updates++
		f.label = r.Form.Get("VersionLabel")
		result = fmt.Sprintf(`<EnvironmentName>web-prod</EnvironmentName><VersionLabel>%s</VersionLabel><Status>Updating</Status>`, f.label)
	case "DescribeEvents":
		// Newest first, as Elastic Beanstalk lists them.
		// Each event keeps its time from one answer to the next.
		var b strings.Builder
		if f.start.IsZero() {
			f.start = time.Now().UTC().Add(-time.Minute / 2)
		}
		for i := len(events) - 1; i >= 0; i-- {
			fmt.Fprintf(&b, `<member><EventDate>%s</EventDate><Severity>%s</Severity><Message>%s</Message><EnvironmentName>web-prod</EnvironmentName></member>`,
				f.start.Add(time.Duration(i)*time.Second).Format(time.RFC3339), events[i][0], events[i][1])
		}
		result = "<Events>" + b.String() + "</Events>"
	default:
		http.Error(w, "unexpected "+action, http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<%sResponse %s><%sResult>%s</%sResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></%sResponse>`,
		action, ebNS, action, result, action, action)
}

func TestElasticBeanstalk(t *testing.T) {
	moto, err := url.Parse(awstest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	updating := envState{status: "Updating", health: "Grey", healthStatus: "Pending", events: [][2]string{{"INFO", "Environment update is starting."}}}
	tests := []struct {
		name          string
		with          map[string]any
		apply         bool
		after         []envState
		versionExists bool
		wantErr       []string
		wantLog       []string
		wantCalls     []string
	}{
		{name: "ready and green", with: map[string]any{"source": "dist"}, apply: true,
			after:     []envState{updating, {status: "Ready", health: "Green", healthStatus: "Ok", events: [][2]string{{"INFO", "Environment update completed successfully."}}}},
			wantLog:   []string{"Environment update is starting.", "INFO Environment update completed successfully.", "Ready and Green on version 0123456789ab-run-7"},
			wantCalls: []string{"DescribeEnvironments", "CreateApplicationVersion", "UpdateEnvironment", "DescribeEnvironments"}},
		{name: "red", with: map[string]any{"zip": "web.zip", "version_label": "v1.2.3"}, apply: true,
			after: []envState{updating, {status: "Ready", health: "Red", healthStatus: "Severe", events: [][2]string{
				{"ERROR", "During an aborted deployment, some instances may have deployed the new application version."},
				{"ERROR", "Failed to deploy application."}}}},
			wantErr: []string{"Ready but its health is Red (Severe): During an aborted deployment, some instances may have deployed the new application version.; Failed to deploy application."},
			wantLog: []string{"ERROR Failed to deploy application."}},
		{name: "degraded", with: map[string]any{"s3_bucket": "builds", "s3_key": "web/1.zip"}, apply: true,
			after:   []envState{{status: "Ready", health: "Yellow", healthStatus: "Degraded", events: [][2]string{{"WARN", "Environment health has transitioned from Ok to Degraded."}}}},
			wantErr: []string{"health is Yellow (Degraded): Environment health has transitioned from Ok to Degraded."}},
		{name: "rolled back", with: map[string]any{"source": "dist"}, apply: true,
			after:   []envState{updating, {status: "Ready", health: "Green", healthStatus: "Ok", label: "v0", events: [][2]string{{"ERROR", "Update environment operation is complete, but with errors."}}}},
			wantErr: []string{"Ready on version v0, not 0123456789ab-run-7: the deploy was rolled back: Update environment operation is complete, but with errors."}},
		{name: "timeout", with: map[string]any{"source": "dist", "timeout": "300ms"}, apply: true,
			after:   []envState{{status: "Updating", health: "Grey", events: [][2]string{{"WARN", "Instance i-1 is still deploying."}}}},
			wantErr: []string{"not Ready and Green within 300ms (Updating, Grey): Instance i-1 is still deploying."}},
		{name: "version exists", with: map[string]any{"source": "dist"}, apply: true, versionExists: true,
			after:   []envState{{status: "Ready", health: "Green", healthStatus: "Ok"}},
			wantLog: []string{"exists already; deploying it"}},
		{name: "plan", with: map[string]any{"source": "dist"}, apply: false,
			wantLog:   []string{"would create version 0123456789ab-run-7 of application web", "move environment web-prod from version v0 (Ready, Green)"},
			wantCalls: []string{"DescribeEnvironments"}},
		{name: "no such environment", with: map[string]any{"source": "dist", "environment": "web-test"}, apply: true,
			wantErr: []string{"application web has no environment web-test"}, wantCalls: []string{"DescribeEnvironments"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bucket := awstest.Name(t, "eb")
			s3c := s3.NewFromConfig(awstest.Config(t))
			if _, err := s3c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
				t.Fatal(err)
			}
			f := &beanstalkFake{moto: httputil.NewSingleHostReverseProxy(moto), after: tt.after, versionExists: tt.versionExists}
			r := fakeRunner(t, f)
			ws := t.TempDir()
			writeFiles(t, ws, map[string]string{"dist/index.html": "<h1>hi</h1>", "dist/js/app.js": "go()", "web.zip": string(zipOf(t, "print(1)"))})
			with := map[string]any{"application": "web", "environment": "web-prod", "bucket": bucket, "key_prefix": "web/"}
			for k, v := range tt.with {
				with[k] = v
			}
			var log []string
			c := call(ws, "aws/elasticbeanstalk", with, &log)
			c.Apply, c.RunID, c.Event.SHA = tt.apply, "run-7", "0123456789abcdef0123456789abcdef01234567"
			res, err := r.Run(context.Background(), c)
			all := strings.Join(log, "\n")
			if len(tt.wantErr) == 0 && err != nil {
				t.Fatalf("%v\n%s", err, all)
			}
			for _, w := range tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("error %v, want %q\n%s", err, w, all)
				}
			}
			for _, w := range tt.wantLog {
				if !hasLine(log, w) {
					t.Errorf("log lacks %q:\n%s", w, all)
				}
			}
			if strings.Contains(all, "Old deploy failed") || (err != nil && strings.Contains(err.Error(), "Old deploy")) {
				t.Errorf("an event from before the update was taken for this deploy's: %v\n%s", err, all)
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			if tt.wantCalls != nil && !slices.Equal(dedupe(f.calls), tt.wantCalls) {
				t.Errorf("calls %v, want %v", dedupe(f.calls), tt.wantCalls)
			}
			label := "0123456789ab-run-7"
			if l, ok := tt.with["version_label"].(string); ok {
				label = l
			}
			if err == nil && res.Outputs["version_label"] != label {
				t.Errorf("outputs %v, want version_label %s", res.Outputs, label)
			}
			if f.created == nil {
				return
			}
			gotBucket, gotKey := f.created.Get("SourceBundle.S3Bucket"), f.created.Get("SourceBundle.S3Key")
			if tt.with["s3_key"] != nil {
				if gotBucket != "builds" || gotKey != "web/1.zip" {
					t.Errorf("version from s3://%s/%s, want the given object", gotBucket, gotKey)
				}
				return
			}
			if gotBucket != bucket || gotKey != "web/web/"+label+".zip" || f.created.Get("VersionLabel") != label {
				t.Errorf("version %s from s3://%s/%s", f.created.Get("VersionLabel"), gotBucket, gotKey)
			}
			// The bundle is in moto's bucket, a zip of what was asked.
			obj, err := s3c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &bucket, Key: aws.String(gotKey)})
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(obj.Body)
			obj.Body.Close()
			z, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
			if err != nil {
				t.Fatalf("bundle: %v", err)
			}
			var names []string
			for _, zf := range z.File {
				names = append(names, zf.Name)
			}
			want := []string{"index.py"} // web.zip as it was
			if tt.with["source"] != nil {
				want = []string{"index.html", "js/app.js"}
			}
			slices.Sort(names)
			if !slices.Equal(names, want) {
				t.Errorf("bundle holds %v, want %v", names, want)
			}
		})
	}
}

func dedupe(calls []string) []string {
	var out []string
	for _, c := range calls {
		if c == "DescribeEvents" || (len(out) > 0 && out[len(out)-1] == c) {
			continue
		}
		out = append(out, c)
	}
	return out
}

// Through moto: outside a deploy stage the action reads the environment
// and says what it would do, changing nothing.
func TestElasticBeanstalkPlanOnMoto(t *testing.T) {
	ctx := context.Background()
	cfg := awstest.Config(t)
	client := elasticbeanstalk.NewFromConfig(cfg)
	app, env := awstest.Name(t, "app"), "web-"+awstest.Name(t, "e")[2:]
	if _, err := client.CreateApplication(ctx, &elasticbeanstalk.CreateApplicationInput{ApplicationName: &app}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.CreateEnvironment(ctx, &elasticbeanstalk.CreateEnvironmentInput{ApplicationName: &app, EnvironmentName: &env,
		SolutionStackName: aws.String("64bit Amazon Linux 2023 v4.0.0 running Python 3.11")}); err != nil {
		t.Fatal(err)
	}
	r := hostRunner(t)
	ws := t.TempDir()
	writeFiles(t, ws, map[string]string{"dist/index.html": "hi"})
	var log []string
	c := call(ws, "aws/elasticbeanstalk", map[string]any{"application": app, "environment": env, "source": "dist", "bucket": "builds"}, &log)
	c.RunID, c.Event.SHA = "9", "abc"
	res, err := r.Run(ctx, c)
	if err != nil {
		t.Fatalf("%v\n%s", err, strings.Join(log, "\n"))
	}
	if !hasLine(log, "would create version abc-9 of application "+app, "move environment "+env, "only a deploy stage does") || res.Outputs["version_label"] != "abc-9" {
		t.Errorf("outputs %v, log:\n%s", res.Outputs, strings.Join(log, "\n"))
	}
	c.Action.With["environment"] = "web-missing"
	if _, err := r.Run(ctx, c); err == nil || !strings.Contains(err.Error(), "has no environment web-missing") {
		t.Errorf("missing environment: %v", err)
	}
}

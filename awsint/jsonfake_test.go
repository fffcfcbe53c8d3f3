package awsint_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/stagegate/stagegate/awsint"
)

// apiError is an error a fake answers, as the JSON protocol writes one.
type apiError struct {
	status     int
	code, text string
}

// jsonAPI serves an API of AWS's JSON 1.1 protocol as the SDK reaches it
// through BaseEndpoint: POST / with X-Amz-Target: <prefix>.<Operation>
// and a JSON body, a JSON answer, and errors as a 400 whose body's
// __type names the error
// (https://smithy.io/2.0/aws/protocols/aws-json-1_1-protocol.html).
// Each operation's first throttle calls are answered
// ThrottlingException, as a busy account's are.
type jsonAPI struct {
	prefix   string
	throttle int
	ops      map[string]func(in map[string]any) (any, *apiError)

	// mu guards calls and whatever the operations keep: they run with
	// it held.
	mu    sync.Mutex
	calls map[string]int
	// throttled counts the ThrottlingException answers.
	throttled int
}

func (f *jsonAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, f.prefix+".")
	if r.Method != http.MethodPost || !ok || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-amz-json-1.1") {
		http.Error(w, "unexpected request "+r.Method+" "+target, http.StatusBadRequest)
		return
	}
	var in map[string]any
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeAPIError(w, &apiError{400, "SerializationException", err.Error()})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.calls == nil {
		f.calls = make(map[string]int)
	}
	f.calls[op]++
	if f.calls[op] <= f.throttle {
		f.throttled++
		writeAPIError(w, &apiError{400, "ThrottlingException", "Rate exceeded"})
		return
	}
	handle, ok := f.ops[op]
	if !ok {
		writeAPIError(w, &apiError{400, "UnknownOperationException", op + " is not faked"})
		return
	}
	out, aerr := handle(in)
	if aerr != nil {
		writeAPIError(w, aerr)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	json.NewEncoder(w).Encode(out)
}

func writeAPIError(w http.ResponseWriter, e *apiError) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(e.status)
	json.NewEncoder(w).Encode(map[string]string{"__type": e.code, "message": e.text})
}

// fakeRunner is a Runner whose SDK calls reach handler, with the SDK's
// standard retryer (3 attempts) waiting 1ms rather than seconds between
// them.
func fakeRunner(t *testing.T, handler http.Handler) *awsint.Runner {
	t.Helper()
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	r := awsint.NewRunner()
	r.HostCredentials, r.Poll = true, 5*time.Millisecond
	r.Load = func(context.Context) (aws.Config, error) {
		return aws.Config{
			Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
			Credentials: credentials.NewStaticCredentialsProvider("a", "b", ""),
			Retryer: func() aws.Retryer {
				return retry.NewStandard(func(o *retry.StandardOptions) {
					o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
				})
			},
		}, nil
	}
	return r
}

// epoch is a time as the JSON protocol writes timestamps: seconds.
func epoch(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

package awstest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
)

// LambdaResults makes moto answer the next invocations of functions in
// region with results, in order, without running them in Docker: moto's
// "simple" Lambda (http://docs.getmoto.org/en/latest/docs/services/lambda.html).
// The queue is moto's, one per region for every function and test: tests
// that may run at once against one moto use regions of their own.
func LambdaResults(t testing.TB, region string, results ...string) {
	t.Helper()
	base := URL(t)
	post(t, base+"/moto-api/config", map[string]any{"lambda": map[string]any{"use_docker": false}})
	post(t, base+"/moto-api/static/lambda-simple/response", map[string]any{"results": results, "region": region})
}

func post(t testing.TB, url string, body any) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatalf("moto: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("moto: POST %s: %s", url, resp.Status)
	}
}

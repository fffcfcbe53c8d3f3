package awsint_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// lambdaFake speaks Lambda's REST-JSON API
// (https://docs.aws.amazon.com/lambda/latest/api/API_Operations.html)
// for what moto cannot show: a published version that never becomes
// Active (https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html),
// and an alias that cannot be moved back.
type lambdaFake struct {
	mu sync.Mutex
	// alias is where "live" points, "" when it does not exist.
	alias string
	// newState is the State the published version reports.
	newState, reason string
	// failRollback makes every alias change after the first fail.
	failRollback bool
	moves        []string
}

func (f *lambdaFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	path := strings.TrimPrefix(r.URL.Path, "/2015-03-31/functions/fn")
	reply := func(code int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(v)
	}
	fail := func(code int, kind, msg string) {
		// Lambda names the error in this header
		// (https://docs.aws.amazon.com/lambda/latest/api/CommonErrors.html).
		w.Header().Set("X-Amzn-Errortype", kind)
		reply(code, map[string]string{"Type": "User", "message": msg})
	}
	var body struct{ FunctionVersion string }
	json.NewDecoder(r.Body).Decode(&body)
	switch {
	case r.Method == "GET" && path == "/configuration":
		state := map[string]any{"FunctionName": "fn", "Version": "$LATEST", "CodeSha256": "sha2", "State": "Active", "LastUpdateStatus": "Successful"}
		if r.URL.Query().Get("Qualifier") == "2" {
			state["Version"], state["State"] = "2", f.newState
			if f.newState == "Failed" {
				state["StateReason"], state["StateReasonCode"] = f.reason, "SubnetOutOfIPAddresses"
			}
		}
		reply(200, state)
	case r.Method == "PUT" && path == "/code":
		reply(200, map[string]any{"FunctionName": "fn", "CodeSha256": "sha2", "LastUpdateStatus": "InProgress"})
	case r.Method == "POST" && path == "/versions":
		reply(201, map[string]any{"FunctionName": "fn", "Version": "2", "CodeSha256": "sha2", "State": "Pending"})
	case r.Method == "GET" && path == "/aliases/live":
		if f.alias == "" {
			fail(404, "ResourceNotFoundException", "Alias not found: live")
			return
		}
		reply(200, map[string]string{"Name": "live", "FunctionVersion": f.alias})
	case (r.Method == "PUT" && path == "/aliases/live") || (r.Method == "POST" && path == "/aliases") || (r.Method == "DELETE" && path == "/aliases/live"):
		if f.failRollback && len(f.moves) > 0 {
			fail(500, "ServiceException", "try again later")
			return
		}
		f.alias = body.FunctionVersion
		f.moves = append(f.moves, r.Method+" "+body.FunctionVersion)
		if r.Method == "DELETE" {
			w.WriteHeader(204)
			return
		}
		reply(200, map[string]string{"Name": "live", "FunctionVersion": f.alias})
	default:
		fail(400, "InvalidParameterValueException", fmt.Sprintf("unexpected %s %s", r.Method, r.URL.Path))
	}
}

// The alias moves to the new version, and back when the version fails
// to become Active: the deploy fails, saying so.
func TestLambdaMovesAliasBack(t *testing.T) {
	tests := []struct {
		name      string
		fake      *lambdaFake
		wantAlias string
		wantMoves []string
		wantErr   []string
	}{
		{"active", &lambdaFake{alias: "1", newState: "Active"}, "2", []string{"PUT 2"}, nil},
		{"failed version, moved back", &lambdaFake{alias: "1", newState: "Failed", reason: "no IP addresses left"}, "1",
			[]string{"PUT 2", "PUT 1"}, []string{"version 2 of fn is Failed: no IP addresses left (SubnetOutOfIPAddresses)", "alias live moved back to version 1"}},
		{"failed version, new alias deleted", &lambdaFake{newState: "Failed", reason: "no IP addresses left"}, "",
			[]string{"POST 2", "DELETE "}, []string{"is Failed", "alias live deleted again"}},
		{"inactive version", &lambdaFake{alias: "1", newState: "Inactive"}, "1", []string{"PUT 2", "PUT 1"}, []string{"version 2 of fn is Inactive"}},
		{"rollback fails too", &lambdaFake{alias: "1", newState: "Failed", reason: "bad", failRollback: true}, "2",
			[]string{"PUT 2"}, []string{"is Failed: bad", `moving alias live back to version "1" failed too`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.fake
			r := fakeRunner(t, f)
			ws := t.TempDir()
			writeFiles(t, ws, map[string]string{"fn.zip": "PK"})
			var log []string
			c := call(ws, "aws/lambda", map[string]any{"function": "fn", "zip": "fn.zip", "alias": "live"}, &log)
			c.Apply, c.RunID = true, "r1"
			_, err := r.Run(context.Background(), c)
			all := strings.Join(log, "\n")
			if len(tt.wantErr) == 0 && err != nil {
				t.Fatalf("%v\n%s", err, all)
			}
			for _, w := range tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("error %v, want %q\n%s", err, w, all)
				}
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			if f.alias != tt.wantAlias || strings.Join(f.moves, ",") != strings.Join(tt.wantMoves, ",") {
				t.Errorf("alias at %q after moves %q, want %q after %q\n%s", f.alias, f.moves, tt.wantAlias, tt.wantMoves, all)
			}
			if len(tt.wantErr) > 0 && !hasLine(log, "alias live") {
				t.Errorf("the log does not say what happened to the alias:\n%s", all)
			}
		})
	}
}

// The action's time running out while the version is still Pending
// moves the alias back all the same, with a context of its own.
func TestLambdaTimeoutMovesAliasBack(t *testing.T) {
	f := &lambdaFake{alias: "1", newState: "Pending"}
	r := fakeRunner(t, f)
	ws := t.TempDir()
	writeFiles(t, ws, map[string]string{"fn.zip": "PK"})
	var log []string
	c := call(ws, "aws/lambda", map[string]any{"function": "fn", "zip": "fn.zip", "alias": "live"}, &log)
	c.Apply, c.RunID = true, "r1"
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := r.Run(ctx, c)
	if err == nil || !strings.Contains(err.Error(), "waiting for version 2 of fn to become Active") {
		t.Errorf("error %v, want the wait's end", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.alias != "1" {
		t.Errorf("alias at %q after moves %q, want back at 1\n%s", f.alias, f.moves, strings.Join(log, "\n"))
	}
}

package githubtest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
)

// docRoot is what GitHub puts in documentation_url for generic errors.
const docRoot = "https://docs.github.com/rest"

// writeJSON writes v the way GitHub does: compact JSON, no HTML escaping,
// application/json; charset=utf-8.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-GitHub-Media-Type", "github.v3; format=json")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// writeError writes GitHub's error body:
// {"message": ..., "documentation_url": ..., "status": "<code>"}.
func writeError(w http.ResponseWriter, status int, message, docURL string) {
	if docURL == "" {
		docURL = docRoot
	}
	writeJSON(w, status, map[string]any{
		"message":           message,
		"documentation_url": docURL,
		"status":            strconv.Itoa(status),
	})
}

func writeNotFound(w http.ResponseWriter) {
	writeError(w, http.StatusNotFound, "Not Found", "")
}

// fieldError is one entry of a "Validation Failed" errors array.
type fieldError struct {
	Resource string `json:"resource"`
	Code     string `json:"code"`
	Field    string `json:"field"`
	Message  string `json:"message,omitempty"`
}

// writeValidationFailed writes GitHub's model-level 422:
// {"message": "Validation Failed", "errors": [{resource, code, field}], ...}.
func writeValidationFailed(w http.ResponseWriter, docURL string, errs ...fieldError) {
	writeJSON(w, http.StatusUnprocessableEntity, map[string]any{
		"message":           "Validation Failed",
		"errors":            errs,
		"documentation_url": docURL,
		"status":            "422",
	})
}

// writeInvalidRequest writes GitHub's schema-level 422. GitHub's message is
// "Invalid request.\n\n" followed by one line per schema violation; the
// same lines are also given as the errors array (strings, which go-github's
// Error type decodes into Message) so tests can match them one by one.
func writeInvalidRequest(w http.ResponseWriter, docURL string, lines []string) {
	msg := "Invalid request.\n\n"
	for i, l := range lines {
		if i > 0 {
			msg += "\n"
		}
		msg += l
	}
	writeJSON(w, http.StatusUnprocessableEntity, map[string]any{
		"message":           msg,
		"errors":            lines,
		"documentation_url": docURL,
		"status":            "422",
	})
}

// decodeBody decodes a JSON request body into a generic map, numbers kept as
// json.Number so integers and fractions can be told apart as a JSON schema
// validator does. An empty body is an empty object. A body that is not JSON
// gets GitHub's 400 "Problems parsing JSON".
func decodeBody(w http.ResponseWriter, r *http.Request) (map[string]any, []byte, bool) {
	var buf bytes.Buffer
	if r.Body != nil {
		if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, 32<<20)); err != nil {
			writeError(w, http.StatusBadRequest, "Problems parsing JSON", "")
			return nil, nil, false
		}
	}
	raw := buf.Bytes()
	if len(bytes.TrimSpace(raw)) == 0 {
		return map[string]any{}, raw, true
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		writeError(w, http.StatusBadRequest, "Problems parsing JSON", "")
		return nil, nil, false
	}
	if v == nil { // "null", as ghinstallation sends without token options
		return map[string]any{}, raw, true
	}
	m, ok := v.(map[string]any)
	if !ok {
		// GitHub answers a non-object body with a schema error.
		writeInvalidRequest(w, docRoot, []string{"Invalid input: body must be a JSON object."})
		return nil, nil, false
	}
	return m, raw, true
}

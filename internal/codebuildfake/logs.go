package codebuildfake

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// stream is a CloudWatch Logs stream: events in the order written.
type stream struct {
	events []Event
}

// flush writes the build's queued lines to its stream as one batch,
// creating the stream at the first, as the CodeBuild agent does.
func (f *Fake) flush(b *build) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(b.pending) == 0 {
		return
	}
	key := b.group + "/" + b.stream
	s := f.streams[key]
	if s == nil {
		s = &stream{}
		f.streams[key] = s
	}
	s.events = append(s.events, b.pending...)
	b.pending = nil
}

// getLogEvents pages forward through a stream
// (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_GetLogEvents.html).
// Tokens are f/<index> and b/<index> (f/<index>/e after an empty page);
// at the end of the stream the token given is returned again.
func (f *Fake) getLogEvents(body []byte) (any, error) {
	var req struct {
		Group         string `json:"logGroupName"`
		Stream        string `json:"logStreamName"`
		NextToken     string `json:"nextToken"`
		StartFromHead *bool  `json:"startFromHead"`
		Limit         int    `json:"limit"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, &apiError{http.StatusBadRequest, "SerializationException", err.Error()}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.streams[req.Group+"/"+req.Stream]
	if s == nil {
		return nil, &apiError{http.StatusBadRequest, "ResourceNotFoundException", "The specified log stream does not exist."}
	}
	limit := req.Limit
	if limit <= 0 || limit > 10000 {
		limit = 10000
	}
	from, primed := 0, false
	switch {
	case req.NextToken != "":
		dir, n, ok := strings.Cut(req.NextToken, "/")
		n, primed = strings.CutSuffix(n, "/e")
		i, err := strconv.Atoi(n)
		if !ok || (dir != "f" && dir != "b") || err != nil || i < 0 || i > len(s.events) {
			return nil, &apiError{http.StatusBadRequest, "InvalidParameterException", "The specified nextToken is invalid."}
		}
		from = i
	case req.StartFromHead == nil || !*req.StartFromHead:
		from = max(0, len(s.events)-limit)
	}
	if f.emptyPages && !primed && from < len(s.events) {
		return map[string]any{"events": []any{}, "nextForwardToken": "f/" + strconv.Itoa(from) + "/e", "nextBackwardToken": "b/" + strconv.Itoa(from)}, nil
	}
	to := min(len(s.events), from+limit)
	events := []map[string]any{}
	for _, e := range s.events[from:to] {
		events = append(events, map[string]any{"timestamp": e.Timestamp, "message": e.Message, "ingestionTime": e.Timestamp})
	}
	next := "f/" + strconv.Itoa(to)
	if to == from && req.NextToken != "" {
		next = req.NextToken
	}
	return map[string]any{"events": events, "nextForwardToken": next, "nextBackwardToken": "b/" + strconv.Itoa(from)}, nil
}

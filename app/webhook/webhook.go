package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/stagegate/stagegate/app/logkey"
)

// maxWebhookBody is GitHub's own cap on a delivery's payload.
const maxWebhookBody = 25 << 20

// maxWebhookBytesInFlight bounds the bodies being read, not yet
// authenticated, across the whole server: anyone can send them, and
// each may be 25 MB.
const maxWebhookBytesInFlight = 64 << 20

// Delivery is one webhook as received, before any processing.
type Delivery struct {
	GUID           string
	Event          string
	Action         string
	InstallationID int64
	// Repo is owner/name, empty for events without a repository.
	Repo       string
	Payload    []byte
	ReceivedAt time.Time
}

// Ingester stores a delivery and queues its processing durably, in one
// transaction. A GUID seen before is a duplicate: nothing is stored or
// queued again.
type Ingester interface {
	Ingest(ctx context.Context, d Delivery) (duplicate bool, err error)
}

// handledEvents are the events stagegate acts on; GitHub sends others
// when the App subscribes to them, and they are acknowledged and dropped.
var handledEvents = map[string]bool{
	"push":                       true,
	"pull_request":               true,
	"check_run":                  true,
	"check_suite":                true,
	"installation":               true,
	"installation_repositories":  true,
	"issue_comment":              true,
	"status":                     true,
	"deployment_protection_rule": true,
	// repository: its private flag, for the pages (wire_web.go).
	"repository": true,
}

// Handler is POST /webhook. It only verifies, stores and queues:
// nothing slow happens while GitHub waits for the answer.
type Handler struct {
	secret []byte
	ingest Ingester
	// deliveries counts deliveries by event and result.
	deliveries *prometheus.CounterVec
	// inFlight is taken for every byte of a body read before its
	// signature is checked.
	inFlight *byteBudget
	chunks   chunkPool
}

// NewHandler verifies deliveries signed with secret and hands them to
// ingest, counting each in deliveries by event and result.
func NewHandler(secret []byte, ingest Ingester, deliveries *prometheus.CounterVec) *Handler {
	return &Handler{secret: secret, ingest: ingest, deliveries: deliveries, inFlight: newByteBudget(maxWebhookBytesInFlight)}
}

// payloadHeader is the part of every payload the handler reads.
type payloadHeader struct {
	Action       string `json:"action"`
	Installation *struct {
		ID int64 `json:"id"`
	} `json:"installation"`
	Repository *struct {
		FullName string `json:"full_name"`
	} `json:"repository"`
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	event := r.Header.Get("X-GitHub-Event")
	result := h.serve(w, r, event)
	h.deliveries.WithLabelValues(metricEvent(event), result).Inc()
}

// serve answers the delivery and returns the result for the metrics.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request, event string) string {
	log := zerolog.Ctx(r.Context())
	chunks, taken, err := h.readBody(r)
	// Once the signature is checked the bytes are no longer anyone's:
	// they are GitHub's delivery or garbage.
	defer h.inFlight.give(taken)
	defer h.chunks.put(chunks)
	switch {
	case errors.Is(err, errTooLarge):
		http.Error(w, "payload larger than 25 MB", http.StatusRequestEntityTooLarge)
		return "too_large"
	case errors.Is(err, errBusy):
		// GitHub does not retry by itself; the catch-up of missed
		// deliveries asks for it again.
		w.Header().Set("Retry-After", "10")
		http.Error(w, "too many deliveries being received; try again later", http.StatusServiceUnavailable)
		return "busy"
	case err != nil:
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return "bad_request"
	}
	// Only SHA-256 counts: the SHA-1 header alone is not accepted.
	if !validSignature(h.secret, chunks, r.Header.Get("X-Hub-Signature-256")) {
		log.Warn().Str(logkey.Delivery, r.Header.Get("X-GitHub-Delivery")).Msg("webhook signature invalid")
		http.Error(w, "invalid or missing X-Hub-Signature-256", http.StatusUnauthorized)
		return "unauthorized"
	}
	guid := r.Header.Get("X-GitHub-Delivery")
	if event == "" || guid == "" {
		http.Error(w, "X-GitHub-Event and X-GitHub-Delivery are required", http.StatusBadRequest)
		return "bad_request"
	}
	body := bytes.Join(chunks, nil)
	var head payloadHeader
	if err := json.Unmarshal(body, &head); err != nil {
		http.Error(w, "body is not a JSON object", http.StatusBadRequest)
		return "bad_request"
	}
	if event == "ping" {
		writeText(w, http.StatusOK, "pong\n")
		return "ping"
	}
	if !handledEvents[event] {
		writeText(w, http.StatusAccepted, "ignored: stagegate does not act on "+event+" events\n")
		return "ignored"
	}
	d := Delivery{GUID: guid, Event: event, Action: head.Action, Payload: body, ReceivedAt: time.Now()}
	if head.Installation != nil {
		d.InstallationID = head.Installation.ID
	}
	if head.Repository != nil {
		d.Repo = head.Repository.FullName
	}
	dup, err := h.ingest.Ingest(r.Context(), d)
	if err != nil {
		log.Error().Err(err).Str(logkey.Delivery, guid).Msg("store delivery")
		// GitHub shows the failure on the App's deliveries page; the
		// catch-up of missed deliveries asks for it again.
		http.Error(w, "could not store the delivery", http.StatusServiceUnavailable)
		return "error"
	}
	if dup {
		writeText(w, http.StatusOK, "duplicate delivery "+guid+": already received\n")
		return "duplicate"
	}
	writeText(w, http.StatusAccepted, "queued\n")
	return "queued"
}

// validSignature checks GitHub's "sha256=<hex>" HMAC of the raw body,
// given in chunks, in constant time.
func validSignature(secret []byte, body [][]byte, header string) bool {
	hexSig, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return false
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, secret)
	for _, b := range body {
		mac.Write(b)
	}
	return hmac.Equal(got, mac.Sum(nil))
}

// metricEvent bounds the event label to names GitHub sends.
func metricEvent(event string) string {
	if handledEvents[event] || event == "ping" {
		return event
	}
	return "other"
}

func writeText(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, text)
}

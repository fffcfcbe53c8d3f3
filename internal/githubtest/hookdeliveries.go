package githubtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// GitHub's webhook sender gives up after 10 seconds, keeps delivery
// records for the REST API for 3 days and delivers only to the App's
// webhook URL.
const (
	hookTimeout   = 10 * time.Second
	hookRetention = 3 * 24 * time.Hour
)

// appHook is an App's webhook: GitHub Apps have exactly one.
type appHook struct {
	id     int64
	url    string
	secret string
	active bool
}

// lifecycleEvents are delivered to every App whatever it subscribed to.
var lifecycleEvents = []string{"installation", "installation_repositories", "installation_target", "github_app_authorization", "ping"}

// HookDelivery is one delivery of an App's webhook as GitHub records it
// (GET /app/hook/deliveries/{delivery_id}).
type HookDelivery struct {
	ID             int64
	GUID           string // X-GitHub-Delivery; a redelivery keeps it
	AppID          int64
	Event, Action  string
	InstallationID int64 // from the payload's installation.id; 0 if none
	RepositoryID   int64 // from the payload's repository.id; 0 if none
	// StatusCode is the receiver's HTTP status, 0 when there was no
	// response. Status is "OK" for a 2xx, "Invalid HTTP Response: 502",
	// "failed to connect to host" or "timed out".
	StatusCode  int
	Status      string
	DeliveredAt time.Time // server clock
	Duration    time.Duration
	Redelivery  bool
	URL         string // where it was sent
	// RequestHeaders and Payload are what was sent; ResponseHeaders and
	// ResponseBody what came back.
	RequestHeaders  map[string]string
	Payload         []byte
	ResponseHeaders map[string]string
	ResponseBody    string
}

// Success reports whether the receiver answered 2xx.
func (d HookDelivery) Success() bool { return d.StatusCode >= 200 && d.StatusCode < 300 }

// SetWebhook sets the App's webhook URL and secret, as the App's settings
// page does. An empty url deactivates the webhook; an empty secret makes
// deliveries unsigned.
func (a *App) SetWebhook(url, secret string) {
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	if a.hook.id == 0 {
		a.hook.id = a.s.newIDLocked()
	}
	a.hook.url, a.hook.secret, a.hook.active = url, secret, url != ""
}

// WebhookURL is the App's webhook URL ("" when it has none).
func (a *App) WebhookURL() string {
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	return a.hook.url
}

// WebhookSecret is the secret deliveries are signed with.
func (a *App) WebhookSecret() string {
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	return a.hook.secret
}

// Deliver sends payload to app's webhook as GitHub does (headers
// X-GitHub-Event, a new X-GitHub-Delivery GUID, X-GitHub-Hook-ID,
// X-GitHub-Hook-Installation-Target-ID/-Type "integration", both
// signatures, User-Agent GitHub-Hookshot/...; no redirects followed, 10 s
// timeout), records the delivery for /app/hook/deliveries and returns its
// GUID and the receiver's status code (0 when it could not connect or
// timed out). action "" means the payload's "action". The test fails if
// the App has no active webhook, if payload is not a JSON object, or if an
// App registered from a manifest is not subscribed to event (GitHub sends
// it nothing then; installation events and ping always go out).
func (s *Server) Deliver(app *App, event, action string, payload []byte) (guid string, status int) {
	s.t.Helper()
	d := s.newDelivery(app, event, action, payload, true)
	d = s.send(app, d)
	return d.GUID, d.StatusCode
}

// RecordFailedDelivery records a delivery of payload to app's webhook that
// failed with 502 Bad Gateway, without sending anything, as if the
// receiver had been down. Use it to test catching up by redelivery.
func (s *Server) RecordFailedDelivery(app *App, event, action string, payload []byte) (guid string) {
	s.t.Helper()
	d := s.newDelivery(app, event, action, payload, false)
	d.StatusCode, d.Status = http.StatusBadGateway, "Invalid HTTP Response: 502"
	d.ResponseHeaders = map[string]string{"Content-Type": "text/html"}
	d.ResponseBody = "<html><body><h1>502 Bad Gateway</h1></body></html>"
	d.Duration = 30 * time.Millisecond
	s.recordDelivery(d)
	return d.GUID
}

// HookDeliveries returns app's recorded deliveries, oldest first.
func (s *Server) HookDeliveries(app *App) []HookDelivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []HookDelivery
	for _, d := range s.hookDeliveries {
		if d.AppID == app.ID {
			out = append(out, *d)
		}
	}
	return out
}

// WaitDeliveries waits for redeliveries requested through the API
// (which, as on GitHub, happen after the 202 is answered) to finish.
func (s *Server) WaitDeliveries() { s.hookWG.Wait() }

// newDelivery validates a delivery of a new event and fills in what does
// not depend on sending it.
func (s *Server) newDelivery(app *App, event, action string, payload []byte, needHook bool) *HookDelivery {
	s.t.Helper()
	var p map[string]any
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&p); err != nil || p == nil {
		s.t.Fatalf("githubtest: delivering %s: payload is not a JSON object: %v", event, err)
	}
	if action == "" {
		action, _ = p["action"].(string)
	}
	s.mu.Lock()
	hook, subscribed := app.hook, app.events == nil || slices.Contains(app.events, event) || slices.Contains(lifecycleEvents, event)
	s.mu.Unlock()
	if needHook && (!hook.active || hook.url == "") {
		s.t.Fatalf("githubtest: App %s has no active webhook (use SetWebhook)", app.Slug)
	}
	if !subscribed {
		s.t.Fatalf("githubtest: App %s is not subscribed to %q events; GitHub would not deliver it", app.Slug, event)
	}
	d := &HookDelivery{
		GUID: NewDeliveryID(), AppID: app.ID, Event: event, Action: action, URL: hook.url,
		Payload: append([]byte(nil), payload...),
	}
	d.InstallationID, _ = claimInt(GetPath(p, "installation.id"), false)
	d.RepositoryID, _ = claimInt(GetPath(p, "repository.id"), false)
	d.RequestHeaders = s.hookHeaders(app, d)
	d.DeliveredAt = s.Now()
	return d
}

// hookHeaders are the headers Hookshot sends for d with app's current
// hook id and secret.
func (s *Server) hookHeaders(app *App, d *HookDelivery) map[string]string {
	s.mu.Lock()
	hook := app.hook
	s.mu.Unlock()
	h := map[string]string{
		"Accept":                                 "*/*",
		"User-Agent":                             hookshotUA,
		"X-GitHub-Delivery":                      d.GUID,
		"X-GitHub-Event":                         d.Event,
		"X-GitHub-Hook-ID":                       strconv.FormatInt(hook.id, 10),
		"X-GitHub-Hook-Installation-Target-ID":   strconv.FormatInt(app.ID, 10),
		"X-GitHub-Hook-Installation-Target-Type": "integration",
		"Content-Type":                           "application/json",
	}
	if hook.secret != "" {
		h["X-Hub-Signature"] = SignSHA1([]byte(hook.secret), d.Payload)
		h["X-Hub-Signature-256"] = Sign([]byte(hook.secret), d.Payload)
	}
	return h
}

var hookClient = &http.Client{
	Timeout:       hookTimeout,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// send POSTs d to its URL, fills in the outcome and records it. It must
// be called without s.mu held: the receiver may call the API back.
func (s *Server) send(app *App, d *HookDelivery) *HookDelivery {
	start := time.Now()
	req, err := http.NewRequest(http.MethodPost, d.URL, bytes.NewReader(d.Payload))
	if err == nil {
		for k, v := range d.RequestHeaders {
			req.Header.Set(k, v)
		}
		var resp *http.Response
		resp, err = hookClient.Do(req)
		if err == nil {
			body, rerr := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			d.ResponseHeaders = map[string]string{}
			for k := range resp.Header {
				d.ResponseHeaders[k] = resp.Header.Get(k)
			}
			d.ResponseBody = string(body)
			d.StatusCode = resp.StatusCode
			switch {
			case rerr != nil:
				d.StatusCode, d.Status = 0, "failed to read response"
			case d.Success():
				d.Status = "OK"
			default:
				d.Status = "Invalid HTTP Response: " + strconv.Itoa(resp.StatusCode)
			}
		}
	}
	if err != nil {
		d.ResponseHeaders = map[string]string{}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			d.Status = "timed out"
		} else {
			d.Status = "failed to connect to host"
		}
	}
	d.Duration = time.Since(start)
	s.recordDelivery(d)
	return d
}

func (s *Server) recordDelivery(d *HookDelivery) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d.ID = s.newIDLocked()
	s.hookDeliveries = append(s.hookDeliveries, d)
}

// redeliver sends d again, with the same GUID and payload, to the App's
// current URL signed with its current secret, in the background as GitHub
// does; [Server.WaitDeliveries] waits for it.
func (s *Server) redeliver(app *App, d HookDelivery) {
	nd := &HookDelivery{
		GUID: d.GUID, AppID: d.AppID, Event: d.Event, Action: d.Action,
		InstallationID: d.InstallationID, RepositoryID: d.RepositoryID,
		Redelivery: true, URL: app.WebhookURL(), Payload: d.Payload,
	}
	nd.RequestHeaders = s.hookHeaders(app, nd)
	nd.DeliveredAt = s.Now()
	s.hookWG.Add(1)
	go func() {
		defer s.hookWG.Done()
		s.send(app, nd)
	}()
}

// deliveryJSON renders d as the list (full=false) or detail endpoint does.
func deliveryJSON(d *HookDelivery, full bool) map[string]any {
	m := map[string]any{
		"id":              d.ID,
		"guid":            d.GUID,
		"delivered_at":    iso(d.DeliveredAt),
		"redelivery":      d.Redelivery,
		"duration":        d.Duration.Seconds(),
		"status":          d.Status,
		"status_code":     d.StatusCode,
		"event":           d.Event,
		"action":          strOrNil(d.Action),
		"installation_id": idOrNil(d.InstallationID),
		"repository_id":   idOrNil(d.RepositoryID),
		"throttled_at":    nil,
	}
	if full {
		m["url"] = d.URL
		m["request"] = map[string]any{"headers": d.RequestHeaders, "payload": json.RawMessage(d.Payload)}
		var body any
		if d.StatusCode != 0 || strings.TrimSpace(d.ResponseBody) != "" {
			body = d.ResponseBody
		}
		m["response"] = map[string]any{"headers": d.ResponseHeaders, "payload": body}
	}
	return m
}

func idOrNil(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

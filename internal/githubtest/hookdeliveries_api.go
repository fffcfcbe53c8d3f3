package githubtest

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

const (
	docHookDeliveries = "https://docs.github.com/rest/apps/webhooks#list-deliveries-for-an-app-webhook"
	docRedeliver      = "https://docs.github.com/rest/apps/webhooks#redeliver-a-delivery-for-an-app-webhook"
)

func (s *Server) hookRoutes() {
	s.handle("GET /api/v3/app/hook/deliveries", authApp, s.listHookDeliveries)
	s.handle("GET /api/v3/app/hook/deliveries/{delivery_id}", authApp, s.getHookDelivery)
	s.handle("POST /api/v3/app/hook/deliveries/{delivery_id}/attempts", authApp, s.redeliverHookDelivery)
}

// visibleDeliveriesLocked are app's deliveries of the last 3 days, newest
// first.
func (s *Server) visibleDeliveriesLocked(app *App) []*HookDelivery {
	cutoff := s.nowLocked().Add(-hookRetention)
	var out []*HookDelivery
	for i := len(s.hookDeliveries) - 1; i >= 0; i-- {
		d := s.hookDeliveries[i]
		if d.AppID == app.ID && d.DeliveredAt.After(cutoff) {
			out = append(out, d)
		}
	}
	return out
}

// listHookDeliveries is GET /app/hook/deliveries: newest first, per_page
// (default 30, max 100), GitHub's cursor paging (an opaque cursor in the
// Link rel="next" URL; no page numbers) and status=success|failure.
func (s *Server) listHookDeliveries(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	q := r.URL.Query()
	per := 30
	if v, err := strconv.Atoi(q.Get("per_page")); err == nil && v > 0 {
		per = min(v, 100)
	}
	status := q.Get("status")
	if status != "" && status != "success" && status != "failure" {
		writeInvalidRequest(w, docHookDeliveries, []string{fmt.Sprintf("Invalid query: %q is not one of success, failure for status.", status)})
		return
	}
	var from int64 // 0: from the newest
	if c := q.Get("cursor"); c != "" {
		id, err := strconv.ParseInt(strings.TrimPrefix(c, "v1_"), 10, 64)
		if !strings.HasPrefix(c, "v1_") || err != nil || id <= 0 {
			writeError(w, http.StatusBadRequest, "Invalid cursor", docHookDeliveries)
			return
		}
		from = id
	}

	s.mu.Lock()
	var list []*HookDelivery
	for _, d := range s.visibleDeliveriesLocked(rc.app) {
		if (from == 0 || d.ID <= from) && (status == "" || (status == "success") == d.Success()) {
			list = append(list, d)
		}
	}
	out := []any{}
	for _, d := range list[:min(per, len(list))] {
		out = append(out, deliveryJSON(d, false))
	}
	s.mu.Unlock()
	if len(list) > per {
		q2 := url.Values{}
		for k, vs := range q {
			q2[k] = vs
		}
		q2.Set("cursor", "v1_"+strconv.FormatInt(list[per].ID, 10))
		q2.Set("per_page", strconv.Itoa(per))
		w.Header().Set("Link", fmt.Sprintf("<%s%s?%s>; rel=\"next\"", s.URL, r.URL.Path, q2.Encode()))
	}
	writeJSON(w, http.StatusOK, out)
}

// hookDeliveryLocked finds one of rc's App's visible deliveries by the
// {delivery_id} path value.
func (s *Server) hookDeliveryLocked(r *http.Request, rc *reqCtx) *HookDelivery {
	id, err := strconv.ParseInt(r.PathValue("delivery_id"), 10, 64)
	if err != nil {
		return nil
	}
	for _, d := range s.visibleDeliveriesLocked(rc.app) {
		if d.ID == id {
			return d
		}
	}
	return nil
}

func (s *Server) getHookDelivery(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	s.mu.Lock()
	var body map[string]any
	if d := s.hookDeliveryLocked(r, rc); d != nil {
		body = deliveryJSON(d, true)
	}
	s.mu.Unlock()
	if body == nil {
		writeNotFound(w)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// redeliverHookDelivery is POST /app/hook/deliveries/{id}/attempts: 202
// and {} at once; the redelivery (same GUID and payload, a new delivery id,
// redelivery true, to the App's current URL) follows in the background.
func (s *Server) redeliverHookDelivery(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	s.mu.Lock()
	var d HookDelivery
	found := s.hookDeliveryLocked(r, rc)
	if found != nil {
		d = *found
	}
	active := rc.app.hook.active && rc.app.hook.url != ""
	s.mu.Unlock()
	if found == nil {
		writeNotFound(w)
		return
	}
	if !active {
		writeError(w, http.StatusUnprocessableEntity, "The webhook is not active.", docRedeliver)
		return
	}
	s.redeliver(rc.app, d)
	writeJSON(w, http.StatusAccepted, map[string]any{})
}

package githubtest

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// page applies GitHub's page/per_page query parameters (per_page default
// 30, max 100) to a list of n items, sets the Link header GitHub sends
// (next/last/first/prev) and returns the slice bounds. baseURL is the
// server URL the request path is appended to.
func page(w http.ResponseWriter, r *http.Request, baseURL string, n int) (lo, hi int) {
	q := r.URL.Query()
	per := 30
	if v, err := strconv.Atoi(q.Get("per_page")); err == nil && v > 0 {
		per = min(v, 100)
	}
	pg := 1
	if v, err := strconv.Atoi(q.Get("page")); err == nil && v > 0 {
		pg = v
	}
	last := max((n+per-1)/per, 1)
	lo = min((pg-1)*per, n)
	hi = min(lo+per, n)

	link := func(p int, rel string) string {
		q2 := url.Values{}
		for k, vs := range q {
			q2[k] = vs
		}
		q2.Set("page", strconv.Itoa(p))
		q2.Set("per_page", strconv.Itoa(per))
		return fmt.Sprintf("<%s%s?%s>; rel=%q", baseURL, r.URL.Path, q2.Encode(), rel)
	}
	var links []string
	if pg > 1 {
		links = append(links, link(pg-1, "prev"))
	}
	if pg < last {
		links = append(links, link(pg+1, "next"), link(last, "last"))
	}
	if pg > 1 {
		links = append(links, link(1, "first"))
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
	return lo, hi
}

package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/switchboard-dev/switchboard/simulate"
)

// The dry run answers HTML and text too; the validator reads them as
// plain strings, as the document describes them.
func init() {
	openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder)
}

// Rule R-X6 over HTTP: POST /api/v1/routing/simulate, admins only, on the
// account's roster or a given one, as JSON (checked against the document),
// HTML or a table.
func TestSimulateR_X6(t *testing.T) {
	forEachDB(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		e.setup(t)
		annID, ann := e.user(t, "Ann", map[string]any{"chat_capacity": 1})
		bobID, _ := e.user(t, "Bob", map[string]any{"chat_capacity": 1})
		const path = "/api/v1/routing/simulate"
		body := map[string]any{
			"rule":         map[string]any{"name": "Ann", "kind": "chat", "routing": map[string]any{"enabled": true, "mode": "specific", "user_ids": []string{annID}}},
			"compare_rule": map[string]any{"name": "Ann and Bob", "kind": "chat", "routing": map[string]any{"enabled": true, "mode": "specific", "user_ids": []string{annID, bobID}}},
			"arrivals":     map[string]any{"poisson": map[string]any{"from": "2026-03-02T09:00:00Z", "hours": 2, "rate_per_hour": 30, "handle_mean_seconds": 300, "seed": 4}},
			"seed":         1,
		}
		e.wantErr(t, http.StatusForbidden, "admin_required", "", "POST", path, ann, body)
		var c simulate.Comparison
		e.want(t, http.StatusOK, "POST", path, e.admin, body).into(t, &c)
		if c.A == nil || c.B == nil || c.A.Arrivals < 30 || c.B.Waited >= c.A.Waited || len(c.A.Agents) != 3 {
			t.Fatalf("R-X6: A %+v B %+v", c.A, c.B)
		}
		// A roster given in the request replaces the account's: Ann alone
		// with capacity 5 keeps fewer waiting than Ann with capacity 1.
		narrow := c.A.Waited
		body["roster"] = map[string]any{"users": []map[string]any{{"id": annID, "name": "Ann", "chat_capacity": 5}}}
		e.want(t, http.StatusOK, "POST", path, e.admin, body).into(t, &c)
		if len(c.A.Agents) != 1 || c.A.Agents[0].Name != "Ann" || c.A.Waited >= narrow {
			t.Fatalf("R-X6 with a roster: %+v", c.A.Agents)
		}
		r := e.want(t, http.StatusOK, "POST", path+"?format=html", e.admin, body)
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(r.Body), "<svg") {
			t.Fatalf("R-X6 HTML: %s %.200s", r.Header.Get("Content-Type"), r.Body)
		}
		r = e.want(t, http.StatusOK, "POST", path+"?format=table", e.admin, body)
		if !strings.Contains(string(r.Body), "left unassigned") {
			t.Fatalf("R-X6 table: %s", r.Body)
		}
		delete(body, "arrivals")
		e.wantErr(t, http.StatusBadRequest, "invalid_arrivals", "arrivals", "POST", path, e.admin, body)
		body["arrivals"] = map[string]any{"recorded": map[string]any{"channel_id": "nope", "from": "2026-03-02T09:00:00Z", "to": "2026-03-03T09:00:00Z"}}
		e.wantErr(t, http.StatusNotFound, "channel_not_found", "", "POST", path, e.admin, body)
	})
}

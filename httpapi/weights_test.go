package httpapi_test

import (
	"net/http"
	"testing"

	sb "github.com/switchboard-dev/switchboard"
)

// Rule R-X5 over HTTP: GET and PUT /api/v1/routing/weights, admins only,
// responses as the document describes them.
func TestRoutingWeightsR_X5(t *testing.T) {
	forEachDB(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		e.setup(t)
		annID, ann := e.user(t, "Ann", nil)
		const path = "/api/v1/routing/weights"
		var w sb.RoutingWeights
		e.want(t, http.StatusOK, "GET", path, e.admin, nil).into(t, &w)
		if w.Enabled || w.Costs[sb.KindCalling] != 100 || w.Costs[sb.KindForm] != 10 {
			t.Fatalf("R-X5 defaults: %+v", w)
		}
		e.wantErr(t, http.StatusForbidden, "admin_required", "", "GET", path, ann, nil)
		e.wantErr(t, http.StatusForbidden, "admin_required", "", "PUT", path, ann, map[string]any{"enabled": true})
		e.wantErr(t, http.StatusBadRequest, "invalid_costs", "costs", "PUT", path, e.admin, map[string]any{"enabled": true, "costs": map[string]int{"chat": -1}})
		e.wantErr(t, http.StatusBadRequest, "invalid_capacities", "capacities", "PUT", path, e.admin, map[string]any{"enabled": true, "capacities": map[string]int{"nobody": 5}})
		e.want(t, http.StatusOK, "PUT", path, e.admin, map[string]any{"enabled": true, "costs": map[string]int{"chat": 25}, "capacities": map[string]int{annID: 75}}).into(t, &w)
		if !w.Enabled || w.Costs[sb.KindChat] != 25 || w.Costs[sb.KindCalling] != 100 || w.Capacities[annID] != 75 {
			t.Fatalf("R-X5 stored: %+v", w)
		}
		var again sb.RoutingWeights
		e.want(t, http.StatusOK, "GET", path, e.admin, nil).into(t, &again)
		if !again.Enabled || again.Capacities[annID] != 75 || again.Costs[sb.KindChat] != 25 {
			t.Fatalf("R-X5 read back: %+v", again)
		}
	})
}

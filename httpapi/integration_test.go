package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/switchboard-dev/switchboard/app"
)

// An integration token (API.md: "bearer token of an admin or of an
// integration token") sends inbound messages and can do nothing else;
// admins create, list and revoke it (R-I3: configuration is theirs).
func TestIntegrationTokens(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		e.setup(t)
		_, agent := e.user(t, "Ann", nil)
		ch := e.channel(t, e.inbox(t, "Support"), "email", nil)

		var created app.IntegrationToken
		e.want(t, http.StatusCreated, "POST", "/api/v1/integration-tokens", e.admin, map[string]any{"name": "shop backend"}).into(t, &created)
		if created.Secret == "" || created.ID == "" || created.Name != "shop backend" || created.CreatedBy != e.adminID {
			t.Fatalf("created = %+v", created)
		}
		var list app.Page[*app.IntegrationToken]
		e.want(t, http.StatusOK, "GET", "/api/v1/integration-tokens", e.admin, nil).into(t, &list)
		if len(list.Items) != 1 || list.Items[0].ID != created.ID || list.Items[0].Secret != "" {
			t.Fatalf("list = %+v, want the token without its secret", list.Items)
		}

		tok := created.Secret
		var res app.InboundResult
		e.want(t, http.StatusCreated, "POST", "/api/v1/channels/"+ch+"/inbound", tok, map[string]any{
			"contact": map[string]any{"email": "shopper@x.test"}, "body": "Order 42 is late", "external_id": "shop-1",
		}).into(t, &res)
		if res.Conversation == nil || res.Conversation.ChannelID != ch {
			t.Fatalf("inbound with the integration token = %+v", res)
		}
		for _, call := range []struct{ method, path string }{
			{"GET", "/api/v1/conversations"},
			{"GET", "/api/v1/conversations/" + res.Conversation.ID},
			{"GET", "/api/v1/contacts"},
			{"GET", "/api/v1/users"},
			{"GET", "/api/v1/channels"},
			{"GET", "/api/v1/integration-tokens"},
		} {
			checkErr(t, e.do(t, call.method, call.path, tok, nil), http.StatusForbidden, "integration_token_not_allowed", "")
		}
		checkErr(t, e.do(t, "POST", "/api/v1/integration-tokens", agent, map[string]any{"name": "x"}), http.StatusForbidden, "admin_required", "")
		checkErr(t, e.do(t, "POST", "/api/v1/integration-tokens", e.admin, map[string]any{"name": " "}), http.StatusBadRequest, "invalid_name", "name")

		e.want(t, http.StatusNoContent, "DELETE", "/api/v1/integration-tokens/"+created.ID, e.admin, nil)
		checkErr(t, e.do(t, "POST", "/api/v1/channels/"+ch+"/inbound", tok, map[string]any{
			"contact": map[string]any{"email": "shopper@x.test"}, "body": "again",
		}), http.StatusUnauthorized, "bad_token", "")
		checkErr(t, e.do(t, "DELETE", "/api/v1/integration-tokens/"+created.ID, e.admin, nil), http.StatusNotFound, "not_found", "")
	})
}

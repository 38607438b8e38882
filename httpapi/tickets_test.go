package httpapi_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
	"github.com/switchboard-dev/switchboard/webhooks"
)

func TestTicketsAPI(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		e.setup(t)
		annID, ann := e.user(t, "Ann", nil)
		_, bob := e.user(t, "Bob", nil)
		inbox := e.inbox(t, "Support")
		var ch app.ChannelView
		e.want(t, http.StatusCreated, "POST", "/api/v1/inboxes/"+inbox+"/channels", e.admin, map[string]any{
			"kind": "email", "name": "help", "routing": map[string]any{"enabled": true, "mode": "specific", "user_ids": []string{annID}},
			"tickets": map[string]any{"enabled": true, "pipeline": "Support", "stage": "New"},
		}).into(t, &ch)

		var support sb.Pipeline
		t.Run("R-T1 an inbound conversation on a ticket channel has its ticket", func(t *testing.T) {
			res := e.inbound(t, ch.ID, "carla@x.test", "m-1")
			if res.Conversation.TicketID == "" {
				t.Fatal("no ticket_id on the conversation")
			}
			var k sb.Ticket
			e.want(t, http.StatusOK, "GET", "/api/v1/tickets/"+res.Conversation.TicketID, ann, nil).into(t, &k)
			var ps app.Page[*sb.Pipeline]
			e.want(t, http.StatusOK, "GET", "/api/v1/pipelines", bob, nil).into(t, &ps)
			support = *ps.Items[0]
			if k.PipelineID != support.ID || k.StageID != support.Stages[0].ID || k.OwnerID != annID || k.ConversationID != res.Conversation.ID {
				t.Fatalf("ticket %+v", k)
			}
			var byConv app.Page[*sb.Ticket]
			e.want(t, http.StatusOK, "GET", "/api/v1/tickets?conversation_id="+res.Conversation.ID, ann, nil).into(t, &byConv)
			if len(byConv.Items) != 1 || byConv.Items[0].ID != k.ID {
				t.Fatalf("by conversation: %+v", byConv.Items)
			}
			var mine app.Page[*sb.Ticket]
			e.want(t, http.StatusOK, "GET", "/api/v1/tickets?owner_id=me&limit=5", ann, nil).into(t, &mine)
			if len(mine.Items) != 1 {
				t.Fatalf("owner_id=me: %d tickets", len(mine.Items))
			}
		})
		t.Run("pipelines: admins configure ordered stages", func(t *testing.T) {
			e.wantErr(t, http.StatusForbidden, "admin_required", "", "POST", "/api/v1/pipelines", ann,
				map[string]any{"name": "Sales", "stages": []map[string]any{{"name": "Lead"}}})
			var sales sb.Pipeline
			e.want(t, http.StatusCreated, "POST", "/api/v1/pipelines", e.admin,
				map[string]any{"name": "Sales", "stages": []map[string]any{{"name": "Lead"}, {"name": "Won"}}}).into(t, &sales)
			e.wantErr(t, http.StatusConflict, "pipeline_name_taken", "name", "POST", "/api/v1/pipelines", e.admin,
				map[string]any{"name": "Sales", "stages": []map[string]any{{"name": "x"}}})
			var p sb.Pipeline
			e.want(t, http.StatusOK, "PATCH", "/api/v1/pipelines/"+sales.ID, e.admin, map[string]any{
				"stages": []map[string]any{{"id": sales.Stages[1].ID, "name": "Closed won"}, {"name": "Lost"}, {"id": sales.Stages[0].ID, "name": "Lead"}},
			}).into(t, &p)
			if len(p.Stages) != 3 || p.Stages[0].ID != sales.Stages[1].ID || p.Stages[0].Name != "Closed won" || p.Stages[2].ID != sales.Stages[0].ID {
				t.Fatalf("stages %+v", p.Stages)
			}
			e.want(t, http.StatusOK, "GET", "/api/v1/pipelines/"+sales.ID, ann, nil)
			e.wantErr(t, http.StatusNotFound, "not_found", "", "GET", "/api/v1/pipelines/nope", ann, nil)
		})
		t.Run("R-T2 tickets by hand, moved and re-owned", func(t *testing.T) {
			var k sb.Ticket
			e.want(t, http.StatusCreated, "POST", "/api/v1/tickets", bob, map[string]any{"name": "Call the customer back", "stage_id": "Waiting"}).into(t, &k)
			if k.StageID != support.Stages[1].ID || k.OwnerID != "" || k.OwnerSetManually {
				t.Fatalf("new ticket %+v", k)
			}
			e.want(t, http.StatusOK, "PATCH", "/api/v1/tickets/"+k.ID, bob, map[string]any{"owner_id": annID, "stage_id": support.Stages[2].ID}).into(t, &k)
			if k.OwnerID != annID || !k.OwnerSetManually || k.StageID != support.Stages[2].ID {
				t.Fatalf("patched ticket %+v", k)
			}
			var cleared sb.Ticket
			e.want(t, http.StatusOK, "PATCH", "/api/v1/tickets/"+k.ID, bob, map[string]any{"owner_id": nil}).into(t, &cleared)
			if cleared.OwnerID != "" || !cleared.OwnerSetManually {
				t.Fatalf("owner_id null: %+v", cleared)
			}
			e.wantErr(t, http.StatusBadRequest, "invalid_stage_id", "stage_id", "PATCH", "/api/v1/tickets/"+k.ID, bob, map[string]any{"stage_id": "Nope"})
			e.wantErr(t, http.StatusBadRequest, "invalid_name", "name", "POST", "/api/v1/tickets", bob, map[string]any{"name": " "})
			e.wantErr(t, http.StatusBadRequest, "unknown_field", "title", "POST", "/api/v1/tickets", bob, map[string]any{"title": "x"})
			e.wantErr(t, http.StatusNotFound, "not_found", "", "GET", "/api/v1/tickets/nope", bob, nil)
		})
		t.Run("R-T4 a form submission's ticket fields make its ticket", func(t *testing.T) {
			form := e.channel(t, inbox, "form", nil)
			var res app.InboundResult
			e.want(t, http.StatusCreated, "POST", "/api/v1/channels/"+form+"/inbound", e.admin, map[string]any{
				"contact": map[string]any{"email": "form@x.test"}, "body": "Name: Fay\nCompany: Acme",
				"meta": map[string]any{"ticket": map[string]any{"name": "Demo request", "description": "10 seats", "pipeline": "Support", "stage": "Waiting"}},
			}).into(t, &res)
			var k sb.Ticket
			e.want(t, http.StatusOK, "GET", "/api/v1/tickets/"+res.Conversation.TicketID, e.admin, nil).into(t, &k)
			if k.Name != "Demo request" || k.Description != "10 seats" || k.StageID != support.Stages[1].ID {
				t.Fatalf("R-T4 ticket %+v", k)
			}
		})
		t.Run("R-T3 the limit flags the conversation, visible through the API", func(t *testing.T) {
			e.wantErr(t, http.StatusForbidden, "admin_required", "", "PATCH", "/api/v1/ticket-settings", ann, map[string]any{"contact_limit": 1})
			var l sb.TicketLimits
			e.want(t, http.StatusOK, "GET", "/api/v1/ticket-settings", ann, nil).into(t, &l)
			if l.ContactLimit != app.DefaultContactTicketLimit {
				t.Fatalf("default limit %d", l.ContactLimit)
			}
			e.want(t, http.StatusOK, "PATCH", "/api/v1/ticket-settings", e.admin, map[string]any{"contact_limit": 1})
			first := e.inbound(t, ch.ID, "dora@x.test", "m-d1")
			e.want(t, http.StatusOK, "POST", "/api/v1/conversations/"+first.Conversation.ID+"/close", e.admin, nil)
			second := e.inbound(t, ch.ID, "dora@x.test", "m-d2")
			if first.Conversation.TicketID == "" || second.Conversation.TicketID != "" || second.Conversation.AssigneeID != annID {
				t.Fatalf("first %+v, second %+v", first.Conversation, second.Conversation)
			}
			var fs app.Page[*sb.ConversationFlag]
			e.want(t, http.StatusOK, "GET", "/api/v1/conversations/"+second.Conversation.ID+"/flags", ann, nil).into(t, &fs)
			if len(fs.Items) != 1 || fs.Items[0].Flag != sb.FlagTicketLimitReached {
				t.Fatalf("flags %+v", fs.Items)
			}
			e.wantErr(t, http.StatusUnprocessableEntity, "ticket_limit_reached", "contact_id", "POST", "/api/v1/tickets", ann,
				map[string]any{"name": "one more", "contact_id": second.Conversation.ContactID})
		})
	})
}

func TestWebhooksAPI(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		// Registered after Start, before any subscription exists: the
		// handler and URL check are looked up when used.
		webhooks.Register(e.svc, webhooks.Config{AllowPrivate: true})
		e.setup(t)
		_, agent := e.user(t, "Ann", nil)
		inbox := e.inbox(t, "Support")
		ch := e.channel(t, inbox, "email", nil)

		var mu sync.Mutex
		var secret string
		var got []string
		recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			mu.Lock()
			defer mu.Unlock()
			ts, sig, _ := strings.Cut(strings.TrimPrefix(r.Header.Get("Switchboard-Signature"), "t="), ",v1=")
			m := hmac.New(sha256.New, []byte(secret))
			m.Write([]byte(ts + "." + string(body)))
			if hex.EncodeToString(m.Sum(nil)) != sig {
				http.Error(w, "bad signature", http.StatusUnauthorized)
				return
			}
			got = append(got, r.Header.Get("Switchboard-Event"))
			w.WriteHeader(http.StatusNoContent)
		}))
		t.Cleanup(recv.Close)

		var hook app.WebhookView
		t.Run("R-X8 admins subscribe; the secret is shown once", func(t *testing.T) {
			in := map[string]any{"url": recv.URL, "events": []string{"conversation.created", "ticket.created"}}
			e.wantErr(t, http.StatusForbidden, "admin_required", "", "POST", "/api/v1/webhooks", agent, in)
			e.wantErr(t, http.StatusBadRequest, "invalid_url", "url", "POST", "/api/v1/webhooks", e.admin, map[string]any{"url": "file:///etc/passwd", "events": []string{"message.created"}})
			e.wantErr(t, http.StatusBadRequest, "invalid_events", "events", "POST", "/api/v1/webhooks", e.admin, map[string]any{"url": recv.URL, "events": []string{"user.status_changed"}})
			e.want(t, http.StatusCreated, "POST", "/api/v1/webhooks", e.admin, in).into(t, &hook)
			if !strings.HasPrefix(hook.Secret, "whsec_") {
				t.Fatalf("secret %q", hook.Secret)
			}
			mu.Lock()
			secret = hook.Secret
			mu.Unlock()
			r := e.want(t, http.StatusOK, "GET", "/api/v1/webhooks/"+hook.ID, e.admin, nil)
			if strings.Contains(string(r.Body), "whsec_") {
				t.Fatalf("the secret is shown again: %s", r.Body)
			}
			var list app.Page[*app.WebhookView]
			e.want(t, http.StatusOK, "GET", "/api/v1/webhooks", e.admin, nil).into(t, &list)
			if len(list.Items) != 1 || list.Items[0].Secret != "" {
				t.Fatalf("list %+v", list.Items)
			}
			e.wantErr(t, http.StatusForbidden, "admin_required", "", "GET", "/api/v1/webhooks", agent, nil)
		})
		t.Run("R-X8 deliveries and their answers are visible", func(t *testing.T) {
			res := e.inbound(t, ch, "carla@x.test", "w-1")
			deadline := time.Now().Add(30 * time.Second)
			var ds app.Page[*sb.WebhookDelivery]
			for {
				e.want(t, http.StatusOK, "GET", "/api/v1/webhooks/"+hook.ID+"/deliveries?limit=10", e.admin, nil).into(t, &ds)
				if len(ds.Items) > 0 || time.Now().After(deadline) {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			if len(ds.Items) != 1 || ds.Items[0].StatusCode != http.StatusNoContent || ds.Items[0].EventType != sb.EventConversationCreated || ds.Items[0].Attempt != 1 {
				t.Fatalf("deliveries %+v (conversation %s)", ds.Items, res.Conversation.ID)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(got) != 1 || got[0] != sb.EventConversationCreated {
				t.Fatalf("receiver got %v", got)
			}
		})
		t.Run("R-X8 pause, rotate, delete", func(t *testing.T) {
			var v app.WebhookView
			e.want(t, http.StatusOK, "PATCH", "/api/v1/webhooks/"+hook.ID, e.admin, map[string]any{"active": false, "rotate_secret": true}).into(t, &v)
			if v.Active || v.Secret == "" || v.Secret == hook.Secret {
				t.Fatalf("after PATCH %+v", v)
			}
			e.want(t, http.StatusNoContent, "DELETE", "/api/v1/webhooks/"+hook.ID, e.admin, nil)
			e.wantErr(t, http.StatusNotFound, "not_found", "", "GET", "/api/v1/webhooks/"+hook.ID+"/deliveries", e.admin, nil)
		})
	})
}

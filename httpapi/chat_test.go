package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/switchboard-dev/switchboard/app"
)

// TestChatflowAndSignals: GET/PUT /api/v1/channels/{id}/chatflow (admins;
// R-A2, R-A3 and R-A4 on the hand-over step) and POST
// /api/v1/conversations/{id}/signal, each response checked against the
// OpenAPI document.
func TestChatflowAndSignals(t *testing.T) {
	forEachDB(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		e.setup(t)
		annID, annTok := e.user(t, "Ann", nil)
		bobID, _ := e.user(t, "Bob", nil)
		nilsID, _ := e.user(t, "Nils", map[string]any{"paid_seat": false})
		team := e.team(t, "Web", []string{annID, e.adminID}, nil)
		inbox := e.inbox(t, "Website", team)
		chat := e.channel(t, inbox, "chat", map[string]any{"enabled": true, "mode": "specific", "user_ids": []string{annID}})
		email := e.channel(t, inbox, "email", nil)

		var f app.Chatflow
		e.want(t, http.StatusOK, "GET", "/api/v1/channels/"+chat+"/chatflow", e.admin, nil).into(t, &f)
		if f.Kind != app.ChatflowLive || len(f.Steps) != 0 {
			t.Errorf("a new chat channel's chatflow = %+v, want live", f)
		}
		bot := func(users ...string) map[string]any {
			return map[string]any{"kind": "bot", "steps": []map[string]any{
				{"type": "question", "text": "Your email?", "field": "email"},
				{"type": "send_to_team_member", "user_ids": users},
			}}
		}
		e.wantErr(t, http.StatusForbidden, "admin_required", "", "PUT", "/api/v1/channels/"+chat+"/chatflow", annTok, bot(annID))
		e.wantErr(t, http.StatusUnprocessableEntity, "user_without_seat", "config.chatflow.steps[1].user_ids", "PUT", "/api/v1/channels/"+chat+"/chatflow", e.admin, bot(nilsID))        // R-A2
		e.wantErr(t, http.StatusUnprocessableEntity, "user_without_inbox_access", "config.chatflow.steps[1].user_ids", "PUT", "/api/v1/channels/"+chat+"/chatflow", e.admin, bot(bobID)) // R-A3
		e.wantErr(t, http.StatusBadRequest, "invalid_config.chatflow.steps.field", "config.chatflow.steps[0].field", "PUT", "/api/v1/channels/"+chat+"/chatflow", e.admin,
			map[string]any{"kind": "bot", "steps": []map[string]any{{"type": "question", "text": "Age?", "field": "age"}, {"type": "send_to_team_member", "user_ids": []string{annID}}}})
		e.wantErr(t, http.StatusNotFound, "not_a_chat_channel", "", "GET", "/api/v1/channels/"+email+"/chatflow", e.admin, nil)
		e.want(t, http.StatusOK, "PUT", "/api/v1/channels/"+chat+"/chatflow", e.admin, bot(annID)).into(t, &f)
		if f.Kind != app.ChatflowBot || len(f.Steps) != 2 || f.Steps[1].UserIDs[0] != annID {
			t.Errorf("stored chatflow = %+v", f)
		}
		var again app.Chatflow
		e.want(t, http.StatusOK, "GET", "/api/v1/channels/"+chat+"/chatflow", e.admin, nil).into(t, &again)
		if len(again.Steps) != 2 {
			t.Errorf("read back %+v", again)
		}

		conv := e.inbound(t, chat, "vera@example.com", "x1").Conversation
		e.want(t, http.StatusNoContent, "POST", "/api/v1/conversations/"+conv.ID+"/signal", annTok, map[string]any{"typing": true})
		e.want(t, http.StatusNoContent, "POST", "/api/v1/conversations/"+conv.ID+"/signal", annTok, map[string]any{"message_id": "m1"})
		e.wantErr(t, http.StatusBadRequest, "invalid_typing", "typing", "POST", "/api/v1/conversations/"+conv.ID+"/signal", annTok, map[string]any{})
		_, bobTok := e.user(t, "Bobby", nil) // no access to the inbox (R-I4)
		e.wantErr(t, http.StatusNotFound, "not_found", "", "POST", "/api/v1/conversations/"+conv.ID+"/signal", bobTok, map[string]any{"typing": true})
	})
}

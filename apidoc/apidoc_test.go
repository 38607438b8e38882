package apidoc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/apidoc"
)

// loadDoc loads and validates the embedded document.
func loadDoc(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(apidoc.JSON())
	if err != nil {
		t.Fatalf("loading: %v", err)
	}
	if err := doc.Validate(loader.Context, openapi3.EnableMultiError()); err != nil {
		t.Fatalf("validating: %v", err)
	}
	return doc
}

func TestDocumentIsValidOpenAPI31(t *testing.T) {
	doc := loadDoc(t)
	if !strings.HasPrefix(doc.OpenAPI, "3.1.") || !doc.IsOpenAPI31OrLater() {
		t.Errorf("openapi = %q, want 3.1.x", doc.OpenAPI)
	}
}

// TestValidateCatchesBrokenDocuments proves that the validity test above can
// fail: small mistakes in a copy of the document are refused.
func TestValidateCatchesBrokenDocuments(t *testing.T) {
	tests := []struct{ name, old, new string }{
		{"unknown type", `"type": "boolean"`, `"type": "bool"`},
		{"unknown type in a 3.1 type array", `"type": ["array", "null"]`, `"type": ["array", "nul"]`},
		{"dangling $ref", `"$ref": "#/components/schemas/Time"`, `"$ref": "#/components/schemas/Tyme"`},
		{"duplicate operationId", `"operationId": "healthz"`, `"operationId": "metrics"`},
		{"unknown keyword", `"required": ["error"],`, `"required": ["error"], "requried": ["x"],`},
		{"undefined security scheme", `"security": [],`, `"security": [{"basic": []}],`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Compared compacted: the document merged with parts/ fragments
			// is re-serialised, so its spacing differs from openapi.json's.
			var buf bytes.Buffer
			if err := json.Compact(&buf, apidoc.JSON()); err != nil {
				t.Fatal(err)
			}
			src, compact := buf.String(), strings.NewReplacer(": ", ":", ", ", ",")
			tt.old, tt.new = compact.Replace(tt.old), compact.Replace(tt.new)
			if !strings.Contains(src, tt.old) {
				t.Fatalf("the document no longer contains %s", tt.old)
			}
			loader := openapi3.NewLoader()
			doc, err := loader.LoadFromData([]byte(strings.Replace(src, tt.old, tt.new, 1)))
			if err == nil {
				err = doc.Validate(loader.Context)
			}
			if err == nil {
				t.Errorf("replacing %s with %s: the document still loads and validates", tt.old, tt.new)
			}
		})
	}
}

// TestDocumentHasTheAPI checks that every call of the public interface
// (API.md, and the conventions the HTTP API is written to) is described, with
// its success status.
func TestDocumentHasTheAPI(t *testing.T) {
	doc := loadDoc(t)
	ops := []struct {
		method, path string
		status       int
		public       bool
	}{
		{"GET", "/healthz", 200, true},
		{"GET", "/metrics", 200, true},
		{"GET", "/api/v1/openapi.json", 200, true},
		{"POST", "/api/v1/setup", 201, true},
		{"POST", "/api/v1/tokens", 201, true},
		{"GET", "/api/v1/users", 200, false},
		{"POST", "/api/v1/users", 201, false},
		{"GET", "/api/v1/users/{id}", 200, false},
		{"PATCH", "/api/v1/users/{id}", 200, false},
		{"PUT", "/api/v1/users/{id}/status", 200, false},
		{"GET", "/api/v1/teams", 200, false},
		{"POST", "/api/v1/teams", 201, false},
		{"PATCH", "/api/v1/teams/{id}", 200, false},
		{"DELETE", "/api/v1/teams/{id}", 204, false},
		{"GET", "/api/v1/inboxes", 200, false},
		{"POST", "/api/v1/inboxes", 201, false},
		{"PATCH", "/api/v1/inboxes/{id}", 200, false},
		{"GET", "/api/v1/inboxes/{id}/channels", 200, false},
		{"POST", "/api/v1/inboxes/{id}/channels", 201, false},
		{"GET", "/api/v1/channels/{id}", 200, false},
		{"PATCH", "/api/v1/channels/{id}", 200, false},
		{"DELETE", "/api/v1/channels/{id}", 204, false},
		{"POST", "/api/v1/channels/{id}/inbound", 201, false},
		{"POST", "/api/v1/channels/{id}/inbound", 200, false},
		{"GET", "/api/v1/contacts", 200, false},
		{"POST", "/api/v1/contacts", 201, false},
		{"GET", "/api/v1/contacts/{id}", 200, false},
		{"PATCH", "/api/v1/contacts/{id}", 200, false},
		{"GET", "/api/v1/conversations", 200, false},
		{"GET", "/api/v1/conversations/{id}", 200, false},
		{"GET", "/api/v1/conversations/{id}/messages", 200, false},
		{"POST", "/api/v1/conversations/{id}/messages", 201, false},
		{"POST", "/api/v1/conversations/{id}/assign", 200, false},
		{"POST", "/api/v1/conversations/{id}/close", 200, false},
		{"POST", "/api/v1/conversations/{id}/reopen", 200, false},
		{"GET", "/api/v1/conversations/{id}/routing", 200, false},
		{"GET", "/api/v1/events", 200, false},
	}
	for _, o := range ops {
		item := doc.Paths.Value(o.path)
		if item == nil {
			t.Errorf("%s %s: path missing", o.method, o.path)
			continue
		}
		op := item.GetOperation(o.method)
		if op == nil {
			t.Errorf("%s %s: operation missing", o.method, o.path)
			continue
		}
		if op.Responses.Status(o.status) == nil {
			t.Errorf("%s %s: no %d response", o.method, o.path, o.status)
		}
		secured := op.Security == nil || len(*op.Security) > 0
		if secured == o.public {
			t.Errorf("%s %s: secured = %v, want %v", o.method, o.path, secured, !o.public)
		}
		if secured && op.Responses.Status(http.StatusUnauthorized) == nil {
			t.Errorf("%s %s: a secured operation must document 401", o.method, o.path)
		}
		if strings.HasPrefix(o.path, "/api/v1/") && o.path != "/api/v1/openapi.json" {
			for _, code := range []int{http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusServiceUnavailable} {
				if op.Responses.Status(code) == nil {
					t.Errorf("%s %s: no %d response", o.method, o.path, code)
				}
			}
		}
	}
}

// TestErrorResponsesUseTheErrorSchema: every 4xx and 5xx of every operation
// is the one error shape.
func TestErrorResponsesUseTheErrorSchema(t *testing.T) {
	doc := loadDoc(t)
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			for code, ref := range op.Responses.Map() {
				if code[0] != '4' && code[0] != '5' {
					continue
				}
				mt := ref.Value.Content.Get("application/json")
				if mt == nil || mt.Schema == nil || mt.Schema.Ref != "#/components/schemas/Error" {
					t.Errorf("%s %s %s: not an application/json Error", method, path, code)
				}
			}
		}
	}
}

// exampleResponses are hand-made answers, right and wrong.
var exampleResponses = []struct {
	name         string
	method, path string
	status       int
	contentType  string
	body         string
	// wantErr, if set, is part of the error a wrong response must fail with.
	wantErr string
}{
	{
		name: "open assigned conversation", method: "GET", path: "/api/v1/conversations/c1", status: 200,
		body: `{"id":"c1","account_id":"a1","inbox_id":"i1","channel_id":"ch1","channel_kind":"chat",
			"contact_id":"k1","status":"open","assignee_id":"u1","waiting":false,"preview":"Hello",
			"created_at":"2026-11-02T09:15:00Z","last_activity_at":"2026-11-02T09:16:30.123456789+01:00"}`,
	},
	{
		name: "closed conversation with closed_at", method: "POST", path: "/api/v1/conversations/c1/close", status: 200,
		body: `{"id":"c1","account_id":"a1","inbox_id":"i1","channel_id":"ch1","channel_kind":"email",
			"contact_id":"k1","status":"closed","waiting":false,"subject":"Invoice",
			"created_at":"2026-11-02T09:15:00Z","last_activity_at":"2026-11-02T09:15:00Z","closed_at":"2026-11-02T10:00:00Z"}`,
	},
	{
		name: "not found error", method: "GET", path: "/api/v1/conversations/nope", status: 404,
		body: `{"error":{"code":"not_found","message":"No such conversation."}}`,
	},
	{
		name: "invalid input error with field", method: "POST", path: "/api/v1/users", status: 400,
		body: `{"error":{"code":"invalid_email","message":"Give an email address.","field":"email"}}`,
	},
	{
		name: "list of decisions", method: "GET", path: "/api/v1/conversations/c1/routing", status: 200,
		body: `{"items":[
			{"id":"d1","account_id":"a1","conversation_id":"c1","trigger":"created","mode":"specific",
			 "strategy":"least_busy","outcome":"assigned","assignee_id":"u2",
			 "reason":"least busy: 0 open chats, fewer than anyone else","tie_break":"least_recently_assigned",
			 "created_at":"2026-11-02T09:15:00Z",
			 "candidates":[
				{"user_id":"u1","via":"team:t1","status":"away","status_reason":"manual","load":1,"capacity":3,"dropped":"away"},
				{"user_id":"u2","via":"user","status":"available","load":0,"capacity":0,"last_assigned_at":"2026-11-01T08:00:00Z"}]},
			{"id":"d2","account_id":"a1","conversation_id":"c1","trigger":"manual","mode":"unassigned",
			 "strategy":"manual","outcome":"unassigned","reason":"unassigned by a person","actor_user_id":"u9",
			 "created_at":"2026-11-02T09:20:00Z"}],
			"next_cursor":"ZDI"}`,
	},
	{
		name: "inbound stored", method: "POST", path: "/api/v1/channels/ch1/inbound", status: 201,
		body: `{"conversation":{"id":"c1","account_id":"a1","inbox_id":"i1","channel_id":"ch1","channel_kind":"chat",
			"contact_id":"k1","status":"open","waiting":true,"created_at":"2026-11-02T09:15:00Z","last_activity_at":"2026-11-02T09:15:00Z"},
			"message":{"id":"m1","account_id":"a1","conversation_id":"c1","channel_id":"ch1","direction":"in",
			"contact_id":"k1","body":"Hi","external_id":"x1","created_at":"2026-11-02T09:15:00Z"},
			"duplicate":false}`,
	},
	{
		name: "team with null member lists", method: "POST", path: "/api/v1/teams", status: 201,
		body: `{"id":"t1","account_id":"a1","name":"Sales","main_member_ids":null,"extra_member_ids":["u1"],"created_at":"2026-11-02T09:15:00Z"}`,
	},
	{name: "team deleted", method: "DELETE", path: "/api/v1/teams/t1", status: 204, contentType: "-"},
	{name: "health", method: "GET", path: "/healthz", status: 200, body: `{"status":"ok"}`},
	{
		name: "metrics", method: "GET", path: "/metrics", status: 200,
		contentType: "text/plain; version=0.0.4; charset=utf-8", body: "# HELP up 1\nup 1\n",
	},

	// Wrong answers: each must fail.
	{
		name: "conversation with an unknown status", method: "GET", path: "/api/v1/conversations/c1", status: 200, wantErr: `"/status"`,
		body: `{"id":"c1","account_id":"a1","inbox_id":"i1","channel_id":"ch1","channel_kind":"chat",
			"contact_id":"k1","status":"pending","waiting":false,
			"created_at":"2026-11-02T09:15:00Z","last_activity_at":"2026-11-02T09:15:00Z"}`,
	},
	{
		name: "conversation without contact_id", method: "GET", path: "/api/v1/conversations/c1", status: 200, wantErr: `"contact_id" is missing`,
		body: `{"id":"c1","account_id":"a1","inbox_id":"i1","channel_id":"ch1","channel_kind":"chat",
			"status":"open","waiting":false,"created_at":"2026-11-02T09:15:00Z","last_activity_at":"2026-11-02T09:15:00Z"}`,
	},
	{
		name: "conversation with a null omitempty field", method: "GET", path: "/api/v1/conversations/c1", status: 200, wantErr: `"/assignee_id"`,
		body: `{"id":"c1","account_id":"a1","inbox_id":"i1","channel_id":"ch1","channel_kind":"chat","assignee_id":null,
			"contact_id":"k1","status":"open","waiting":false,"created_at":"2026-11-02T09:15:00Z","last_activity_at":"2026-11-02T09:15:00Z"}`,
	},
	{
		name: "conversation with a time that is not RFC 3339", method: "GET", path: "/api/v1/conversations/c1", status: 200, wantErr: `"/created_at"`,
		body: `{"id":"c1","account_id":"a1","inbox_id":"i1","channel_id":"ch1","channel_kind":"chat",
			"contact_id":"k1","status":"open","waiting":false,"created_at":"02/11/2026","last_activity_at":"2026-11-02T09:15:00Z"}`,
	},
	{
		name: "error without a message", method: "GET", path: "/api/v1/conversations/nope", status: 404, wantErr: `'message'`,
		body: `{"error":{"code":"not_found"}}`,
	},
	{
		name: "error that is a bare string", method: "GET", path: "/api/v1/conversations/nope", status: 404, wantErr: `want object`,
		body: `{"error":"not found"}`,
	},
	{
		name: "list with null items", method: "GET", path: "/api/v1/conversations/c1/routing", status: 200, wantErr: `"/items"`,
		body: `{"items":null}`,
	},
	{
		name: "decision with an unknown outcome", method: "GET", path: "/api/v1/conversations/c1/routing", status: 200, wantErr: `"/items/0/outcome"`,
		body: `{"items":[{"id":"d1","account_id":"a1","conversation_id":"c1","trigger":"created","mode":"specific",
			"strategy":"least_busy","outcome":"maybe","reason":"?","candidates":[],"created_at":"2026-11-02T09:15:00Z"}]}`,
	},
	{
		name: "user leaking an undocumented field", method: "GET", path: "/api/v1/users/u1", status: 200, wantErr: `"password_hash" is unsupported`,
		body: `{"id":"u1","account_id":"a1","email":"a@b.test","name":"A","role":"agent","paid_seat":true,"chat_capacity":0,
			"manage_availability":false,"status":"available","reassign_replies":false,
			"working_hours":{"time_zone":"","ranges":null},"out_of_office":null,"created_at":"2026-11-02T09:15:00Z",
			"open_chats":0,"last_active_at":"0001-01-01T00:00:00Z","last_chat_assigned_at":"0001-01-01T00:00:00Z",
			"effective_status":"available","status_reason":"manual","password_hash":"$argon2id$..."}`,
	},
	{
		name: "undocumented status", method: "GET", path: "/api/v1/conversations/c1", status: 418, wantErr: `status is not supported`,
		body: `{"error":{"code":"teapot","message":"I am a teapot."}}`,
	},
	{
		name: "wrong content type", method: "GET", path: "/healthz", status: 200, wantErr: `Content-Type`,
		contentType: "text/html", body: `<p>ok</p>`,
	},
	{
		name: "created where the document says 200", method: "POST", path: "/api/v1/conversations/c1/assign", status: 201, wantErr: `status is not supported`,
		body: `{"id":"c1","account_id":"a1","inbox_id":"i1","channel_id":"ch1","channel_kind":"chat",
			"contact_id":"k1","status":"open","waiting":false,"created_at":"2026-11-02T09:15:00Z","last_activity_at":"2026-11-02T09:15:00Z"}`,
	},
}

// TestExampleResponses validates hand-made responses with
// openapi3filter.ValidateResponse, the way apitest does for real ones.
func TestExampleResponses(t *testing.T) {
	doc := loadDoc(t)
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	for _, ex := range exampleResponses {
		t.Run(ex.name, func(t *testing.T) {
			err := validateResponse(t, router, ex.method, ex.path, ex.status, ex.contentType, ex.body)
			switch {
			case ex.wantErr == "" && err != nil:
				t.Errorf("a right response failed validation: %v", err)
			case ex.wantErr != "" && err == nil:
				t.Errorf("a wrong response passed validation:\n%s", ex.body)
			case ex.wantErr != "" && !strings.Contains(err.Error(), ex.wantErr):
				t.Errorf("a wrong response failed for another reason than %s: %v", ex.wantErr, err)
			}
		})
	}
}

func validateResponse(t *testing.T, router routers.Router, method, path string, status int, contentType, body string) error {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	route, params, err := router.FindRoute(req)
	if err != nil {
		t.Fatalf("no route for %s %s: %v", method, path, err)
	}
	h := http.Header{}
	switch contentType {
	case "":
		h.Set("Content-Type", "application/json")
	case "-":
	default:
		h.Set("Content-Type", contentType)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 status,
		Header:                 h,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true},
	}
	in.SetBodyBytes([]byte(body))
	return openapi3filter.ValidateResponse(context.Background(), in)
}

// TestGoValuesMatchSchemas marshals the domain types the API returns, empty
// and full, and checks them against their component schemas: a field added
// to a Go type without the document, or an omitempty that changed, fails
// here.
func TestGoValuesMatchSchemas(t *testing.T) {
	doc := loadDoc(t)
	now := time.Date(2026, 11, 2, 9, 15, 0, 123, time.UTC)
	yes := true
	full := &sb.User{
		ID: "u1", AccountID: "a1", Email: "a@b.test", Name: "A", Role: sb.RoleAgent, PaidSeat: true, ChatCapacity: 3,
		ManageAvailability: true, Status: sb.Away, StatusSetBy: "u2", ReassignReplies: true,
		WorkingHours: sb.WorkingHours{TimeZone: "Europe/Paris", Ranges: []sb.HoursRange{{Day: time.Monday, Start: 540, End: 1020}}},
		OutOfOffice:  []sb.DateRange{{From: now, To: now.Add(time.Hour)}},
		PasswordHash: "secret", CreatedAt: now, OpenChats: 2, LastActiveAt: now, LastChatAssignedAt: now,
	}
	// userView and channelView have the JSON shape of app.UserView and
	// app.ChannelView.
	type userView struct {
		*sb.User
		EffectiveStatus sb.Status       `json:"effective_status"`
		StatusReason    sb.StatusReason `json:"status_reason"`
	}
	type channelView struct {
		*sb.Channel
		RoutingWarnings []string `json:"routing_warnings"`
	}
	minimalRule := sb.RoutingRule{Mode: sb.ModeUnassigned, Fallback: sb.Fallback{Mode: sb.FallbackNone}}
	tests := []struct {
		schema string
		value  any
	}{
		{"Account", &sb.Account{ID: "a1", Name: "Acme", TimeZone: "UTC", CreatedAt: now}},
		{"User", &sb.User{ID: "u1", AccountID: "a1", Role: sb.RoleAdmin, Status: sb.Available}},
		{"User", full},
		{"UserView", userView{full, sb.Away, sb.ReasonSetByAdmin}},
		{"UserView", userView{&sb.User{ID: "u1", AccountID: "a1", Role: sb.RoleAgent, Status: sb.Available}, sb.Available, sb.ReasonManual}},
		{"Team", &sb.Team{ID: "t1", AccountID: "a1", Name: "T"}},
		{"Team", &sb.Team{ID: "t1", AccountID: "a1", Name: "T", MainMemberIDs: []string{"u1"}, ExtraMemberIDs: []string{}}},
		{"Inbox", &sb.Inbox{ID: "i1", AccountID: "a1", Name: "Support"}},
		{"Channel", channelView{&sb.Channel{ID: "ch1", AccountID: "a1", InboxID: "i1", Kind: sb.KindChat, Name: "Chat", Routing: minimalRule}, nil}},
		{"Channel", channelView{&sb.Channel{
			ID: "ch1", AccountID: "a1", InboxID: "i1", Kind: sb.KindEmail, Name: "Mail",
			Config: json.RawMessage(`{"address":"help@acme.test"}`),
			Routing: sb.RoutingRule{
				Enabled: true, Mode: sb.ModeContactOwner, UserIDs: []string{"u1"}, TeamIDs: []string{"t1"}, OnlyAvailable: &yes,
				Fallback:   sb.Fallback{Mode: sb.FallbackUser, UserID: "u1"},
				AtCapacity: sb.AtCapacityWaitingMessage,
			},
			Tickets: sb.TicketSettings{Enabled: true, Pipeline: "p", Stage: "s"}, CreatedAt: now,
		}, []string{"user u3 has no paid seat"}}},
		{"Contact", &sb.Contact{ID: "k1", AccountID: "a1"}},
		{"Contact", &sb.Contact{ID: "k1", AccountID: "a1", Email: "k@x.test", Name: "K", Phone: "+331", OwnerID: "u1", VisitorToken: "v", CreatedAt: now}},
		{"Conversation", &sb.Conversation{ID: "c1", AccountID: "a1", InboxID: "i1", ChannelID: "ch1", ChannelKind: sb.KindChat, ContactID: "k1", Status: sb.StatusOpen}},
		{"Conversation", &sb.Conversation{
			ID: "c1", AccountID: "a1", InboxID: "i1", ChannelID: "ch1", ChannelKind: sb.KindForm, ContactID: "k1", Status: sb.StatusClosed,
			AssigneeID: "u1", TeamID: "t1", TicketID: "tk1", Waiting: true, Subject: "S", Preview: "P", CreatedAt: now, LastActivityAt: now, ClosedAt: now,
		}},
		{"Message", &sb.Message{ID: "m1", AccountID: "a1", ConversationID: "c1", ChannelID: "ch1", Direction: sb.DirectionIn}},
		{"Message", &sb.Message{ID: "m1", AccountID: "a1", ConversationID: "c1", ChannelID: "ch1", Direction: sb.DirectionNote, AuthorUserID: "u1", ContactID: "k1", Body: "B", ExternalID: "x", CreatedAt: now}},
		{"Decision", &sb.Decision{ID: "d1", AccountID: "a1", ConversationID: "c1", Trigger: sb.TriggerCreated, Mode: sb.ModeUnassigned, Strategy: "none", Outcome: sb.OutcomeUnassigned}},
		{"Decision", &sb.Decision{
			ID: "d1", AccountID: "a1", ConversationID: "c1", Trigger: sb.TriggerBacklogDrain, Mode: sb.ModeSpecific, Strategy: "random",
			Candidates: []sb.Candidate{
				{UserID: "u1", Via: "team:t1", Status: sb.Available, Load: 1, Capacity: 2, LastActiveAt: now, LastAssigned: now},
				{UserID: "u2", Via: "previous_assignee", Status: sb.Away, StatusReason: "working_hours", Dropped: sb.DropAway},
			},
			Outcome: sb.OutcomeAssigned, AssigneeID: "u1", Reason: "r", TieBreak: "random", NotifyOwner: true, UsedFallback: true, ActorUserID: "u3", CreatedAt: now,
		}},
		{"Event", &sb.Event{ID: 7, AccountID: "a1", Type: sb.EventConversationCreated, InboxID: "i1", ConversationID: "c1", UserID: "u1", Data: json.RawMessage(`{"x":1}`), CreatedAt: now}},
	}
	for _, tt := range tests {
		raw, err := json.Marshal(tt.value)
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.NewDecoder(bytes.NewReader(raw)).Decode(&v); err != nil {
			t.Fatal(err)
		}
		ref := doc.Components.Schemas[tt.schema]
		if ref == nil {
			t.Fatalf("no schema %s", tt.schema)
		}
		if err := ref.Value.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
			t.Errorf("%s %s: %v", tt.schema, raw, err)
		}
	}
}

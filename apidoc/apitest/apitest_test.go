package apitest_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/switchboard-dev/switchboard/apidoc/apitest"
)

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	failed []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = append(r.failed, fmt.Sprintf(format, args...))
}

const conversation = `{"id":"c1","account_id":"a1","inbox_id":"i1","channel_id":"ch1","channel_kind":"chat",
"contact_id":"k1","status":"open","waiting":false,"created_at":"2026-11-02T09:15:00Z","last_activity_at":"2026-11-02T09:15:00Z"}`

// fakeAPI answers a handful of calls, some right and some wrong.
func fakeAPI() http.Handler {
	mux := http.NewServeMux()
	json := func(status int, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(status)
			io.WriteString(w, body)
		}
	}
	mux.HandleFunc("GET /api/v1/conversations/c1", json(200, conversation))
	mux.HandleFunc("GET /api/v1/conversations/c2", json(200, strings.Replace(conversation, `"open"`, `"snoozed"`, 1)))
	mux.HandleFunc("GET /api/v1/conversations/missing", json(404, `{"error":{"code":"not_found","message":"No such conversation."}}`))
	mux.HandleFunc("POST /api/v1/conversations/c1/close", json(200, strings.Replace(conversation, `"open"`, `"closed"`, 1)))
	mux.HandleFunc("DELETE /api/v1/teams/t1", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	mux.HandleFunc("GET /api/v1/teams", json(200, `{"items":[],"next_cursor":""}`))
	mux.HandleFunc("GET /api/v1/events", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "event: conversation.created\ndata: {}\n\n")
	})
	mux.HandleFunc("GET /api/v1/widgets", json(200, `{}`))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "ok")
	})
	return mux
}

func TestCheck(t *testing.T) {
	srv := httptest.NewServer(fakeAPI())
	t.Cleanup(srv.Close)
	v := apitest.NewValidator(t)

	tests := []struct {
		method, path string
		body         string
		wantFail     string // part of the failure; empty for a right response
	}{
		{"GET", "/api/v1/conversations/c1", "", ""},
		{"GET", "/api/v1/conversations/missing", "", ""},
		{"POST", "/api/v1/conversations/c1/close", "", ""},
		{"DELETE", "/api/v1/teams/t1", "", ""},
		{"GET", "/api/v1/events", "", ""},
		{"GET", "/api/v1/conversations/c2", "", `"/status"`},
		{"GET", "/api/v1/teams", "", "next_cursor"},
		{"GET", "/api/v1/widgets", "", "no such operation"},
		{"GET", "/healthz", "", "Content-Type"},
		{"PUT", "/api/v1/conversations/c1", "", "no such operation"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body := apitest.ReadBody(t, resp)

			rec := &recorder{TB: t}
			v.Check(rec, req, resp, body)
			switch {
			case tt.wantFail == "" && len(rec.failed) > 0:
				t.Errorf("a right response failed the check: %s", rec.failed)
			case tt.wantFail != "" && len(rec.failed) == 0:
				t.Errorf("a wrong response passed the check")
			case tt.wantFail != "" && !strings.Contains(rec.failed[0], tt.wantFail):
				t.Errorf("failed for another reason than %s: %s", tt.wantFail, rec.failed[0])
			}
		})
	}
}

// TestCheckUsesResponseRequest: a nil request means resp.Request.
func TestCheckUsesResponseRequest(t *testing.T) {
	srv := httptest.NewServer(fakeAPI())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/api/v1/conversations/c2")
	if err != nil {
		t.Fatal(err)
	}
	body := apitest.ReadBody(t, resp)
	rec := &recorder{TB: t}
	apitest.NewValidator(t).Check(rec, nil, resp, body)
	if len(rec.failed) != 1 {
		t.Errorf("failures = %q, want one", rec.failed)
	}
}

// TestCheckNoContent: a status the document gives no body must have none.
// (net/http servers drop such bodies, so the response is made by hand.)
func TestCheckNoContent(t *testing.T) {
	v := apitest.NewValidator(t)
	req := httptest.NewRequest("DELETE", "/api/v1/teams/t1", nil)
	resp := &http.Response{StatusCode: 204, Header: http.Header{"Content-Type": {"application/json"}}, Request: req}

	rec := &recorder{TB: t}
	v.Check(rec, req, resp, nil)
	if len(rec.failed) != 0 {
		t.Errorf("an empty 204 failed: %q", rec.failed)
	}
	v.Check(rec, req, resp, []byte(`{"deleted":true}`))
	if len(rec.failed) != 1 || !strings.Contains(rec.failed[0], "declares no body") {
		t.Errorf("failures = %q, want one about the body", rec.failed)
	}
}

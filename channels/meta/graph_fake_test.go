package meta_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// graphCall is one request Switchboard sent to the Graph API.
type graphCall struct {
	Method, Path, Query, Auth string
	Body                      map[string]any
}

// fakeGraph stands in for graph.facebook.com: it records what Switchboard
// sends and answers like the Send API, the Messenger Profile API, user
// profiles and the WhatsApp messages endpoint.
type fakeGraph struct {
	srv   *httptest.Server
	mu    sync.Mutex
	calls []graphCall
	fail  int    // answer this HTTP status (with a Graph error) while non-zero
	code  int    // the Graph error code of failures
	mid   string // message id answered by /me/messages
	wamid string // message id answered by /{phone_number_id}/messages
	used  map[string]int
}

// unique returns id the first time, then id-2, id-3 …: the platform never
// gives two messages one id.
func (g *fakeGraph) unique(id string) string {
	if g.used == nil {
		g.used = map[string]int{}
	}
	g.used[id]++
	if n := g.used[id]; n > 1 {
		return fmt.Sprintf("%s-%d", id, n)
	}
	return id
}

func newFakeGraph(t *testing.T) *fakeGraph {
	g := &fakeGraph{mid: "m_REPLY_MID_FROM_GRAPH", wamid: "wamid.REPLY_FROM_GRAPH"}
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *fakeGraph) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	c := graphCall{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Auth: r.Header.Get("Authorization")}
	_ = json.Unmarshal(raw, &c.Body)
	g.mu.Lock()
	g.calls = append(g.calls, c)
	fail, code := g.fail, g.code
	var mid, wamid string
	if fail == 0 && r.Method == "POST" && r.URL.Path == "/me/messages" {
		mid = g.unique(g.mid)
	} else if fail == 0 && r.Method == "POST" {
		wamid = g.unique(g.wamid)
	}
	g.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if fail != 0 {
		w.WriteHeader(fail)
		_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": "fake failure", "type": "OAuthException", "code": code}})
		return
	}
	switch {
	case r.Method == "POST" && r.URL.Path == "/me/messages":
		_ = json.NewEncoder(w).Encode(map[string]string{"recipient_id": "x", "message_id": mid})
	case r.Method == "POST" && r.URL.Path == "/me/messenger_profile":
		_ = json.NewEncoder(w).Encode(map[string]string{"result": "success"})
	case r.Method == "POST" && strings.HasSuffix(r.URL.Path, "/messages"):
		_ = json.NewEncoder(w).Encode(map[string]any{"messaging_product": "whatsapp", "messages": []map[string]string{{"id": wamid}}})
	case r.Method == "GET":
		_ = json.NewEncoder(w).Encode(map[string]string{"first_name": "Mia", "last_name": "Jensen", "id": strings.TrimPrefix(r.URL.Path, "/")})
	default:
		w.WriteHeader(http.StatusNotFound)
		_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": "unknown path", "code": 803}})
	}
}

func (g *fakeGraph) set(fn func(g *fakeGraph)) {
	g.mu.Lock()
	defer g.mu.Unlock()
	fn(g)
}

// sent returns the calls to path so far.
func (g *fakeGraph) sent(path string) []graphCall {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []graphCall
	for _, c := range g.calls {
		if c.Path == path {
			out = append(out, c)
		}
	}
	return out
}

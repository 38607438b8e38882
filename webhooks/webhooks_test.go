package webhooks_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
	"github.com/switchboard-dev/switchboard/internal/pgtest"
	"github.com/switchboard-dev/switchboard/sqlstore"
	"github.com/switchboard-dev/switchboard/webhooks"
)

// forEachDB runs fn on a fresh SQLite and a fresh PostgreSQL database.
func forEachDB(t *testing.T, fn func(t *testing.T, dsn string)) { pgtest.ForEachDB(t, fn) }

// node is one running service over dsn with the webhook sender.
type node struct {
	st  *sqlstore.Store
	svc *app.Service
}

type nodeOpts struct {
	allowPrivate bool
	maxAttempts  int
	backoff      time.Duration
}

func start(t testing.TB, dsn string, o nodeOpts) *node {
	t.Helper()
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, dsn, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if o.backoff == 0 {
		o.backoff = 20 * time.Millisecond
	}
	svc := app.New(app.Config{Store: st, JobPoll: 20 * time.Millisecond, JobBackoff: o.backoff, JobMaxAttempts: o.maxAttempts,
		PasswordParams: &app.PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1}})
	webhooks.Register(svc, webhooks.Config{AllowPrivate: o.allowPrivate, Timeout: 2 * time.Second})
	svc.Start(ctx)
	n := &node{st: st, svc: svc}
	t.Cleanup(n.stop)
	return n
}

func (n *node) stop() {
	if n.svc != nil {
		n.svc.Close()
		n.st.Close()
		n.svc = nil
	}
}

// account sets up the first account and returns its admin and a channel.
func account(t testing.TB, svc *app.Service) (app.Actor, string) {
	t.Helper()
	ctx := context.Background()
	res, err := svc.Setup(ctx, app.SetupInput{AccountName: "Acme", TimeZone: "UTC", AdminEmail: "admin@acme.test", AdminName: "Ada", Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	admin, err := svc.Authenticate(ctx, res.Token)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := svc.CreateChannel(ctx, admin, "", app.ChannelInput{Kind: sb.KindEmail, Name: "mail", NewInbox: &app.InboxInput{Name: "Support"}})
	if err != nil {
		t.Fatal(err)
	}
	return admin, ch.ID
}

// delivery is one request the receiver got.
type delivery struct {
	event, id, attempt string
	body               map[string]any
	status             int
}

// receiver is a webhook endpoint that checks signatures itself (not with
// the package's Verify) and answers with the statuses it is told, in
// order, per delivery id; then 200.
type receiver struct {
	srv    *httptest.Server
	secret string
	mu     sync.Mutex
	plan   []int
	tries  map[string]int
	got    []delivery
	bad    []string
	notify chan struct{}
}

func newReceiver(t *testing.T, plan ...int) *receiver {
	r := &receiver{plan: plan, tries: map[string]int{}, notify: make(chan struct{}, 100)}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer func() { r.mu.Unlock(); r.notify <- struct{}{} }()
	if err := r.check(req.Header.Get("Switchboard-Signature"), body); err != nil {
		r.bad = append(r.bad, err.Error())
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	id := req.Header.Get("Switchboard-Delivery")
	n := r.tries[id]
	r.tries[id]++
	status := http.StatusOK
	if n < len(r.plan) {
		status = r.plan[n]
	}
	var m map[string]any
	_ = json.Unmarshal(body, &m)
	r.got = append(r.got, delivery{event: req.Header.Get("Switchboard-Event"), id: id, attempt: req.Header.Get("Switchboard-Attempt"), body: m, status: status})
	w.WriteHeader(status)
	fmt.Fprintf(w, "answer %d to try %d", status, n+1)
}

// check is the receiver's side of the signature recipe in
// docs/tickets-webhooks.md: HMAC-SHA256 of "<t>.<body>" with the secret,
// compared in constant time, and a fresh timestamp.
func (r *receiver) check(header string, body []byte) error {
	var ts, sig string
	for _, p := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(p, "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || time.Since(time.Unix(sec, 0)).Abs() > 5*time.Minute {
		return fmt.Errorf("bad timestamp in %q", header)
	}
	m := hmac.New(sha256.New, []byte(r.secret))
	m.Write([]byte(ts + "."))
	m.Write(body)
	got, _ := hex.DecodeString(sig)
	if !hmac.Equal(got, m.Sum(nil)) {
		return fmt.Errorf("signature mismatch in %q", header)
	}
	return nil
}

// wait waits until cond holds over what the receiver got.
func (r *receiver) wait(t *testing.T, what string, cond func(got []delivery) bool) []delivery {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		r.mu.Lock()
		got := append([]delivery(nil), r.got...)
		bad := append([]string(nil), r.bad...)
		r.mu.Unlock()
		if len(bad) > 0 {
			t.Fatalf("the receiver refused signatures: %v", bad)
		}
		if cond(got) {
			return got
		}
		select {
		case <-r.notify:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("timed out waiting for %s; got %+v", what, got)
		}
	}
}

func ofType(got []delivery, typ string) []delivery {
	var out []delivery
	for _, d := range got {
		if d.event == typ {
			out = append(out, d)
		}
	}
	return out
}

func subscribe(t *testing.T, svc *app.Service, admin app.Actor, r *receiver, events ...string) *app.WebhookView {
	t.Helper()
	w, err := svc.CreateWebhook(context.Background(), admin, app.WebhookInput{URL: r.srv.URL + "/hook", Events: events})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(w.Secret, "whsec_") {
		t.Fatalf("secret %q not shown at creation", w.Secret)
	}
	r.mu.Lock()
	r.secret = w.Secret
	r.mu.Unlock()
	return w
}

func TestDeliverySignedAndRetried(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		n := start(t, dsn, nodeOpts{allowPrivate: true})
		admin, ch := account(t, n.svc)
		r := newReceiver(t, 500, 500)
		w := subscribe(t, n.svc, admin, r, sb.EventConversationCreated, sb.EventMessageCreated)
		res, err := n.svc.Inbound(ctx, admin, ch, app.InboundInput{Contact: app.InboundContact{Email: "c@x.test"}, Body: "hello"})
		if err != nil {
			t.Fatal(err)
		}
		t.Run("R-X8 a signed conversation.created arrives after two 500s", func(t *testing.T) {
			got := r.wait(t, "conversation.created to succeed", func(got []delivery) bool {
				cc := ofType(got, sb.EventConversationCreated)
				return len(cc) == 3 && len(ofType(got, sb.EventMessageCreated)) >= 3
			})
			cc := ofType(got, sb.EventConversationCreated)
			for i, d := range cc {
				if d.id != cc[0].id || d.attempt != strconv.Itoa(i+1) || d.body["id"] != cc[0].body["id"] {
					t.Fatalf("retries must keep the delivery id and payload id and count attempts: %+v", cc)
				}
			}
			if cc[2].status != 200 {
				t.Fatalf("third try answered %d", cc[2].status)
			}
			b := cc[2].body
			data, _ := b["data"].(map[string]any)
			if b["type"] != sb.EventConversationCreated || b["account_id"] != admin.AccountID || b["created_at"] == nil || data["id"] != res.Conversation.ID {
				t.Fatalf("payload %v", b)
			}
			if len(ofType(got, sb.EventConversationAssigned)) != 0 || len(ofType(got, sb.EventConversationStatus)) != 0 {
				t.Fatal("events the subscription did not choose were sent")
			}
		})
		t.Run("R-X8 every attempt is visible with the receiver's answer", func(t *testing.T) {
			var ds []*sb.WebhookDelivery
			deadline := time.Now().Add(30 * time.Second)
			for {
				p, err := n.svc.WebhookDeliveries(ctx, admin, w.ID, "", 50)
				if err != nil {
					t.Fatal(err)
				}
				if ds = p.Items; len(ds) >= 6 || time.Now().After(deadline) {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			var cc []*sb.WebhookDelivery
			for _, d := range ds {
				if d.EventType == sb.EventConversationCreated {
					cc = append(cc, d)
				}
			}
			if len(cc) != 3 {
				t.Fatalf("%d conversation.created attempts recorded, want 3: %+v", len(cc), ds)
			}
			// newest first
			if cc[0].Attempt != 3 || cc[0].StatusCode != 200 || cc[0].Error != "" || cc[2].Attempt != 1 || cc[2].StatusCode != 500 || cc[2].Error != "HTTP 500" {
				t.Fatalf("attempts %+v %+v %+v", cc[0], cc[1], cc[2])
			}
			if cc[2].ResponseBody != "answer 500 to try 1" || cc[0].DurationMS < 0 {
				t.Fatalf("response recorded as %q", cc[2].ResponseBody)
			}
		})
		t.Run("other admins' secrets are never shown again", func(t *testing.T) {
			got, err := n.svc.GetWebhook(ctx, admin, w.ID)
			if err != nil || got.Secret != "" {
				t.Fatalf("secret %q shown after creation (%v)", got.Secret, err)
			}
		})
	})
}

func TestGivesUpAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		n := start(t, dsn, nodeOpts{allowPrivate: true, maxAttempts: 3})
		admin, ch := account(t, n.svc)
		r := newReceiver(t, 503, 503, 503, 503, 503)
		w := subscribe(t, n.svc, admin, r, sb.EventConversationCreated)
		if _, err := n.svc.Inbound(ctx, admin, ch, app.InboundInput{Contact: app.InboundContact{Email: "c@x.test"}, Body: "hello"}); err != nil {
			t.Fatal(err)
		}
		r.wait(t, "three attempts", func(got []delivery) bool { return len(got) >= 3 })
		deadline := time.Now().Add(30 * time.Second)
		for {
			var jobs []*sb.Job
			err := n.st.View(ctx, func(tx sb.Tx) error {
				var err error
				jobs, err = tx.Jobs(ctx, admin.AccountID, app.JobWebhook, 10)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(jobs) == 1 && jobs[0].Status == sb.JobFailed {
				if jobs[0].Attempts != 3 {
					t.Fatalf("failed after %d attempts, want 3", jobs[0].Attempts)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("R-X8: the delivery did not give up: %+v", jobs)
			}
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(100 * time.Millisecond) // would be several more retries at this backoff
		r.mu.Lock()
		tries := len(r.got)
		r.mu.Unlock()
		if tries != 3 {
			t.Fatalf("R-X8: %d tries, want 3 then give up", tries)
		}
		p, err := n.svc.WebhookDeliveries(ctx, admin, w.ID, "", 0)
		if err != nil || len(p.Items) != 3 {
			t.Fatalf("%d attempts recorded (%v)", len(p.Items), err)
		}
	})
}

// TestSurvivesRestart: a delivery that failed before a restart is retried
// by the next process, and an event committed while no feed ran (a crash
// between commit and queueing) is caught up from the subscription's
// cursor at start.
func TestSurvivesRestart(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		first := start(t, dsn, nodeOpts{allowPrivate: true, backoff: time.Second})
		admin, ch := account(t, first.svc)
		r := newReceiver(t, 500)
		subscribe(t, first.svc, admin, r, sb.EventConversationCreated)
		res, err := first.svc.Inbound(ctx, admin, ch, app.InboundInput{Contact: app.InboundContact{Email: "c@x.test"}, Body: "hello"})
		if err != nil {
			t.Fatal(err)
		}
		r.wait(t, "the first, failing attempt", func(got []delivery) bool { return len(got) == 1 })
		first.stop()

		// An event that committed without the feed seeing it.
		st, err := sqlstore.Open(ctx, dsn, nil)
		if err != nil {
			t.Fatal(err)
		}
		missed := &sb.Event{AccountID: admin.AccountID, Type: sb.EventConversationCreated, ConversationID: res.Conversation.ID,
			InboxID: res.Conversation.InboxID, Data: []byte(`{"id":"missed"}`), CreatedAt: time.Now().UTC()}
		if err := st.Update(ctx, admin.AccountID, func(tx sb.Tx) error { return tx.AppendEvent(ctx, missed) }); err != nil {
			t.Fatal(err)
		}
		st.Close()

		start(t, dsn, nodeOpts{allowPrivate: true, backoff: time.Second})
		got := r.wait(t, "R-X8 the retry and the missed event after the restart", func(got []delivery) bool {
			ok := 0
			for _, d := range got {
				if d.status == 200 {
					ok++
				}
			}
			return ok == 2
		})
		var ids []string
		for _, d := range got {
			if d.status == 200 {
				data, _ := d.body["data"].(map[string]any)
				ids = append(ids, fmt.Sprint(data["id"]))
			}
		}
		if !(len(ids) == 2 && ((ids[0] == res.Conversation.ID && ids[1] == "missed") || (ids[1] == res.Conversation.ID && ids[0] == "missed"))) {
			t.Fatalf("delivered after restart: %v", ids)
		}
	})
}

func TestPrivateAddresses(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		n := start(t, dsn, nodeOpts{})
		admin, ch := account(t, n.svc)
		t.Run("R-X8 refused when subscribing without --webhooks-allow-private", func(t *testing.T) {
			for _, u := range []string{"http://127.0.0.1:9/x", "http://localhost/x", "https://10.1.2.3/", "http://[::1]/", "http://169.254.169.254/latest", "ftp://example.com/", "example.com/x", "http://user:pw@example.com/"} {
				_, err := n.svc.CreateWebhook(ctx, admin, app.WebhookInput{URL: u, Events: []string{sb.EventMessageCreated}})
				if !sb.IsKind(err, sb.Invalid) {
					t.Errorf("%s: %v, want invalid", u, err)
				}
			}
			off := false // paused: nothing is sent to the internet
			if _, err := n.svc.CreateWebhook(ctx, admin, app.WebhookInput{URL: "https://hooks.example.com/in", Events: []string{sb.EventMessageCreated}, Active: &off}); err != nil {
				t.Errorf("a public URL: %v", err)
			}
		})
		t.Run("R-X8 refused at connection time too", func(t *testing.T) {
			r := newReceiver(t)
			// A subscription stored before the flag was turned off.
			w := &sb.Webhook{AccountID: admin.AccountID, URL: r.srv.URL, Events: []string{sb.EventConversationCreated}, Secret: "s", Active: true, CreatedAt: time.Now(), UpdatedAt: time.Now()}
			if err := n.st.Update(ctx, admin.AccountID, func(tx sb.Tx) error {
				var err error
				if w.Cursor, err = tx.LastEventID(ctx, admin.AccountID); err != nil {
					return err
				}
				return tx.CreateWebhook(ctx, w)
			}); err != nil {
				t.Fatal(err)
			}
			if _, err := n.svc.UpdateWebhook(ctx, admin, w.ID, app.WebhookPatch{}); err != nil { // wakes the feed for this account
				t.Fatal(err)
			}
			if _, err := n.svc.Inbound(ctx, admin, ch, app.InboundInput{Contact: app.InboundContact{Email: "c@x.test"}, Body: "hello"}); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(30 * time.Second)
			for {
				p, err := n.svc.WebhookDeliveries(ctx, admin, w.ID, "", 0)
				if err != nil {
					t.Fatal(err)
				}
				if len(p.Items) > 0 {
					if d := p.Items[0]; d.StatusCode != 0 || !strings.Contains(d.Error, "private address") {
						t.Fatalf("attempt %+v", d)
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("no attempt recorded")
				}
				time.Sleep(20 * time.Millisecond)
			}
			r.mu.Lock()
			defer r.mu.Unlock()
			if len(r.got)+len(r.bad) != 0 {
				t.Fatal("the private receiver was reached")
			}
		})
	})
}

func TestSignVerify(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"id":"1"}`)
	h := webhooks.Sign("whsec_k", now, body)
	if h != "t=1800000000,v1="+hexMAC("whsec_k", "1800000000."+string(body)) {
		t.Fatalf("header %q", h)
	}
	cases := []struct {
		name   string
		secret string
		body   string
		at     time.Time
		ok     bool
	}{
		{"good", "whsec_k", string(body), now.Add(time.Minute), true},
		{"other secret", "whsec_x", string(body), now, false},
		{"changed body", "whsec_k", `{"id":"2"}`, now, false},
		{"replayed late", "whsec_k", string(body), now.Add(10 * time.Minute), false},
	}
	for _, c := range cases {
		err := webhooks.Verify(c.secret, h, []byte(c.body), c.at, 5*time.Minute)
		if (err == nil) != c.ok {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	if webhooks.Verify("whsec_k", "garbage", body, now, time.Minute) == nil {
		t.Error("a malformed header verified")
	}
}

func hexMAC(key, msg string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

func TestPrivate(t *testing.T) {
	t.Parallel()
	for ip, want := range map[string]bool{"127.0.0.1": true, "10.0.0.1": true, "192.168.1.1": true, "172.16.0.1": true, "100.64.0.1": true,
		"169.254.169.254": true, "0.0.0.0": true, "::1": true, "fd00::1": true, "fe80::1": true, "::ffff:127.0.0.1": true,
		"8.8.8.8": false, "2606:4700::1111": false, "93.184.216.34": false} {
		if got := webhooks.Private(netip.MustParseAddr(ip)); got != want {
			t.Errorf("Private(%s) = %v, want %v", ip, got, want)
		}
	}
}

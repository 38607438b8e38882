// Package webhooks delivers Switchboard's outbound webhooks (R-X8): it
// handles the app's JobWebhook jobs by POSTing each event's payload to the
// subscription's URL, signed with the subscription's secret, and records
// every attempt with the receiver's answer. The job queue retries failed
// attempts with exponential backoff and survives restarts; which events
// become jobs is app's business (app/webhookfeed.go).
//
// Signature: the header Switchboard-Signature is "t=<unix seconds>,v1=<hex>"
// where hex is HMAC-SHA256(secret, "<t>.<raw body>"). Receivers recompute
// it over the raw body, compare in constant time and refuse old
// timestamps (Verify does all three).
//
// Server-side request forgery: only http and https URLs are accepted, no
// redirect is followed, no proxy is used, and unless AllowPrivate is set
// (the --webhooks-allow-private flag) every connection to a loopback,
// private, link-local, unspecified or multicast address is refused at
// dial time, whatever name resolved to it.
package webhooks

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
)

// Headers of a delivery.
const (
	HeaderSignature = "Switchboard-Signature"
	HeaderEvent     = "Switchboard-Event"
	HeaderDelivery  = "Switchboard-Delivery"
	HeaderAttempt   = "Switchboard-Attempt"
)

// Defaults and limits.
const (
	DefaultTimeout = 10 * time.Second
	// keepBody is how much of a receiver's answer is recorded.
	keepBody = 1024
	// drainBody is how much more of it is read so the connection can be
	// reused.
	drainBody = 64 << 10
)

// Config is what a Sender needs.
type Config struct {
	// AllowPrivate lets subscriptions reach loopback and private
	// addresses (the --webhooks-allow-private flag): for receivers on the
	// same host or network, and tests. Off, such URLs are refused when a
	// subscription is made and at every connection.
	AllowPrivate bool
	// Timeout bounds one attempt (connect, send, answer); default 10 s.
	Timeout time.Duration
	Logger  *slog.Logger // nil discards
	// Now is the clock of signature timestamps; default time.Now.
	Now func() time.Time
}

// Sender delivers webhook jobs.
type Sender struct {
	svc          *app.Service
	client       *http.Client
	allowPrivate bool
	log          *slog.Logger
	now          func() time.Time
}

// Register makes a Sender and registers it with svc: as the handler of
// app.JobWebhook and as the check of subscription URLs. Call it before
// svc.Start.
func Register(svc *app.Service, cfg Config) *Sender {
	s := &Sender{svc: svc, allowPrivate: cfg.AllowPrivate, log: cfg.Logger, now: cfg.Now}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	dialer := &net.Dialer{Timeout: timeout, Control: s.control}
	s.client = &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy:                 nil, // a proxy would dial for us, past the address check
			DialContext:           dialer.DialContext,
			TLSHandshakeTimeout:   timeout,
			ResponseHeaderTimeout: timeout,
			MaxIdleConnsPerHost:   4,
			IdleConnTimeout:       90 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	svc.HandleJobs(app.JobWebhook, s.handle)
	svc.SetWebhookURLCheck(s.checkURL)
	return s
}

// errPrivate is the refusal of a private address.
var errPrivate = errors.New("private address")

// control refuses connections to private addresses unless allowed; it
// runs after name resolution, for every address tried.
func (s *Sender) control(_, address string, _ syscall.RawConn) error {
	if s.allowPrivate {
		return nil
	}
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return err
	}
	if Private(ip) {
		return fmt.Errorf("%w: %s (start the server with --webhooks-allow-private to allow it)", errPrivate, ip)
	}
	return nil
}

// checkURL refuses, at subscription time, URLs whose host is a private
// address or a localhost name, unless allowed. Other names are checked
// when a delivery connects.
func (s *Sender) checkURL(u *url.URL) error {
	if s.allowPrivate {
		return nil
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return fmt.Errorf("url points to this host; private addresses need the server flag --webhooks-allow-private")
	}
	if ip, err := netip.ParseAddr(host); err == nil && Private(ip) {
		return fmt.Errorf("url points to the private address %s; private addresses need the server flag --webhooks-allow-private", ip)
	}
	return nil
}

// carrierNAT is the shared address space of RFC 6598.
var carrierNAT = netip.MustParsePrefix("100.64.0.0/10")

// Private reports whether ip is not a public unicast address: loopback,
// private (RFC 1918, fc00::/7), carrier-grade NAT, link-local, unspecified,
// multicast, or in 0.0.0.0/8.
func Private(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() || carrierNAT.Contains(ip) ||
		(ip.Is4() && ip.As4()[0] == 0)
}

// Sign returns the Switchboard-Signature header value of body sent at t.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks a Switchboard-Signature header against the raw body: one
// of its v1 signatures must match (in constant time) and its timestamp be
// within tolerance of now, so that an old delivery cannot be replayed.
func Verify(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts string
	var sigs [][]byte
	for part := range strings.SplitSeq(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			if b, err := hex.DecodeString(v); err == nil {
				sigs = append(sigs, b)
			}
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return errors.New("webhooks: malformed signature header")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return errors.New("webhooks: signature timestamp outside the tolerance")
	}
	want := mac(secret, ts, body)
	for _, sig := range sigs {
		if hmac.Equal(sig, want) {
			return nil
		}
	}
	return errors.New("webhooks: signature mismatch")
}

// handle is the JobWebhook handler: one attempt, recorded. A non-2xx
// answer or no answer is an error, which the job queue retries.
func (s *Sender) handle(ctx context.Context, j *sb.Job) error {
	call, err := s.svc.PrepareWebhookCall(ctx, j)
	if err != nil || call == nil {
		return err
	}
	d, err := s.send(ctx, call)
	if rerr := s.svc.RecordWebhookDelivery(ctx, d); rerr != nil {
		s.log.Error("recording a webhook delivery failed", "webhook_id", call.Webhook.ID, "delivery_id", call.DeliveryID, "err", rerr)
	}
	if err != nil {
		s.log.Info("webhook delivery failed", "webhook_id", call.Webhook.ID, "delivery_id", call.DeliveryID, "attempt", call.Attempt, "err", err)
	}
	return err
}

// send POSTs one attempt and returns its record.
func (s *Sender) send(ctx context.Context, call *app.WebhookCall) (*sb.WebhookDelivery, error) {
	w, e := call.Webhook, call.Event
	d := &sb.WebhookDelivery{AccountID: w.AccountID, WebhookID: w.ID, DeliveryID: call.DeliveryID, EventID: e.ID,
		EventType: e.Type, Attempt: call.Attempt}
	start := time.Now()
	err := s.post(ctx, call, d)
	d.DurationMS = time.Since(start).Milliseconds()
	if err != nil {
		d.Error = err.Error()
	}
	return d, err
}

func (s *Sender) post(ctx context.Context, call *app.WebhookCall, d *sb.WebhookDelivery) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, call.Webhook.URL, bytes.NewReader(call.Body))
	if err != nil {
		return app.Permanent(fmt.Errorf("bad url: %w", err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Switchboard-Webhooks/1")
	req.Header.Set(HeaderEvent, call.Event.Type)
	req.Header.Set(HeaderDelivery, call.DeliveryID)
	req.Header.Set(HeaderAttempt, strconv.Itoa(call.Attempt))
	req.Header.Set(HeaderSignature, Sign(call.Webhook.Secret, s.now(), call.Body))
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("no answer: %w", unwrapURLError(err))
	}
	defer resp.Body.Close()
	d.StatusCode = resp.StatusCode
	head, _ := io.ReadAll(io.LimitReader(resp.Body, keepBody))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, drainBody))
	d.ResponseBody = cleanText(head)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			return fmt.Errorf("HTTP %d: redirects are not followed; subscribe the final URL", resp.StatusCode)
		}
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return nil
}

// unwrapURLError drops url.Error's "Post <url>:" prefix: the URL is on the
// subscription already.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// cleanText makes a receiver's bytes storable and showable: valid UTF-8
// without NUL characters.
func cleanText(b []byte) string {
	return strings.ReplaceAll(strings.ToValidUTF8(string(b), "\uFFFD"), "\x00", "")
}

// Package widgetload measures the chat widget under load against a running
// switchboard: it holds many visitor WebSockets open, sends visitor
// messages through them at a fixed rate, and times each message from the
// visitor's send to its arrival on an agent's event stream (SSE). It reads
// the server's resident memory from /proc when given its pid.
package widgetload

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// Config is one load run.
type Config struct {
	BaseURL       string // the server, e.g. http://127.0.0.1:8080
	AdminEmail    string // an admin; the account is set up with it if the database is empty
	AdminPassword string
	Conns         int           // visitor WebSockets held open (default 1000)
	Rate          int           // visitor messages per second across them (default 200)
	Duration      time.Duration // how long messages are sent (default 10s)
	Agents        int           // agents in the routing rule (default 20)
	// SourceIPs spreads the visitors over 127.0.0.2 … 127.0.0.(1+SourceIPs),
	// as visitors come from many addresses (the widget limits each
	// address); default 100. 0 or 1 uses the default route's address.
	SourceIPs int
	// PID is the server's process id, for its resident memory; 0 skips it.
	PID int
	Out io.Writer // progress; nil discards
}

// Report is what a run measured.
type Report struct {
	Conns        int     `json:"conns"`
	Sent         int     `json:"sent"`
	Received     int     `json:"received"`
	Errors       int     `json:"errors"`
	RateAchieved float64 `json:"rate_achieved"`
	P50ms        float64 `json:"p50_ms"`
	P90ms        float64 `json:"p90_ms"`
	P99ms        float64 `json:"p99_ms"`
	MaxMs        float64 `json:"max_ms"`
	// The visitor's send to its ack on the WebSocket: the message stored
	// and routed (the part before the events go out).
	AckP50ms float64 `json:"ack_p50_ms"`
	AckP99ms float64 `json:"ack_p99_ms"`
	// Resident memory of the server, MiB: before the visitors connect,
	// with them all connected and idle, and the peak while sending.
	RSSBaseMiB  float64 `json:"rss_base_mib"`
	RSSConnsMiB float64 `json:"rss_conns_mib"`
	RSSPeakMiB  float64 `json:"rss_peak_mib"`
	// ServerCPUms is the server's CPU time (user+system) while sending,
	// per message: what a message costs, whatever else runs on the machine.
	ServerCPUms float64 `json:"server_cpu_ms_per_message"`
}

// Print writes the report as text.
func (r *Report) Print(w io.Writer) {
	fmt.Fprintf(w, "widget load: %d WebSockets; %d messages sent (%.0f/s), %d reached the agent's event stream, %d errors\n",
		r.Conns, r.Sent, r.RateAchieved, r.Received, r.Errors)
	fmt.Fprintf(w, "visitor send -> agent SSE: p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms\n", r.P50ms, r.P90ms, r.P99ms, r.MaxMs)
	fmt.Fprintf(w, "visitor send -> ack (stored and routed): p50 %.1f ms, p99 %.1f ms\n", r.AckP50ms, r.AckP99ms)
	if r.RSSConnsMiB > 0 {
		fmt.Fprintf(w, "server RSS: %.0f MiB before, %.0f MiB with %d WebSockets open, %.0f MiB peak while sending\n", r.RSSBaseMiB, r.RSSConnsMiB, r.Conns, r.RSSPeakMiB)
		fmt.Fprintf(w, "server CPU while sending: %.2f ms per message\n", r.ServerCPUms)
	}
}

const origin = "https://load.example"

// Run performs the run.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Conns <= 0 {
		cfg.Conns = 1000
	}
	if cfg.Rate <= 0 {
		cfg.Rate = 200
	}
	if cfg.Duration <= 0 {
		cfg.Duration = 10 * time.Second
	}
	if cfg.Agents <= 0 {
		cfg.Agents = 20
	}
	if cfg.SourceIPs == 0 {
		cfg.SourceIPs = 100
	}
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	api := &client{base: strings.TrimRight(cfg.BaseURL, "/"), hc: &http.Client{Timeout: 30 * time.Second}}
	channel, agentToken, err := setUp(ctx, api, cfg)
	if err != nil {
		return nil, fmt.Errorf("setting up: %w", err)
	}
	rep := &Report{Conns: cfg.Conns}
	rep.RSSBaseMiB = rss(cfg.PID)

	// The agent's event stream first, so that nothing is missed.
	l := &latencies{sent: map[string]time.Time{}}
	streamCtx, stopStream := context.WithCancel(ctx)
	defer stopStream()
	ready := make(chan error, 1)
	go func() { ready <- l.stream(streamCtx, api, agentToken) }()

	var frameErrors atomic.Int64
	acks := &latencies{sent: map[string]time.Time{}}
	visitors, err := connect(ctx, cfg, channel, &frameErrors, acks)
	defer func() {
		for _, v := range visitors {
			v.ws.CloseNow()
		}
	}()
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(cfg.Out, "%d visitor WebSockets open\n", len(visitors))
	time.Sleep(2 * time.Second) // settle
	rep.RSSConnsMiB = rss(cfg.PID)

	var peak atomic.Uint64
	peak.Store(uint64(rep.RSSConnsMiB * 1024))
	sampleCtx, stopSample := context.WithCancel(ctx)
	go func() {
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-sampleCtx.Done():
				return
			case <-t.C:
				if kb := uint64(rss(cfg.PID) * 1024); kb > peak.Load() {
					peak.Store(kb)
				}
			}
		}
	}()
	start, cpu0 := time.Now(), cpuTime(cfg.PID)
	sent, errs := send(ctx, cfg, visitors, l, acks)
	elapsed := time.Since(start)
	// Wait for the stragglers (at most 5 s).
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && l.received() < sent {
		time.Sleep(20 * time.Millisecond)
	}
	stopSample()
	if sent > 0 {
		rep.ServerCPUms = float64((cpuTime(cfg.PID) - cpu0).Microseconds()) / 1000 / float64(sent)
	}
	rep.Sent, rep.Errors, rep.RateAchieved = sent, errs+int(frameErrors.Load()), float64(sent)/elapsed.Seconds()
	rep.RSSPeakMiB = float64(peak.Load()) / 1024
	ds := l.durations()
	rep.Received = len(ds)
	if len(ds) > 0 {
		slices.Sort(ds)
		q := func(p float64) float64 { return float64(ds[min(len(ds)-1, int(p*float64(len(ds))))]) / 1e6 }
		rep.P50ms, rep.P90ms, rep.P99ms, rep.MaxMs = q(0.50), q(0.90), q(0.99), float64(ds[len(ds)-1])/1e6
	}
	if as := acks.durations(); len(as) > 0 {
		slices.Sort(as)
		rep.AckP50ms, rep.AckP99ms = float64(as[len(as)/2])/1e6, float64(as[min(len(as)-1, len(as)*99/100)])/1e6
	}
	return rep, nil
}

// setUp makes (or reuses) the account, the agents and a chat channel, and
// returns the channel id and an agent's token.
func setUp(ctx context.Context, api *client, cfg Config) (channel, agentToken string, err error) {
	var tok struct {
		Token string `json:"token"`
	}
	status, err := api.call(ctx, "POST", "/api/v1/setup", "", map[string]any{"account_name": "Widget load", "time_zone": "UTC",
		"admin_email": cfg.AdminEmail, "admin_name": "Admin", "password": cfg.AdminPassword}, &tok)
	if status == http.StatusConflict {
		status, err = api.call(ctx, "POST", "/api/v1/tokens", "", map[string]any{"email": cfg.AdminEmail, "password": cfg.AdminPassword}, &tok)
	}
	if err != nil {
		return "", "", err
	}
	admin := tok.Token
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	var ids []string
	for i := range cfg.Agents {
		var u struct {
			ID string `json:"id"`
		}
		email := fmt.Sprintf("load-agent-%s-%d@load.example", run, i)
		if _, err := api.call(ctx, "POST", "/api/v1/users", admin, map[string]any{"email": email, "name": fmt.Sprintf("Agent %d", i),
			"role": "agent", "paid_seat": true, "password": "load-password"}, &u); err != nil {
			return "", "", err
		}
		ids = append(ids, u.ID)
		if i == 0 {
			if _, err := api.call(ctx, "POST", "/api/v1/tokens", "", map[string]any{"email": email, "password": "load-password"}, &tok); err != nil {
				return "", "", err
			}
			agentToken = tok.Token
		}
	}
	var ch struct {
		ID string `json:"id"`
	}
	_, err = api.call(ctx, "POST", "/api/v1/channels", admin, map[string]any{"kind": "chat", "name": "Load " + run,
		"new_inbox": map[string]any{"name": "Load " + run}, "config": map[string]any{"allowed_origins": []string{origin}},
		"routing": map[string]any{"enabled": true, "mode": "specific", "user_ids": ids}}, &ch)
	return ch.ID, agentToken, err
}

type visitor struct {
	ws    *websocket.Conn
	token string
	n     int
}

// connect opens cfg.Conns visitor WebSockets, 50 at a time.
func connect(ctx context.Context, cfg Config, channel string, frameErrors *atomic.Int64, acks *latencies) ([]*visitor, error) {
	wsBase := "ws" + strings.TrimPrefix(strings.TrimRight(cfg.BaseURL, "/"), "http") + "/widget/v1/" + channel + "/ws?visitor_token="
	clients := make([]*http.Client, max(1, cfg.SourceIPs))
	for i := range clients {
		d := &net.Dialer{Timeout: 10 * time.Second}
		if cfg.SourceIPs > 1 {
			d.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, 0, byte((i+2)/256), byte((i+2)%256))}
		}
		clients[i] = &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	}
	visitors := make([]*visitor, cfg.Conns)
	var mu sync.Mutex
	var firstErr error
	sem := make(chan struct{}, 50)
	var wg sync.WaitGroup
	for i := range visitors {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			tok := fmt.Sprintf("loadvisitor%08d%s", i, strconv.FormatInt(time.Now().UnixNano(), 36))
			dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			ws, _, err := websocket.Dial(dctx, wsBase+tok, &websocket.DialOptions{HTTPClient: clients[i%len(clients)], HTTPHeader: http.Header{"Origin": {origin}}})
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = fmt.Errorf("visitor %d: %w", i, err)
				}
				mu.Unlock()
				return
			}
			ws.SetReadLimit(1 << 20)
			v := &visitor{ws: ws, token: tok}
			go func() { // count error frames; drop acks, replies, availability
				for {
					_, b, err := ws.Read(context.Background())
					if err != nil {
						return
					}
					if bytes.HasPrefix(b, []byte(`{"type":"ack"`)) {
						var f struct {
							Message struct {
								Body string `json:"body"`
							} `json:"message"`
						}
						if json.Unmarshal(b, &f) == nil {
							acks.arrived(f.Message.Body, time.Now())
						}
					}
					if bytes.Contains(b, []byte(`"type":"error"`)) {
						frameErrors.Add(1)
						if frameErrors.Load() <= 3 {
							fmt.Fprintf(cfg.Out, "error frame: %s\n", b)
						}
					}
				}
			}()
			mu.Lock()
			visitors[i] = v
			mu.Unlock()
		}()
	}
	wg.Wait()
	out := visitors[:0]
	for _, v := range visitors {
		if v != nil {
			out = append(out, v)
		}
	}
	return out, firstErr
}

// send sends cfg.Rate messages a second for cfg.Duration, round robin
// over the visitors.
func send(ctx context.Context, cfg Config, visitors []*visitor, l, acks *latencies) (sent, errs int) {
	interval := time.Second / time.Duration(cfg.Rate)
	total := int(cfg.Duration / interval)
	var wg sync.WaitGroup
	var errCount atomic.Int64
	begin := time.Now()
	for i := 0; i < total; i++ {
		// Message i leaves at begin + i·interval: an open-loop schedule, so
		// a slow server does not slow the offered rate down.
		if d := time.Until(begin.Add(time.Duration(i) * interval)); d > 0 {
			select {
			case <-ctx.Done():
				return i, int(errCount.Load())
			case <-time.After(d):
			}
		}
		v := visitors[i%len(visitors)]
		v.n++
		body := fmt.Sprintf("load %s %d", v.token, v.n)
		frame, _ := json.Marshal(map[string]any{"type": "message", "client_id": fmt.Sprintf("m%d", v.n), "body": body})
		l.start(body)
		acks.start(body)
		wg.Add(1)
		go func() {
			defer wg.Done()
			wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			if err := v.ws.Write(wctx, websocket.MessageText, frame); err != nil {
				errCount.Add(1)
			}
		}()
		sent++
	}
	wg.Wait()
	return sent, int(errCount.Load())
}

// latencies matches sent bodies with their arrival on the event stream.
type latencies struct {
	mu   sync.Mutex
	sent map[string]time.Time
	ds   []time.Duration
}

func (l *latencies) start(body string) {
	l.mu.Lock()
	l.sent[body] = time.Now()
	l.mu.Unlock()
}

func (l *latencies) arrived(body string, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if t, ok := l.sent[body]; ok {
		l.ds = append(l.ds, at.Sub(t))
		delete(l.sent, body)
	}
}

func (l *latencies) received() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.ds)
}

func (l *latencies) durations() []time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.ds)
}

// stream reads the agent's event stream until ctx ends.
func (l *latencies) stream(ctx context.Context, api *client, token string) error {
	req, _ := http.NewRequestWithContext(ctx, "GET", api.base+"/api/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := (&http.Client{}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if !bytes.HasPrefix(line, []byte("data: ")) {
			continue
		}
		at := time.Now()
		var ev struct {
			Type string          `json:"type"`
			Data json.RawMessage `json:"data"`
		}
		if json.Unmarshal(line[6:], &ev) != nil || ev.Type != "message.created" {
			continue
		}
		var m struct {
			Body string `json:"body"`
		}
		if json.Unmarshal(ev.Data, &m) == nil {
			l.arrived(m.Body, at)
		}
	}
	return sc.Err()
}

// rss returns the resident memory of process pid in MiB (0 if unknown).
func rss(pid int) float64 {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// cpuTime returns the user+system CPU time of process pid so far.
func cpuTime(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces), from field 3.
	i := bytes.LastIndexByte(b, ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}

type client struct {
	base string
	hc   *http.Client
}

func (c *client) call(ctx context.Context, method, path, token string, body, out any) (int, error) {
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(b))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, errors.New(method + " " + path + ": " + resp.Status + ": " + string(rb))
	}
	if out != nil {
		return resp.StatusCode, json.Unmarshal(rb, out)
	}
	return resp.StatusCode, nil
}

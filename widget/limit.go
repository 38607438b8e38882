package widget

import (
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiter holds the rate limits per visitor token and per client address,
// and counts open WebSockets per address. Entries idle for ten minutes
// are forgotten.
type limiter struct {
	opts     Options
	mu       sync.Mutex
	visitors map[string]*bucket
	ips      map[string]*bucket
	conns    map[string]int
	swept    time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newLimiter(o Options) *limiter {
	return &limiter{opts: o, visitors: map[string]*bucket{}, ips: map[string]*bucket{}, conns: map[string]int{}, swept: time.Now()}
}

// allowIP takes one token of the address's bucket.
func (l *limiter) allowIP(ip string) bool {
	return l.take(l.ips, ip, l.opts.IPRate, l.opts.IPBurst)
}

// allowVisitor takes one token of the visitor's bucket and of their
// address's.
func (l *limiter) allowVisitor(token, ip string) bool {
	return l.take(l.visitors, token, l.opts.VisitorRate, l.opts.VisitorBurst) && l.allowIP(ip)
}

func (l *limiter) take(m map[string]*bucket, key string, r rate.Limit, burst int) bool {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	b := m[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(r, burst)}
		m[key] = b
	}
	b.seen = now
	return b.lim.AllowN(now, 1)
}

// sweep forgets idle buckets, at most once a minute. l.mu is held.
func (l *limiter) sweep(now time.Time) {
	if now.Sub(l.swept) < time.Minute {
		return
	}
	l.swept = now
	for _, m := range []map[string]*bucket{l.visitors, l.ips} {
		for k, b := range m {
			if now.Sub(b.seen) > 10*time.Minute {
				delete(m, k)
			}
		}
	}
}

// openConn counts a WebSocket of ip; false when ip has too many open.
func (l *limiter) openConn(ip string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conns[ip] >= l.opts.MaxConnsPerIP {
		return false
	}
	l.conns[ip]++
	return true
}

func (l *limiter) closeConn(ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conns[ip]--; l.conns[ip] <= 0 {
		delete(l.conns, ip)
	}
}

// clientIP is the request's remote address without the port. (Behind a
// reverse proxy every visitor shares the proxy's address; the per-visitor
// limits still apply per token.)
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

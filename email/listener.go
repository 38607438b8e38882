package email

import (
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// limitListener refuses connections beyond a total and a per-IP limit with
// a 421 greeting, so one sender cannot take every connection, and tracks
// the connections it accepted for a graceful shutdown.
type limitListener struct {
	net.Listener
	maxTotal, maxPerIP int

	mu      sync.Mutex
	perIP   map[string]int
	conns   map[*trackedConn]struct{}
	closing atomic.Bool
}

func newLimitListener(l net.Listener, maxTotal, maxPerIP int) *limitListener {
	return &limitListener{Listener: l, maxTotal: maxTotal, maxPerIP: maxPerIP, perIP: map[string]int{}, conns: map[*trackedConn]struct{}{}}
}

// Accept returns the next connection within the limits; those over a
// limit are answered 421 and closed here.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := hostOf(c.RemoteAddr())
		l.mu.Lock()
		var refuse string
		switch {
		case len(l.conns) >= l.maxTotal:
			refuse = "421 4.3.2 Too many connections; try again later\r\n"
		case l.perIP[ip] >= l.maxPerIP:
			refuse = "421 4.7.0 Too many connections from your address; try again later\r\n"
		}
		if refuse != "" {
			l.mu.Unlock()
			_ = c.SetWriteDeadline(time.Now().Add(2 * time.Second))
			_, _ = c.Write([]byte(refuse))
			_ = c.Close()
			continue
		}
		tc := &trackedConn{Conn: c, ip: ip, l: l}
		l.perIP[ip]++
		l.conns[tc] = struct{}{}
		l.mu.Unlock()
		return tc, nil
	}
}

// drain starts a graceful shutdown: idle connections are ended at once
// (the SMTP server answers them 421), busy ones after their transaction.
func (l *limitListener) drain() {
	l.closing.Store(true)
	l.mu.Lock()
	defer l.mu.Unlock()
	for c := range l.conns {
		if !c.busy.Load() {
			_ = c.Conn.SetReadDeadline(time.Now())
		}
	}
}

func (l *limitListener) release(c *trackedConn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.conns[c]; !ok {
		return
	}
	delete(l.conns, c)
	if l.perIP[c.ip]--; l.perIP[c.ip] <= 0 {
		delete(l.perIP, c.ip)
	}
}

func hostOf(a net.Addr) string {
	if tcp, ok := a.(*net.TCPAddr); ok {
		return tcp.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

// trackedConn is an accepted connection. busy is set while a mail
// transaction (MAIL … end of DATA) is open.
type trackedConn struct {
	net.Conn
	ip   string
	l    *limitListener
	busy atomic.Bool
	once sync.Once
}

// SetReadDeadline ends an idle connection's next read at once while the
// listener drains (the server sets a deadline before every command).
func (c *trackedConn) SetReadDeadline(t time.Time) error {
	if c.l.closing.Load() && !c.busy.Load() {
		t = time.Now()
	}
	return c.Conn.SetReadDeadline(t)
}

func (c *trackedConn) Close() error {
	c.once.Do(func() { c.l.release(c) })
	return c.Conn.Close()
}

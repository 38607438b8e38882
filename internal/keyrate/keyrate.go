// Package keyrate limits events per key (a client address, a channel and
// address) with a token bucket per key: perMinute tokens a minute, and as
// many at once. Keys idle for ten minutes are forgotten once there are
// many, so the memory stays bounded whoever knocks.
package keyrate

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// maxKeys is how many keys a Limiter holds before it forgets idle ones
// (and, if none is idle, all of them).
const maxKeys = 10000

// idle is how long a key must be unused to be forgotten.
const idle = 10 * time.Minute

// Limiter is safe for concurrent use; its zero value is ready.
type Limiter struct {
	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// Allow reports whether key may have one more event now, at perMinute a
// minute. A key's rate is the one its first call gave.
func (l *Limiter) Allow(key string, perMinute int) bool {
	return l.allowAt(time.Now(), key, perMinute)
}

func (l *Limiter) allowAt(now time.Time, key string, perMinute int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buckets == nil {
		l.buckets = map[string]*bucket{}
	}
	if len(l.buckets) >= maxKeys {
		for k, b := range l.buckets {
			if now.Sub(b.seen) > idle {
				delete(l.buckets, k)
			}
		}
		if len(l.buckets) >= maxKeys {
			clear(l.buckets)
		}
	}
	b := l.buckets[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(rate.Limit(float64(perMinute)/60), perMinute)}
		l.buckets[key] = b
	}
	b.seen = now
	return b.lim.AllowN(now, 1)
}

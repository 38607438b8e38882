package webhooks_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
	"github.com/switchboard-dev/switchboard/internal/pgtest"
)

// BenchmarkDelivery measures the path from an inbound message to a
// receiver that answers 204 at once: b.N messages (16 clients), one
// message.created delivery each, timed until the receiver has them all.
// Run it with
//
//	go test ./webhooks -run '^$' -bench Delivery -benchtime 1000x -count 3
func BenchmarkDelivery(b *testing.B) {
	for _, db := range []string{"sqlite", "postgres"} {
		b.Run(db, func(b *testing.B) {
			dsn := "sqlite:" + filepath.Join(b.TempDir(), "bench.db")
			if db == "postgres" {
				dsn = pgtest.DSN(b)
			}
			benchDelivery(b, dsn)
		})
	}
}

func benchDelivery(b *testing.B, dsn string) {
	ctx := context.Background()
	var got atomic.Int64
	done := make(chan struct{})
	var once sync.Once
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if got.Add(1) == int64(b.N) {
			once.Do(func() { close(done) })
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer recv.Close()
	n := start(b, dsn, nodeOpts{allowPrivate: true})
	admin, ch := account(b, n.svc)
	if _, err := n.svc.CreateWebhook(ctx, admin, app.WebhookInput{URL: recv.URL, Events: []string{sb.EventMessageCreated}}); err != nil {
		b.Fatal(err)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range 16 {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				if _, err := n.svc.Inbound(ctx, admin, ch, app.InboundInput{Contact: app.InboundContact{Email: fmt.Sprintf("c%d@x.test", i)}, Body: "hi"}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	select {
	case <-done:
	case <-time.After(5 * time.Minute):
		b.Fatalf("only %d of %d deliveries arrived", got.Load(), b.N)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "deliveries/s")
}

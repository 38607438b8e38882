package meta_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"testing"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
	"github.com/switchboard-dev/switchboard/channels/internal/chantest"
	"github.com/switchboard-dev/switchboard/channels/internal/hook"
	"github.com/switchboard-dev/switchboard/channels/meta"
	"github.com/switchboard-dev/switchboard/internal/pgtest"
)

// BenchmarkMessengerWebhook posts signed one-message webhooks, each from
// a new person (a new routed conversation), to the real handler over HTTP.
func BenchmarkMessengerWebhook(b *testing.B) {
	for _, db := range []string{"sqlite", "postgres"} {
		b.Run(db, func(b *testing.B) {
			dsn := "sqlite:" + filepath.Join(b.TempDir(), "b.db")
			if db == "postgres" {
				dsn = pgtest.DSN(b)
			}
			e := chantest.New(b, dsn, func(svc *app.Service, log *slog.Logger) func(*http.ServeMux) {
				return meta.New(meta.Config{App: svc, Logger: log, AppSecret: appSecret, VerifyToken: verifyToken, GraphURL: "http://127.0.0.1:1"}).Mount
			})
			ada, ben := e.Agent("Ada"), e.Agent("Ben")
			e.Channel(sb.KindMessenger, `{"page_id":"`+pageID+`","lookup_profile":false}`, ada, ben)
			bodies := make([][]byte, b.N)
			for i := range bodies {
				bodies[i] = messengerText(pageID, fmt.Sprint(9000000+i), fmt.Sprintf("m_bench_%d", i), "benchmark message", "")
			}
			b.ResetTimer()
			for _, body := range bodies {
				if r := post(e, "/webhooks/messenger", body, hook.Sign(appSecret, body)); r.Status != 200 {
					b.Fatalf("status %d %s", r.Status, r.Body)
				}
			}
		})
	}
}

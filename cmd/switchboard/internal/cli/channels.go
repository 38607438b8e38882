package cli

import (
	"log/slog"
	"net/http"

	"github.com/switchboard-dev/switchboard/app"
	"github.com/switchboard-dev/switchboard/channels/calling"
	"github.com/switchboard-dev/switchboard/channels/forms"
	"github.com/switchboard-dev/switchboard/channels/meta"
)

// channelEntries sets up the public entry points of Messenger, WhatsApp,
// forms and calling channels on svc (call it before svc.Start) and returns
// what mounts their routes.
func channelEntries(svc *app.Service, log *slog.Logger, cfg *Config) func(*http.ServeMux) {
	m := meta.New(meta.Config{App: svc, Logger: log, AppSecret: cfg.MetaAppSecret,
		VerifyToken: cfg.MetaVerifyToken, GraphURL: cfg.GraphAPIURL})
	f := forms.New(forms.Config{App: svc, Logger: log})
	c := calling.New(calling.Options{App: svc, Logger: log})
	return func(mux *http.ServeMux) {
		m.Mount(mux)
		f.Mount(mux)
		c.Mount(mux)
	}
}

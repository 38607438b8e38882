package sqlstore

import (
	"encoding/json"
	"sync"

	sb "github.com/switchboard-dev/switchboard"
)

// Credentials changes reach every process: SQLite's one at commit;
// PostgreSQL's through a notification sent with COMMIT (and the writing
// process at once), which each process's listener passes to its hooks.
const credentialsChannel = "switchboard_credentials"

var qNotifyCredentials = pgQuery("notify_credentials", `SELECT pg_notify('`+credentialsChannel+`', $1)`)

// credentialHooks are the functions OnCredentialsChanged registered.
type credentialHooks struct {
	mu  sync.RWMutex
	fns []func(sb.CredentialsChange)
}

func (h *credentialHooks) add(fn func(sb.CredentialsChange)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.fns = append(h.fns, fn)
}

// call passes each change to every hook.
func (h *credentialHooks) call(cs []sb.CredentialsChange) {
	if len(cs) == 0 {
		return
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, c := range cs {
		for _, fn := range h.fns {
			fn(c)
		}
	}
}

// OnCredentialsChanged implements switchboard.Store.
func (s *Store) OnCredentialsChanged(fn func(sb.CredentialsChange)) { s.creds.add(fn) }

// CredentialsChanged implements switchboard.Tx. A View has no commit and
// delivers nothing.
func (t *tx) CredentialsChanged(c sb.CredentialsChange) { t.creds = append(t.creds, c) }

// credentialsNotified passes a notification's change to the hooks.
func (l *listener) credentialsNotified(payload string) {
	var c sb.CredentialsChange
	if err := json.Unmarshal([]byte(payload), &c); err != nil {
		l.s.logger.Warn("event listener got a malformed credentials notification", "err", err)
		return
	}
	l.s.creds.call([]sb.CredentialsChange{c})
}

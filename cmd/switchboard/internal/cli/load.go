package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/loadtest"
)

// load runs the load tool against a running switchboard and prints its
// report: as text on stdout, or with --json as JSON on stdout and the text
// on stderr.
func (m *Main) load(ctx context.Context, cfg *Config) error {
	rep, err := loadtest.Run(ctx, loadtest.Config{
		BaseURL:       strings.TrimRight(cfg.URL, "/"),
		AdminEmail:    cfg.Email,
		AdminPassword: cfg.Password,
		Agents:        cfg.Agents,
		Clients:       cfg.Clients,
		Requests:      cfg.Requests,
		Duration:      cfg.Duration,
		Kind:          sb.ChannelKind(cfg.Kind),
		SMTPAddr:      cfg.LoadSMTP,
		Out:           m.Stderr,
	})
	if err != nil {
		return fmt.Errorf("load test against %s failed: %w", cfg.URL, err)
	}
	if !cfg.JSON {
		rep.Print(m.Stdout)
		return nil
	}
	rep.Print(m.Stderr)
	enc := json.NewEncoder(m.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

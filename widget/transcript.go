package widget

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"strings"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
)

// transcript is the close hook of R-C4: when a chat closes and its
// channel's config.transcripts.enabled is on, the visitor (if their
// contact has an email) is mailed the chat from the channel's configured
// sender (config.transcripts.from_channel_id, an email channel; empty is
// the account's default). The mail is a job enqueued in the closing
// transaction, so it is sent exactly when the close commits, and retried
// by the job queue if the relay is down.
func (w *Widget) transcript(ctx context.Context, tx sb.Tx, c *sb.Conversation) error {
	if c.ChannelKind != sb.KindChat {
		return nil
	}
	ch, err := tx.Channel(ctx, c.AccountID, c.ChannelID)
	if sb.IsKind(err, sb.NotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	cfg, err := ParseConfig(ch.Config)
	if err != nil || !cfg.Transcripts.Enabled {
		return nil
	}
	t, err := app.LoadTranscript(ctx, tx, c)
	if err != nil {
		return err
	}
	if t.Contact.Email == "" || len(t.Messages) == 0 {
		return nil // nobody to send it to
	}
	m, err := transcriptMail(t, cfg)
	if err != nil {
		return err
	}
	return w.app.EnqueueMail(ctx, tx, c.AccountID, m)
}

// transcriptMail composes the transcript as text and HTML.
func transcriptMail(t *app.ChatTranscript, cfg *Config) (app.OutMail, error) {
	company := cfg.CompanyName
	if company == "" {
		company = t.Account.Name
	}
	subject := cfg.Transcripts.Subject
	if subject == "" {
		subject = "Your chat with " + company
	}
	loc := location(t.Account.TimeZone)
	type line struct{ When, Who, Body string }
	lines := make([]line, 0, len(t.Messages))
	var text strings.Builder
	fmt.Fprintf(&text, "Here is your chat with %s.\n\n", company)
	for _, m := range t.Messages {
		l := line{When: m.CreatedAt.In(loc).Format("2 Jan 2006 15:04"), Who: t.AuthorName(m), Body: m.Body}
		lines = append(lines, l)
		fmt.Fprintf(&text, "[%s] %s:\n%s\n\n", l.When, l.Who, l.Body)
	}
	var html bytes.Buffer
	err := transcriptHTML.Execute(&html, map[string]any{"Company": company, "Lines": lines, "Color": cfg.Color})
	if err != nil {
		return app.OutMail{}, err
	}
	return app.OutMail{
		ChannelID: cfg.Transcripts.FromChannelID,
		To:        []string{t.Contact.Email},
		Subject:   subject,
		Text:      text.String(),
		HTML:      html.String(),
		Headers:   map[string]string{"X-Switchboard-Conversation": t.Conversation.ID},
	}, nil
}

var transcriptHTML = template.Must(template.New("transcript").Parse(`<!doctype html>
<html><body style="font-family:sans-serif;color:#1f2937">
<p>Here is your chat with {{.Company}}.</p>
{{range .Lines}}<div style="margin:0 0 12px"><div style="font-size:12px;color:#6b7280">{{.When}} · <b style="color:{{$.Color}}">{{.Who}}</b></div><div style="white-space:pre-wrap">{{.Body}}</div></div>
{{end}}</body></html>`))

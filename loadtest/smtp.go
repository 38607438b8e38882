package loadtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"strings"
	"time"
)

// sendMail delivers inbound message n of the run by SMTP to the channel's
// address: one connection per message (EHLO, MAIL, RCPT, DATA, QUIT), as a
// relay forwarding a team's mail does without connection caching. An
// SMTP refusal is reported as an *apiError with code smtp_<code>.
func (r *runner) sendMail(ctx context.Context, n int64) error {
	d := net.Dialer{Timeout: 10 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", r.cfg.SMTPAddr)
	if err != nil {
		return err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	} else {
		conn.SetDeadline(time.Now().Add(30 * time.Second))
	}
	host, _, _ := net.SplitHostPort(r.cfg.SMTPAddr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return smtpErr(err)
	}
	from := fmt.Sprintf("load-%s-%d@example.test", r.runID, n)
	msg := fmt.Sprintf("From: Load contact %d <%s>\r\nTo: %s\r\nSubject: Load test %d\r\nMessage-ID: <load-%s-%d@example.test>\r\n"+
		"Date: %s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello from load test contact %d.\r\n",
		n, from, r.channelAddr, n, r.runID, n, time.Now().Format(time.RFC1123Z), n)
	if err := c.Mail(from); err != nil {
		return smtpErr(err)
	}
	if err := c.Rcpt(r.channelAddr); err != nil {
		return smtpErr(err)
	}
	w, err := c.Data()
	if err != nil {
		return smtpErr(err)
	}
	if _, err := w.Write([]byte(msg)); err != nil {
		return smtpErr(err)
	}
	if err := w.Close(); err != nil { // the 250 after DATA: the message is committed
		return smtpErr(err)
	}
	return c.Quit()
}

func smtpErr(err error) error {
	var te *textproto.Error
	if errors.As(err, &te) {
		return &apiError{Status: te.Code, Code: fmt.Sprintf("smtp_%d", te.Code), Message: strings.TrimSpace(te.Msg)}
	}
	return err
}

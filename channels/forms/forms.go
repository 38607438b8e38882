// Package forms is the public entry point of form channels:
// POST /forms/v1/{channel_id} takes a submission (URL-encoded or JSON),
// validates it against the channel's field definitions and delivers it
// as a conversation (R-O1). See docs/channels.md.
package forms

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
	"github.com/switchboard-dev/switchboard/channels/internal/hook"
	"github.com/switchboard-dev/switchboard/internal/keyrate"
)

// Config is what the entry point needs. App is required.
type Config struct {
	App    *app.Service
	Logger *slog.Logger
	// ClientIP returns the client address used for rate limits; default
	// the connection's remote address (put the proxy's logic here when
	// behind one).
	ClientIP func(r *http.Request) string
}

// Forms is the form entry point.
type Forms struct {
	app      *app.Service
	log      *slog.Logger
	clientIP func(r *http.Request) string
	limits   keyrate.Limiter // per channel and client IP
}

// New returns the entry point and registers the form kind's config check
// on cfg.App. Call it before App.Start.
func New(cfg Config) *Forms {
	f := &Forms{app: cfg.App, log: cfg.Logger, clientIP: cfg.ClientIP}
	if f.log == nil {
		f.log = slog.New(slog.DiscardHandler)
	}
	if f.clientIP == nil {
		f.clientIP = remoteIP
	}
	cfg.App.RegisterChannelKind(sb.KindForm, app.ChannelKindHooks{Check: check})
	return f
}

// Mount registers the routes.
func (f *Forms) Mount(mux *http.ServeMux) {
	mux.HandleFunc("POST /forms/v1/{channel_id}", f.submit)
	mux.HandleFunc("OPTIONS /forms/v1/{channel_id}", f.preflight)
}

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// channel loads the form channel and its config; NotFound for anything
// that is not a form channel.
func (f *Forms) channel(r *http.Request) (*sb.Channel, *Form, error) {
	ch, err := f.app.ChannelForEntry(r.Context(), r.PathValue("channel_id"))
	if err != nil || ch.Kind != sb.KindForm {
		if err == nil || sb.IsKind(err, sb.NotFound) {
			err = sb.E("forms.Submit", sb.NotFound, "not_found", "no such form")
		}
		return nil, nil, err
	}
	cfg, err := ParseConfig(ch.Config)
	if err != nil {
		return nil, nil, err
	}
	return ch, cfg, nil
}

// cors sets the CORS headers for an allowed origin; false if the request
// comes from a browser page whose origin the form does not allow.
func cors(w http.ResponseWriter, r *http.Request, cfg *Form) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	w.Header().Add("Vary", "Origin")
	if len(cfg.AllowedOrigins) > 0 && !slices.Contains(cfg.AllowedOrigins, origin) {
		return false
	}
	w.Header().Set("Access-Control-Allow-Origin", origin)
	return true
}

func (f *Forms) preflight(w http.ResponseWriter, r *http.Request) {
	_, cfg, err := f.channel(r)
	if err != nil {
		hook.WriteError(w, err)
		return
	}
	if !cors(w, r, cfg) {
		w.WriteHeader(http.StatusForbidden)
		return
	}
	w.Header().Set("Access-Control-Allow-Methods", "POST, OPTIONS")
	w.Header().Set("Access-Control-Allow-Headers", "Content-Type, Accept")
	w.Header().Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
}

// submit takes one submission.
func (f *Forms) submit(w http.ResponseWriter, r *http.Request) {
	const op = "forms.Submit"
	ch, cfg, err := f.channel(r)
	if err != nil {
		hook.WriteError(w, err)
		return
	}
	if !cors(w, r, cfg) {
		hook.WriteError(w, sb.E(op, sb.Forbidden, "origin_not_allowed", "this form does not accept submissions from %s", r.Header.Get("Origin")))
		return
	}
	if !f.limits.Allow(ch.ID+"|"+f.clientIP(r), cfg.RatePerMinute) {
		w.Header().Set("Retry-After", strconv.Itoa(int((time.Minute/time.Duration(cfg.RatePerMinute)).Seconds())+1))
		hook.WriteError(w, sb.E(op, sb.RateLimited, "rate_limited", "too many submissions from your address; wait a minute and try again"))
		return
	}
	values, htmlPost, err := readValues(w, r)
	if err == errUnsupportedMedia {
		_, d := hook.Detail(err)
		hook.WriteJSON(w, http.StatusUnsupportedMediaType, hook.ErrorBody{Error: d})
		return
	}
	if err != nil {
		hook.WriteError(w, err)
		return
	}
	sub, errs := cfg.Parse(values)
	if len(errs) > 0 {
		_, d := hook.Detail(sb.E(op, sb.RuleViolation, "invalid_fields", "some fields are missing or not valid"))
		d.Field = errs[0].Field
		for _, e := range errs {
			d.Fields = append(d.Fields, hook.FieldError{Field: e.Field, Message: e.Message})
		}
		hook.WriteJSON(w, http.StatusUnprocessableEntity, hook.ErrorBody{Error: d})
		return
	}
	if sub.Spam {
		// Answered like a real submission so that bots learn nothing; stored nowhere.
		f.log.Info("form submission with the honeypot filled; dropped", "channel_id", ch.ID, "remote", f.clientIP(r))
		f.accepted(w, r, cfg, htmlPost)
		return
	}
	meta := map[string]any{"form": map[string]any{"fields": sub.Visible, "hidden": sub.Hidden, "page": r.Header.Get("Referer")}}
	if len(sub.Ticket) > 0 {
		meta["ticket"] = sub.Ticket
	}
	rawMeta, err := json.Marshal(meta)
	if err != nil {
		hook.WriteError(w, err)
		return
	}
	in := app.InboundInput{
		Contact: app.InboundContact{Email: sub.Contact.Email, Name: sub.Contact.Name, Phone: hook.Phone(sub.Contact.Phone)},
		Body:    sub.Body, Subject: sub.Subject, Meta: rawMeta,
		NewThread: true, // every submission is its own conversation
	}
	if _, err := f.app.Deliver(r.Context(), ch.AccountID, ch.ID, in); err != nil {
		hook.WriteError(w, err)
		return
	}
	f.accepted(w, r, cfg, htmlPost)
}

// accepted answers a stored (or silently dropped) submission: a plain
// HTML form post goes to the configured page (303), anything else gets
// JSON.
func (f *Forms) accepted(w http.ResponseWriter, r *http.Request, cfg *Form, htmlPost bool) {
	if htmlPost && cfg.RedirectURL != "" && !strings.Contains(r.Header.Get("Accept"), "application/json") {
		http.Redirect(w, r, cfg.RedirectURL, http.StatusSeeOther)
		return
	}
	hook.WriteJSON(w, http.StatusCreated, map[string]string{"status": "received"})
}

// readValues reads a URL-encoded or JSON body into field values. htmlPost
// reports a URL-encoded body (a plain HTML form).
func readValues(w http.ResponseWriter, r *http.Request) (map[string]string, bool, error) {
	const op = "forms.Read"
	ct, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	body, err := hook.ReadBody(w, r)
	if err != nil {
		return nil, false, err
	}
	switch ct {
	case "application/x-www-form-urlencoded":
		vs, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, false, sb.E(op, sb.Invalid, "bad_body", "the form data is not valid URL encoding")
		}
		out := make(map[string]string, len(vs))
		for k, v := range vs {
			out[k] = strings.Join(v, ", ")
		}
		return out, true, nil
	case "multipart/form-data": // a plain HTML form with enctype multipart; files are ignored
		form, err := multipart.NewReader(bytes.NewReader(body), params["boundary"]).ReadForm(hook.MaxBody)
		if err != nil {
			return nil, false, sb.E(op, sb.Invalid, "bad_body", "the multipart form data is not valid")
		}
		defer form.RemoveAll()
		out := make(map[string]string, len(form.Value))
		for k, v := range form.Value {
			out[k] = strings.Join(v, ", ")
		}
		return out, true, nil
	case "application/json":
		vals, err := ParseJSON(body)
		return vals, false, err
	}
	return nil, false, errUnsupportedMedia
}

// errUnsupportedMedia answers 415.
var errUnsupportedMedia = sb.E("forms.Read", sb.Invalid, "unsupported_media_type",
	"send the form as application/x-www-form-urlencoded, multipart/form-data or application/json")

// ParseJSON reads a JSON object of field values: strings, numbers and
// booleans are taken as text, arrays of them joined with ", ".
func ParseJSON(body []byte) (map[string]string, error) {
	const op = "forms.ParseJSON"
	var raw map[string]any
	d := json.NewDecoder(strings.NewReader(string(body)))
	d.UseNumber()
	if err := d.Decode(&raw); err != nil || raw == nil {
		return nil, sb.E(op, sb.Invalid, "bad_body", "the body must be a JSON object of field values")
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		s, ok := text(v)
		if !ok {
			return nil, &sb.Error{Op: op, Kind: sb.Invalid, Code: "bad_field", Field: k, Message: "field " + strconv.Quote(k) + " must be text, a number, a boolean or a list of them"}
		}
		out[k] = s
	}
	return out, nil
}

func text(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", true
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		return strconv.FormatBool(x), true
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			s, ok := text(e)
			if !ok {
				return "", false
			}
			if _, nested := e.([]any); nested {
				return "", false
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, ", "), true
	}
	return "", false
}

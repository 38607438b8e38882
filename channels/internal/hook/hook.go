// Package hook holds what the public entry points under channels/ share:
// HMAC signature checks, reading bounded bodies and answering in the API's
// error shape.
package hook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/httpapi"
)

// MaxBody bounds a webhook or form body (Meta batches up to 1000 events,
// well under this).
const MaxBody = 1 << 20

// Signature errors. Unsigned calls answer 401, wrongly signed ones 403.
var (
	ErrUnsigned     = sb.E("hook.Verify", sb.Unauthenticated, "signature_missing", "the request is not signed: send X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>")
	ErrBadSignature = sb.E("hook.Verify", sb.Forbidden, "signature_invalid", "the request's signature does not match its body")
)

// Sign returns "sha256=<hex HMAC-SHA256 of body with secret>", the form of
// Meta's X-Hub-Signature-256 header and of Switchboard's own webhook
// signatures.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks header (sha256=<hex>) against body with each secret in
// turn, in constant time per comparison: nil if one matches, ErrUnsigned
// if header is empty, ErrBadSignature otherwise (also when no secret is
// configured: an unverifiable call is refused, never trusted).
func Verify(header string, body []byte, secrets ...string) error {
	header = strings.TrimSpace(header)
	if header == "" {
		return ErrUnsigned
	}
	hexSig, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return ErrBadSignature
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil || len(got) != sha256.Size {
		return ErrBadSignature
	}
	for _, s := range secrets {
		if s == "" {
			continue
		}
		m := hmac.New(sha256.New, []byte(s))
		m.Write(body)
		if hmac.Equal(got, m.Sum(nil)) {
			return nil
		}
	}
	return ErrBadSignature
}

// ReadBody reads r's body up to MaxBody: TooLarge beyond.
func ReadBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, &sb.Error{Op: "hook.ReadBody", Kind: sb.TooLarge, Code: "body_too_large", Message: "the request body is larger than 1 MiB"}
	}
	if err != nil {
		return nil, sb.E("hook.ReadBody", sb.Invalid, "bad_body", "the request body could not be read")
	}
	return b, nil
}

// FieldError is one input field's problem.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ErrorBody is the API's error shape, plus Fields for forms that report
// every invalid field at once.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the inside of ErrorBody.
type ErrorDetail struct {
	Code    string       `json:"code"`
	Message string       `json:"message"`
	Field   string       `json:"field,omitempty"`
	Fields  []FieldError `json:"fields,omitempty"`
}

// Detail returns err's public code, message and field and its status.
// Anything that is not an *sb.Error (or is Internal) is a generic 500: its
// text is never shown.
func Detail(err error) (int, ErrorDetail) {
	var e *sb.Error
	if !errors.As(err, &e) || e.Kind == sb.Internal {
		return http.StatusInternalServerError, ErrorDetail{Code: "internal", Message: "something went wrong on our side; try again later"}
	}
	code := e.Code
	if code == "" {
		code = e.Kind.String()
	}
	msg := e.Message
	if msg == "" {
		msg = e.Kind.String()
	}
	return httpapi.StatusOf(e.Kind), ErrorDetail{Code: code, Message: msg, Field: e.Field}
}

// WriteError answers err in the API's error shape.
func WriteError(w http.ResponseWriter, err error) {
	status, d := Detail(err)
	if status == http.StatusTooManyRequests && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", "1")
	}
	WriteJSON(w, status, ErrorBody{Error: d})
}

// WriteJSON answers v as JSON with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Phone normalises a phone number to "+" and its digits (E.164), the form
// contacts are matched by across WhatsApp, calling and form channels. A
// leading international prefix 00 counts as "+". National numbers (no
// country code) are kept as dialled: they cannot be made E.164 without
// knowing the country.
func Phone(s string) string {
	s = strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(s, "00"); ok {
		s = rest
	}
	var b []byte
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= '0' && c <= '9' {
			b = append(b, c)
		}
	}
	if len(b) == 0 {
		return ""
	}
	return "+" + string(b)
}

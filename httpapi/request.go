package httpapi

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
)

// Paging bounds for the limit query parameter.
const (
	maxLimit = 200
	// defaultListLimit is the page size of lists that app returns whole
	// (users, teams, inboxes, channels, messages, routing records) when no
	// limit is given. Contacts and conversations use app's own default.
	defaultListLimit = maxLimit
)

// decode reads the request body as JSON into dst: the one way request
// bodies are read. It needs Content-Type application/json (415), a body no
// larger than the configured limit (413), and exactly one JSON value with
// only known fields of the right types (400, naming the field).
func (s *server) decode(w http.ResponseWriter, r *http.Request, dst any) error {
	const op = "httpapi.decode"
	ct := r.Header.Get("Content-Type")
	if ct == "" && r.ContentLength == 0 {
		return sb.E(op, sb.Invalid, "body_required", "a JSON body is required")
	}
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
		return &httpError{status: http.StatusUnsupportedMediaType, code: "unsupported_media_type",
			message: fmt.Sprintf("send the body as JSON with Content-Type: application/json (got %q)", ct)}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, s.maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(op, err, s.maxBody)
	}
	var extra json.RawMessage
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
		return nil
	case err == nil:
		return sb.E(op, sb.Invalid, "trailing_data", "the body must hold one JSON value, but more follows it")
	default:
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooLarge(op, s.maxBody)
		}
		return sb.E(op, sb.Invalid, "trailing_data", "the body must hold one JSON value, but more follows it")
	}
}

// decodeError explains a failed json.Decoder.Decode in API terms.
func decodeError(op string, err error, max int64) error {
	var (
		mbe *http.MaxBytesError
		se  *json.SyntaxError
		te  *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &mbe):
		return tooLarge(op, max)
	case errors.Is(err, io.EOF):
		return sb.E(op, sb.Invalid, "body_required", "a JSON body is required")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return sb.E(op, sb.Invalid, "malformed_json", "the body is not valid JSON: it ends too early")
	case errors.As(err, &se):
		return sb.E(op, sb.Invalid, "malformed_json", "the body is not valid JSON (at byte %d)", se.Offset)
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			return sb.E(op, sb.Invalid, "invalid_type", "the body must be %s, not %s", jsonType(te.Type), te.Value)
		}
		return &sb.Error{Op: op, Kind: sb.Invalid, Code: "invalid_type", Field: field,
			Message: fmt.Sprintf("%s must be %s, not %s", field, jsonType(te.Type), te.Value)}
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name, _ = strconv.Unquote(name)
		return &sb.Error{Op: op, Kind: sb.Invalid, Code: "unknown_field", Field: name,
			Message: fmt.Sprintf("unknown field %q: check its spelling against the API documentation", name)}
	}
	// Other decoder errors (invalid UTF-8 in a string, a value a type's
	// UnmarshalJSON refuses such as a malformed time) are the client's too.
	return &sb.Error{Op: op, Kind: sb.Invalid, Code: "invalid_json", Message: "the body has a value this field cannot take (check times are RFC 3339)", Err: err}
}

func tooLarge(op string, max int64) error {
	return sb.E(op, sb.TooLarge, "request_too_large", "the request body is larger than the limit of %d bytes", max)
}

// jsonType names the JSON type a Go type decodes from, for messages.
func jsonType(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean (true or false)"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "another type"
}

// pageQuery is a list's cursor and limit query parameters. limit is 0 when
// not given.
type pageQuery struct {
	cursor string
	limit  int
}

// pageParams reads ?cursor= and ?limit= (an integer 1–200).
func pageParams(r *http.Request) (pageQuery, error) {
	q := r.URL.Query()
	p := pageQuery{cursor: q.Get("cursor")}
	if v := q.Get("limit"); v != "" || q.Has("limit") {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxLimit {
			return p, sb.Invalidf("httpapi.pageParams", "limit", "limit must be an integer from 1 to %d, not %q", maxLimit, v)
		}
		p.limit = n
	}
	return p, nil
}

// pageOf cuts one page out of a whole list that app returned, in its
// order. The cursor is the last id of the previous page, opaque to clients.
func pageOf[T any](items []T, id func(T) string, q pageQuery) (*app.Page[T], error) {
	start := 0
	if q.cursor != "" {
		raw, err := base64.RawURLEncoding.DecodeString(q.cursor)
		i := -1
		if err == nil {
			i = indexOf(items, id, string(raw))
		}
		if i < 0 {
			return nil, sb.Invalidf("httpapi.pageOf", "cursor", "cursor is not one this server gave out, or its item is gone; start again without it")
		}
		start = i + 1
	}
	limit := q.limit
	if limit == 0 {
		limit = defaultListLimit
	}
	end := min(start+limit, len(items))
	p := &app.Page[T]{Items: append(make([]T, 0, end-start), items[start:end]...)}
	if end < len(items) {
		p.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(id(items[end-1])))
	}
	return p, nil
}

func indexOf[T any](items []T, id func(T) string, want string) int {
	for i, it := range items {
		if id(it) == want {
			return i
		}
	}
	return -1
}

// nonNil makes a page of app's answer an empty JSON array rather than null.
func nonNil[T any](p *app.Page[T]) *app.Page[T] {
	if p != nil && p.Items == nil {
		p.Items = []T{}
	}
	return p
}

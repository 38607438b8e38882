package switchboard

import (
	"errors"
	"fmt"
)

// Kind classifies an error so that each edge (HTTP, SMTP, CLI) can map it to
// its own protocol code in one table.
type Kind uint8

// The error kinds. The zero value is Internal so that an unclassified error
// is never shown to a user as if it were their fault.
const (
	Internal        Kind = iota // a bug or an infrastructure failure; its text is never shown
	Invalid                     // bad input: malformed, missing or out-of-range fields
	NotFound                    // the thing does not exist in the caller's account
	Conflict                    // a uniqueness or state conflict
	Forbidden                   // authenticated but not allowed
	Unauthenticated             // no or bad credentials
	RuleViolation               // well-formed input that a business rule refuses
	Unavailable                 // a dependency is down or overloaded; retry later
	TooLarge                    // the input exceeds a size limit
	RateLimited                 // too many requests
)

func (k Kind) String() string {
	switch k {
	case Invalid:
		return "invalid"
	case NotFound:
		return "not_found"
	case Conflict:
		return "conflict"
	case Forbidden:
		return "forbidden"
	case Unauthenticated:
		return "unauthenticated"
	case RuleViolation:
		return "rule_violation"
	case Unavailable:
		return "unavailable"
	case TooLarge:
		return "too_large"
	case RateLimited:
		return "rate_limited"
	default:
		return "internal"
	}
}

// Error is the one error type of Switchboard. Op names the operation
// ("app.CreateUser"), Code is a stable snake_case code for API clients and
// Message a sentence a person can act on. Err is the wrapped cause, if any.
type Error struct {
	Op      string
	Kind    Kind
	Code    string
	Message string
	// Field names the input field at fault, if any (snake_case, as in the
	// API), so a form can show the message next to it.
	Field string
	Err   error
}

func (e *Error) Error() string {
	s := e.Op
	if s != "" {
		s += ": "
	}
	if e.Message != "" {
		s += e.Message
	} else {
		s += e.Kind.String()
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// E builds an *Error with a user-facing message.
func E(op string, kind Kind, code, format string, args ...any) *Error {
	return &Error{Op: op, Kind: kind, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap wraps cause as an internal error of op, keeping the kind, code and
// message of cause if it already is an *Error.
func Wrap(op string, cause error) error {
	if cause == nil {
		return nil
	}
	var e *Error
	if errors.As(cause, &e) {
		return &Error{Op: op, Kind: e.Kind, Code: e.Code, Message: e.Message, Field: e.Field, Err: cause}
	}
	return &Error{Op: op, Kind: Internal, Code: "internal", Err: cause}
}

// KindOf returns the Kind of err: the kind of the outermost *Error in its
// chain, Internal for any other non-nil error.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// IsKind reports whether err is of kind k.
func IsKind(err error, k Kind) bool { return err != nil && KindOf(err) == k }

// PublicMessage returns the code and message that may be shown to a user for
// err. Internal errors get a generic message; their text is never exposed.
func PublicMessage(err error) (code, message string) {
	var e *Error
	if !errors.As(err, &e) || e.Kind == Internal {
		return "internal", "Something went wrong on our side; the error has been logged."
	}
	code = e.Code
	if code == "" {
		code = e.Kind.String()
	}
	message = e.Message
	if message == "" {
		message = e.Kind.String()
	}
	return code, message
}

// Invalidf builds an Invalid error about one input field.
func Invalidf(op, field, format string, args ...any) *Error {
	return &Error{Op: op, Kind: Invalid, Code: "invalid_" + field, Field: field, Message: fmt.Sprintf(format, args...)}
}

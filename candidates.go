package switchboard

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// Candidates is a decision's candidate list. It has its own JSON encoder:
// a routing record of a large pool lists hundreds of candidates, and
// encoding them by reflection was a third of the routing transaction's
// CPU. The output is exactly what encoding/json makes of []Candidate
// (TestCandidatesJSON checks it).
type Candidates []Candidate

// MarshalJSON implements json.Marshaler.
func (cs Candidates) MarshalJSON() ([]byte, error) {
	if cs == nil {
		return []byte("null"), nil
	}
	b := make([]byte, 0, len(cs)*160+2)
	b = append(b, '[')
	for i := range cs {
		if i > 0 {
			b = append(b, ',')
		}
		b = cs[i].appendJSON(b)
	}
	return append(b, ']'), nil
}

func (c *Candidate) appendJSON(b []byte) []byte {
	b = append(b, `{"user_id":`...)
	b = appendJSONString(b, c.UserID)
	b = append(b, `,"via":`...)
	b = appendJSONString(b, c.Via)
	b = append(b, `,"status":`...)
	b = appendJSONString(b, string(c.Status))
	if c.StatusReason != "" {
		b = append(b, `,"status_reason":`...)
		b = appendJSONString(b, c.StatusReason)
	}
	b = append(b, `,"load":`...)
	b = strconv.AppendInt(b, int64(c.Load), 10)
	b = append(b, `,"capacity":`...)
	b = strconv.AppendInt(b, int64(c.Capacity), 10)
	b = appendJSONTime(b, `,"last_active_at":`, c.LastActiveAt)
	b = appendJSONTime(b, `,"last_assigned_at":`, c.LastAssigned)
	if c.Dropped != "" {
		b = append(b, `,"dropped":`...)
		b = appendJSONString(b, c.Dropped)
	}
	return append(b, '}')
}

// appendJSONTime appends key and t as encoding/json would, unless t is zero.
func appendJSONTime(b []byte, key string, t time.Time) []byte {
	if t.IsZero() {
		return b
	}
	b = append(b, key...)
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// appendJSONString appends s quoted as encoding/json does by default
// (HTML-safe, invalid UTF-8 replaced).
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20 || c == '<' || c == '>' || c == '&':
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

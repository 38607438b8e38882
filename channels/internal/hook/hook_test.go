package hook

import (
	"testing"

	sb "github.com/switchboard-dev/switchboard"
)

func TestVerify(t *testing.T) {
	body := []byte(`{"object":"page"}`)
	sig := Sign("s3cret", body)
	if err := Verify(sig, body, "other", "s3cret"); err != nil {
		t.Errorf("a matching secret: %v", err)
	}
	for _, tc := range []struct {
		name, header string
		secrets      []string
		kind         sb.Kind
	}{
		{"unsigned", "", []string{"s3cret"}, sb.Unauthenticated},
		{"wrong secret", sig, []string{"nope"}, sb.Forbidden},
		{"no secret configured", sig, []string{""}, sb.Forbidden},
		{"truncated", sig[:20], []string{"s3cret"}, sb.Forbidden},
		{"no prefix", sig[7:], []string{"s3cret"}, sb.Forbidden},
	} {
		if err := Verify(tc.header, body, tc.secrets...); !sb.IsKind(err, tc.kind) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.kind)
		}
	}
}

func TestPhone(t *testing.T) {
	for in, want := range map[string]string{"+32 470 12-34-56": "+32470123456", "0032470123456": "+32470123456", "16505551234": "+16505551234", "call me": "", "": ""} {
		if got := Phone(in); got != want {
			t.Errorf("Phone(%q) = %q, want %q", in, got, want)
		}
	}
}

package cli_test

import (
	"strings"
	"testing"
)

// TestGraphAPIURL: --graph-api-url (or its env twin) must be an http(s)
// URL; serve refuses anything else before it listens.
func TestGraphAPIURL(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{nil, []string{"serve", "--graph-api-url", "graph.facebook.com"}, `--graph-api-url "graph.facebook.com"`},
		{map[string]string{"SWITCHBOARD_GRAPH_API_URL": "ftp://x"}, []string{"serve"}, `SWITCHBOARD_GRAPH_API_URL "ftp://x"`},
	} {
		code, _, stderr := run(t, tc.env, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v %v: exit %d, stderr %q; want 2 and %q", tc.env, tc.args, code, stderr, tc.want)
		}
	}
}

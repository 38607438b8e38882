package cli_test

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/cmd/switchboard/internal/cli"
)

func run(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	m := &cli.Main{Stdout: &out, Stderr: &errb, LookupEnv: func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}}
	code = m.Run(context.Background(), args)
	return code, out.String(), errb.String()
}

func TestEnvName(t *testing.T) {
	for flag, want := range map[string]string{
		"db": "SWITCHBOARD_DB", "log-format": "SWITCHBOARD_LOG_FORMAT", "allow-remote": "SWITCHBOARD_ALLOW_REMOTE",
	} {
		if got := cli.EnvName(flag); got != want {
			t.Errorf("EnvName(%q) = %q, want %q", flag, got, want)
		}
	}
	// The client tools' twins name their command: serve's SWITCHBOARD_SMTP
	// is its listen address, not load's target.
	for _, c := range []struct{ command, flag, want string }{
		{"serve", "smtp", "SWITCHBOARD_SMTP"}, {"migrate", "db", "SWITCHBOARD_DB"},
		{"load", "smtp", "SWITCHBOARD_LOAD_SMTP"}, {"simulate", "agents", "SWITCHBOARD_SIMULATE_AGENTS"},
	} {
		if got := cli.EnvNameFor(c.command, c.flag); got != c.want {
			t.Errorf("EnvNameFor(%q, %q) = %q, want %q", c.command, c.flag, got, c.want)
		}
	}
}

// TestEnvTwins: an env twin fills a flag the command line left out; the
// command line wins; a bad env value is a usage error naming the variable.
func TestEnvTwins(t *testing.T) {
	good := "sqlite:" + filepath.Join(t.TempDir(), "x.db")
	tests := []struct {
		name string
		env  map[string]string
		args []string
		code int
		want string // in stderr
	}{
		{"env fills the flag", map[string]string{"SWITCHBOARD_DB": "nonsense:"}, []string{"migrate"}, 1, "unsupported database"},
		{"flag wins", map[string]string{"SWITCHBOARD_DB": "nonsense:"}, []string{"migrate", "--db", good}, 0, ""},
		{"empty env is unset", map[string]string{"SWITCHBOARD_DB": ""}, []string{"migrate", "--db", good}, 0, ""},
		{"bad bool in env", map[string]string{"SWITCHBOARD_LOAD_JSON": "maybe"}, []string{"load"}, 2, `SWITCHBOARD_LOAD_JSON="maybe"`},
		// serve's SWITCHBOARD_SMTP (a remote address, which load would refuse)
		// is ignored; load's own twin is read.
		{"a server's twin does not steer load", map[string]string{"SWITCHBOARD_SMTP": "192.0.2.1:25", "SWITCHBOARD_LOAD_DURATION": "-1s"}, []string{"load"}, 2, "SWITCHBOARD_LOAD_DURATION -1s"},
		{"bad value named by its env twin", map[string]string{"SWITCHBOARD_LOG_FORMAT": "xml"}, []string{"migrate", "--db", good}, 2, `SWITCHBOARD_LOG_FORMAT "xml"`},
		{"bad value named by its flag", nil, []string{"migrate", "--db", good, "--log-format", "xml"}, 2, `--log-format "xml"`},
		{"a negative SMTP message rate", map[string]string{"SWITCHBOARD_SMTP_MAX_MESSAGES_PER_IP": "-1"}, []string{"serve", "--db", good}, 2, "SWITCHBOARD_SMTP_MAX_MESSAGES_PER_IP -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := run(t, tt.env, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, tt.code, tt.want)
			}
		})
	}
}

// TestLoadRefusesRemoteURLs: only loopback hosts unless --allow-remote.
func TestLoadRefusesRemoteURLs(t *testing.T) {
	tests := []struct {
		url    string
		extra  []string
		remote bool
	}{
		{"http://127.0.0.1:1", nil, false},
		{"http://127.8.9.10:1", nil, false},
		{"http://localhost:1", nil, false},
		{"http://[::1]:1", nil, false},
		{"http://10.0.0.1:8080", nil, true},
		{"https://switchboard.example.com", nil, true},
		{"http://0.0.0.0:8080", nil, true},
		{"http://[::1]:1", []string{"--allow-remote"}, false},
	}
	for _, tt := range tests {
		args := append([]string{"load", "--url", tt.url, "--requests", "1", "--agents", "1", "--clients", "1"}, tt.extra...)
		code, _, stderr := run(t, nil, args...)
		refused := code == cli.ExitUsage && strings.Contains(stderr, "--allow-remote")
		if refused != tt.remote {
			t.Errorf("load --url %s %v: exit %d (%s); refused = %v, want %v", tt.url, tt.extra, code, strings.TrimSpace(stderr), refused, tt.remote)
		}
	}
}

func TestHelpExitsZeroAndUnknownCommandTwo(t *testing.T) {
	if code, out, _ := run(t, nil, "help"); code != 0 || !strings.Contains(out, "SWITCHBOARD_HTTP") {
		t.Errorf("help: exit %d, output lacks SWITCHBOARD_HTTP:\n%s", code, out)
	}
	if code, out, _ := run(t, nil, "serve", "-h"); code != 0 || !strings.Contains(out, "--smtp") {
		t.Errorf("serve -h: exit %d, output lacks --smtp:\n%s", code, out)
	}
	if code, _, errOut := run(t, nil, "bogus"); code != 2 || !strings.Contains(errOut, "Commands:") {
		t.Errorf("bogus: exit %d, stderr lacks the command list:\n%s", code, errOut)
	}
}

// TestServeRefusesABusyPort: a taken --http address fails at once (exit
// 1), before the database is touched.
func TestServeRefusesABusyPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	db := filepath.Join(t.TempDir(), "never.db")
	code, _, stderr := run(t, nil, "serve", "--http", ln.Addr().String(), "--db", "sqlite:"+db)
	if code != cli.ExitError || !strings.Contains(stderr, "cannot listen on --http") {
		t.Errorf("exit %d, stderr %q; want 1 and cannot listen", code, stderr)
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("serve created the database before finding the port taken (stat: %v)", err)
	}
}

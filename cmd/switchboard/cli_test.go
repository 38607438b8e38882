package main_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// everyFlag is every flag of the commands, by the prefix of its
// environment twin: help must list each with its twin. The client tools'
// twins name their command (SWITCHBOARD_LOAD_URL).
var everyFlag = map[string][]string{
	"SWITCHBOARD_": {"db", "http", "smtp", "demo", "max-body-bytes", "shutdown-timeout", "log-format", "log-level",
		"webhooks-allow-private", "metrics-token", "smtp-max-messages-per-ip"},
	"SWITCHBOARD_LOAD_": {"url", "email", "password", "agents", "clients", "requests", "duration", "kind", "json", "allow-remote", "smtp"},
}

func TestHelpListsEveryFlagWithItsEnvTwin(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}} {
		res := runCmd(t, 30*time.Second, nil, args...)
		if res.code != 0 {
			t.Fatalf("switchboard %s exited %d, want 0", args[0], res.code)
		}
		for prefix, names := range everyFlag {
			for _, name := range names {
				twin := prefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
				if !strings.Contains(res.stdout, "--"+name+" ") || !strings.Contains(res.stdout, twin) {
					t.Errorf("switchboard %s does not list --%s with %s", args[0], name, twin)
				}
			}
		}
		for _, cmd := range []string{"serve", "migrate", "load", "help"} {
			if !strings.Contains(res.stdout, "  "+cmd+" ") {
				t.Errorf("switchboard %s does not list the %s command", args[0], cmd)
			}
		}
		for _, def := range []string{"sqlite:switchboard.db", "127.0.0.1:8080", "127.0.0.1:2525"} {
			if !strings.Contains(res.stdout, def) {
				t.Errorf("switchboard %s does not show the default %s", args[0], def)
			}
		}
	}
}

// TestCommandLineErrors: usage mistakes exit 2, failures exit 1, each with
// a one-line message on stderr.
func TestCommandLineErrors(t *testing.T) {
	tmp := "sqlite:" + filepath.Join(t.TempDir(), "ok.db")
	tests := []struct {
		name string
		env  []string
		args []string
		code int
		want string
	}{
		{"no command", nil, nil, 2, "Usage:"},
		{"unknown command", nil, []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{"unknown flag", nil, []string{"serve", "--bogus"}, 2, "flag provided but not defined: -bogus"},
		{"bad flag value", nil, []string{"load", "--agents", "many"}, 2, `invalid value "many" for flag -agents`},
		{"stray argument", nil, []string{"migrate", "now"}, 2, `unexpected argument "now"`},
		{"bad log format", nil, []string{"serve", "--log-format", "xml"}, 2, `--log-format "xml": use text or json`},
		{"bad env twin", []string{"SWITCHBOARD_LOG_LEVEL=loud"}, []string{"migrate", "--db", tmp}, 2, `SWITCHBOARD_LOG_LEVEL "loud": use debug`},
		{"bad http address", nil, []string{"serve", "--http", "8080"}, 2, `--http "8080": use HOST:PORT`},
		{"bad smtp address", nil, []string{"serve", "--smtp", "localhost:smtp"}, 2, `--smtp "localhost:smtp"`},
		{"load refuses a remote url", nil, []string{"load", "--url", "http://192.0.2.10:8080"}, 2, "--allow-remote"},
		{"unsupported database", nil, []string{"serve", "--db", "nonsense:", "--smtp", "127.0.0.1:0"}, 1, `unsupported database "nonsense:": use sqlite:PATH or postgres://`},
		{"unsupported database from env", []string{"SWITCHBOARD_DB=nonsense:"}, []string{"migrate"}, 1, "unsupported database"},
		{"flag wins over env", []string{"SWITCHBOARD_DB=nonsense:"}, []string{"migrate", "--db", tmp}, 0, ""},
		{"unreachable postgres", nil, []string{"migrate", "--db", "postgres://nobody@127.0.0.1:1/none?connect_timeout=2"}, 1, "cannot reach the database"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := runCmd(t, 30*time.Second, tt.env, tt.args...)
			if res.code != tt.code {
				t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", res.code, tt.code, res.stdout, res.stderr)
			}
			if !strings.Contains(res.stderr, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, res.stderr)
			}
			if tt.code == 1 {
				if lines := strings.Split(strings.TrimSpace(res.stderr), "\n"); !strings.HasPrefix(lines[len(lines)-1], "switchboard ") {
					t.Errorf("the last line of stderr is not switchboard's message:\n%s", res.stderr)
				}
			}
		})
	}
}

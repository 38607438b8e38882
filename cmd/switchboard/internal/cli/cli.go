// Package cli is the switchboard command: flags and their environment
// twins, one validated Config, the wiring of store, app and HTTP, and a
// graceful shutdown. Main runs one invocation; cmd/switchboard's main is a
// thin shell around it.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"

	sb "github.com/switchboard-dev/switchboard"
)

// Exit codes.
const (
	ExitOK    = 0
	ExitError = 1 // the command failed: a clear one-line message is on stderr
	ExitUsage = 2 // a mistake in the command line or environment
)

// Main is one invocation of the switchboard command.
type Main struct {
	Stdout io.Writer
	Stderr io.Writer
	// LookupEnv reads the environment; nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
}

// command is one subcommand: its flags and what it runs.
type command struct {
	name    string
	summary string
	flags   func(*Config, *flag.FlagSet)
	run     func(*Main, context.Context, *Config) error
}

// commands lists the subcommands in the order help shows them.
var commands = []command{
	{"serve", "run the server: HTTP (API, web inbox, chat widget, webhooks, forms) and the inbound SMTP listener; stops gracefully on SIGINT/SIGTERM",
		(*Config).serveFlags, (*Main).serve},
	{"migrate", "apply database migrations and exit (serve also applies them)",
		(*Config).migrateFlags, (*Main).migrate},
	{"load", "load-test a running switchboard through its API and print a report",
		(*Config).loadFlags, (*Main).load},
	{"simulate", "dry-run routing rules on recorded, file or synthetic traffic and report who would get what (changes nothing)",
		(*Config).simulateFlags, (*Main).simulate},
	{"help", "show this help", nil, nil},
}

func findCommand(name string) *command {
	for i := range commands {
		if commands[i].name == name {
			return &commands[i]
		}
	}
	return nil
}

// Run runs the command line args (without the program name) until it is
// done or ctx is cancelled (serve's signal to shut down), and returns the
// process exit code.
func (m *Main) Run(ctx context.Context, args []string) int {
	if m.LookupEnv == nil {
		m.LookupEnv = os.LookupEnv
	}
	if len(args) == 0 {
		m.usage(m.Stderr)
		return ExitUsage
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		m.usage(m.Stdout)
		return ExitOK
	}
	cmd := findCommand(name)
	if cmd == nil || cmd.run == nil {
		fmt.Fprintf(m.Stderr, "switchboard: unknown command %q\n\n", name)
		m.usage(m.Stderr)
		return ExitUsage
	}
	cfg := &Config{}
	fs := flag.NewFlagSet("switchboard "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cmd.flags(cfg, fs)
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			m.commandUsage(m.Stdout, cmd)
			return ExitOK
		}
		fmt.Fprintf(m.Stderr, "switchboard %s: %v\nRun 'switchboard help' for the flags.\n", cmd.name, err)
		return ExitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(m.Stderr, "switchboard %s: unexpected argument %q\nRun 'switchboard help' for the flags.\n", cmd.name, fs.Arg(0))
		return ExitUsage
	}
	err := cfg.applyEnv(cmd.name, fs, m.LookupEnv)
	if err == nil {
		err = cfg.Validate(cmd.name)
	}
	if err == nil {
		err = cmd.run(m, ctx, cfg)
	}
	switch {
	case err == nil:
		return ExitOK
	case isUsage(err):
		fmt.Fprintf(m.Stderr, "switchboard %s: %s\nRun 'switchboard help' for the flags.\n", cmd.name, oneLine(err))
		return ExitUsage
	default:
		fmt.Fprintf(m.Stderr, "switchboard %s: %s\n", cmd.name, oneLine(err))
		return ExitError
	}
}

// oneLine flattens an error's text to one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", "; ")), " ")
}

// describe renders an error for an operator: the message of a Switchboard
// error (without its Op) and its innermost cause, or the plain text.
func describe(err error) string {
	var e *sb.Error
	if !errors.As(err, &e) || e.Message == "" {
		return err.Error()
	}
	cause := e.Err
	for {
		var inner *sb.Error
		if cause == nil || !errors.As(cause, &inner) || inner.Err == nil {
			break
		}
		cause = inner.Err
	}
	var inner *sb.Error
	if cause == nil || errors.As(cause, &inner) {
		return e.Message
	}
	return e.Message + ": " + cause.Error()
}

// usage prints every command and every flag with its env twin and default.
func (m *Main) usage(w io.Writer) {
	fmt.Fprint(w, `switchboard — a self-hosted shared conversations inbox

Usage:
  switchboard <command> [flags]

Commands:
`)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range commands {
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.summary)
	}
	tw.Flush()
	for i := range commands {
		if commands[i].flags != nil {
			fmt.Fprintln(w)
			m.commandUsage(w, &commands[i])
		}
	}
	fmt.Fprint(w, `
Every flag has an environment twin, shown next to it (load's and
simulate's name their command); a flag given on the command line wins
over its twin. Examples:
  switchboard serve --demo
  SWITCHBOARD_DB=postgres://switchboard@127.0.0.1:5432/switchboard switchboard serve
  switchboard load --agents 50 --requests 2000
`)
}

// commandUsage prints one command's flags.
func (m *Main) commandUsage(w io.Writer, c *command) {
	fmt.Fprintf(w, "Flags of 'switchboard %s':\n", c.name)
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	c.flags(&Config{}, fs)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fs.VisitAll(func(f *flag.Flag) {
		def := f.DefValue
		if def == "" {
			def = `""`
		}
		fmt.Fprintf(tw, "  --%s\t%s\t(default %s)\t%s\n", f.Name, EnvNameFor(c.name, f.Name), def, f.Usage)
	})
	tw.Flush()
}

// newLogger builds the logger of serve and migrate, writing to stderr.
func (m *Main) newLogger(cfg *Config) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.Level()}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(m.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(m.Stderr, opts))
}

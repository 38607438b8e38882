// Command switchboard is Switchboard's one binary: `switchboard serve`
// runs the server, `switchboard migrate` applies the schema, `switchboard
// load` load-tests a running server and `switchboard help` lists every flag
// with its SWITCHBOARD_ environment twin.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/switchboard-dev/switchboard/cmd/switchboard/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first signal, a second one kills at once.
		<-ctx.Done()
		stop()
	}()
	m := &cli.Main{Stdout: os.Stdout, Stderr: os.Stderr}
	code := m.Run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// Command widgetload measures Switchboard's chat widget under load: it
// holds visitor WebSockets open against a running server, sends visitor
// messages at a fixed rate and reports how fast they reach an agent's
// event stream, and the server's memory. See docs/chat.md, Performance.
//
//	switchboard serve --db sqlite:/tmp/load.db &
//	go run ./cmd/widgetload --url http://127.0.0.1:8080 --pid $! --conns 1000 --rate 200 --duration 20s
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/switchboard-dev/switchboard/widget/widgetload"
)

func main() {
	var cfg widgetload.Config
	asJSON := flag.Bool("json", false, "print the report as JSON")
	flag.StringVar(&cfg.BaseURL, "url", "http://127.0.0.1:8080", "the running switchboard")
	flag.StringVar(&cfg.AdminEmail, "email", "load-admin@load.example", "admin email (the account is set up with it on an empty database)")
	flag.StringVar(&cfg.AdminPassword, "password", "load-password", "admin password")
	flag.IntVar(&cfg.Conns, "conns", 1000, "visitor WebSockets to hold open")
	flag.IntVar(&cfg.Rate, "rate", 200, "visitor messages per second")
	flag.DurationVar(&cfg.Duration, "duration", 10*time.Second, "how long to send")
	flag.IntVar(&cfg.Agents, "agents", 20, "agents in the routing rule")
	flag.IntVar(&cfg.SourceIPs, "source-ips", 100, "spread visitors over 127.0.0.2 … 127.0.0.(1+n)")
	flag.IntVar(&cfg.PID, "pid", 0, "the server's pid, to read its resident memory from /proc")
	flag.Parse()
	cfg.Out = os.Stderr
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rep, err := widgetload.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "widgetload:", err)
		os.Exit(1)
	}
	if *asJSON {
		_ = json.NewEncoder(os.Stdout).Encode(rep)
		return
	}
	rep.Print(os.Stdout)
}

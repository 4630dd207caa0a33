// Command pgup starts an ephemeral PostgreSQL cluster for the benchmark
// scripts (with internal/pgcluster, which handles running as root), prints
// "url=postgres://…" on stdout, and stops and removes the cluster when its
// stdin closes or it receives SIGINT/SIGTERM.
//
//	go run ./bench/pgup -max-connections 300 < fifo > url.txt &
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/poolpilot/poolpilot/internal/pgcluster"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "pgup:", err)
		os.Exit(1)
	}
}

func run() error {
	maxConns := flag.Int("max-connections", 300, "max_connections of the cluster")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	srv, err := pgcluster.Start(ctx, pgcluster.Options{Settings: map[string]string{
		"max_connections": strconv.Itoa(*maxConns),
		"shared_buffers":  "128MB",
	}})
	cancel()
	if err != nil {
		return err
	}
	defer srv.Close()
	fmt.Printf("url=%s\nport=%d\n", srv.URL("postgres"), srv.Port)
	stop, done := make(chan os.Signal, 1), make(chan struct{})
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	go func() { io.Copy(io.Discard, os.Stdin); close(done) }()
	select {
	case <-stop:
	case <-done:
	}
	return nil
}

package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
)

func main() {
	// Ctrl-C stops the walk and still removes what it made.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

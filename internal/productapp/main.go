package productapp

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
)

// Main is the whole command: it parses args (without the program name),
// starts the product, serves until ctx is done (the command cancels it
// on SIGINT and SIGTERM) and returns the exit status: 0 after a clean
// shutdown or -h, 2 for invalid usage, 1 for any other failure. Logs go
// to stderr.
func Main(ctx context.Context, args []string, embeddedKeys []byte, stderr io.Writer) int {
	o, err := Parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		fmt.Fprintln(stderr, "Run with -h for the flags.")
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	if o.OfflineRequest != "" {
		if err := WriteOfflineRequest(ctx, o, embeddedKeys, log); err != nil {
			log.Error("cannot write the offline request", slog.String("error", err.Error()))
			if errors.Is(err, ErrUsage) {
				return 2
			}
			return 1
		}
		return 0
	}
	app, err := New(ctx, o, embeddedKeys, log)
	if err != nil {
		log.Error("cannot start", slog.String("error", err.Error()))
		if errors.Is(err, ErrUsage) {
			return 2
		}
		return 1
	}
	if err := app.Run(ctx); err != nil {
		log.Error("stopped with an error", slog.String("error", err.Error()))
		return 1
	}
	return 0
}

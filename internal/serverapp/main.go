package serverapp

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
)

// Main is the whole command: it parses args (without the program name)
// and the environment, starts the control plane, prints a generated
// bootstrap secret once to stderr, serves until ctx is done (the command
// cancels it on SIGINT and SIGTERM) and returns the exit status: 0 after
// a clean shutdown or -h, 2 for invalid usage, 1 for any other failure.
func Main(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) int {
	o, err := Parse(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		fmt.Fprintln(stderr, "Run with -h for the flags.")
		return 2
	}
	o.Logger = newLogger(o.LogFormat, stderr)
	app, err := New(ctx, o)
	if err != nil {
		o.Logger.Error("cannot start", slog.String("error", err.Error()))
		if errors.Is(err, ErrUsage) {
			return 2
		}
		return 1
	}
	if sec := app.BootstrapSecret(); sec != "" {
		printBootstrap(stderr, app.URL(), sec)
	}
	if err := app.Run(ctx); err != nil {
		o.Logger.Error("stopped with an error", slog.String("error", err.Error()))
		return 1
	}
	return 0
}

func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

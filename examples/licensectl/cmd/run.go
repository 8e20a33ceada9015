package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// Environment variables licensectl reads.
const (
	EnvURL    = "LICENSECTL_URL"     // the control plane, when --url is not given
	EnvAPIKey = "LICENSECTL_API_KEY" // the API key, when --api-key is not given
)

// DefaultURL is the control plane licensectl talks to when neither --url
// nor LICENSECTL_URL names one.
const DefaultURL = "http://localhost:8000"

// DefaultTimeout bounds each request when --timeout is not given.
const DefaultTimeout = 30 * time.Second

// Env is what one run of licensectl sees of its process. Nil fields are
// empty: no input, output discarded, no environment, no terminal.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Getenv reads an environment variable.
	Getenv func(string) string
	// IsTerminal reports whether Stdin is a terminal a person types into;
	// delete asks its question only then.
	IsTerminal func() bool
}

// OSEnv is the process's own standard streams and environment.
func OSEnv() Env {
	return Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv,
		IsTerminal: func() bool { return term.IsTerminal(int(os.Stdin.Fd())) }}
}

// app is one run: the environment and the global flags.
type app struct {
	env     Env
	url     string
	apiKey  string
	output  string
	timeout time.Duration
}

// Run runs licensectl with args (without the program name) and returns
// the exit code. It prints data to env.Stdout and messages to env.Stderr.
// protectKIDs returns args with "--" put before a signing key's id that
// starts with '-' (a thumbprint is base64url, so one in 32 does): without
// it, "signing-keys activate -_1Ug…" would read the kid as flags. An id is
// taken for a kid only where one is expected, right after "signing-keys
// activate" or "signing-keys retire", and only in the shape of one.
func protectKIDs(args []string) []string {
	for i := 0; i+2 < len(args); i++ {
		if args[i] != "signing-keys" || (args[i+1] != "activate" && args[i+1] != "retire") {
			continue
		}
		for j := i + 2; j < len(args); j++ {
			if args[j] == "--" {
				break
			}
			if looksLikeKID(args[j]) && strings.HasPrefix(args[j], "-") {
				out := append(append(append([]string{}, args[:j]...), "--"), args[j:]...)
				return out
			}
		}
	}
	return args
}

// looksLikeKID reports whether s has the shape of an RFC 7638 SHA-256
// thumbprint: 43 characters of the base64url alphabet.
func looksLikeKID(s string) bool {
	if len(s) != 43 {
		return false
	}
	for _, c := range s {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func Run(ctx context.Context, args []string, env Env) int {
	if env.Stdin == nil {
		env.Stdin = strings.NewReader("")
	}
	if env.Stdout == nil {
		env.Stdout = io.Discard
	}
	if env.Stderr == nil {
		env.Stderr = io.Discard
	}
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	if env.IsTerminal == nil {
		env.IsTerminal = func() bool { return false }
	}
	a := &app{env: env}
	root := a.root()
	root.SetArgs(protectKIDs(args))
	c, err := root.ExecuteContextC(ctx)
	if err == nil {
		return ExitOK
	}
	var re *runError
	code := ExitCode(err)
	if !errors.As(err, &re) {
		code = ExitValidation // cobra's own: an unknown command or flag, a missing flag or argument
		err = fmt.Errorf("%w: %s", ErrUsage, err.Error())
	}
	fmt.Fprintln(env.Stderr, a.redact(message(err)))
	var ae *APIError
	if errors.As(err, &ae) && ae.hint() != "" {
		fmt.Fprintln(env.Stderr, "hint: "+ae.hint())
	}
	if errors.Is(err, ErrUsage) && c != nil {
		fmt.Fprintf(env.Stderr, "\n%s", c.UsageString())
	}
	return code
}

// message is what the user reads of an error: one line starting with
// "licensectl: ".
func message(err error) string {
	msg := err.Error()
	if !strings.HasPrefix(msg, "licensectl: ") {
		msg = "licensectl: " + msg
	}
	return strings.ReplaceAll(msg, "\n", " ")
}

// redact removes the API key from text, whatever put it there.
func (a *app) redact(s string) string {
	if len(a.apiKey) >= 4 {
		s = strings.ReplaceAll(s, a.apiKey, "[redacted]")
	}
	return s
}

// runError marks an error returned by a command's own code, as opposed to
// cobra's parsing of the command line.
type runError struct{ err error }

func (e *runError) Error() string { return e.err.Error() }
func (e *runError) Unwrap() error { return e.err }

// runE adapts a command's code to cobra, marking its errors.
func runE(fn func(c *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(c *cobra.Command, args []string) error {
		if err := fn(c, args); err != nil {
			return &runError{err}
		}
		return nil
	}
}

// group is a command that only holds others: alone it prints its help; with
// an argument that names no subcommand it is a usage error.
func group(use, short, example string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{Use: use, Short: short, Example: example,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("unknown command %q for %q", args[0], c.CommandPath())
			}
			return nil
		},
		RunE: func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	c.AddCommand(subs...)
	return c
}

func (a *app) root() *cobra.Command {
	root := &cobra.Command{
		Use:   "licensectl",
		Short: "Administer a licensekit control plane",
		Long: `licensectl drives a licensekit control plane from a terminal or a script:
issue licences and download their key files, check a key a customer sends in,
suspend, revoke or move a licence, mint API keys, rotate signing keys, read the
audit log. verify checks a key file offline, without any server.

Data goes to standard output, messages to standard error. Exit codes:
  0 success
  1 generic error, or the control plane could not be reached or timed out
  2 authentication or authorisation (the API key is unknown, or lacks the scope)
  3 not found
  4 validation: a bad flag or argument, a request the server refused,
    or a licence key that validate or verify finds invalid
  5 server error, or an answer that is not the control plane's JSON`,
		Example: `  # Point licensectl at a control plane once per shell
  export LICENSECTL_URL=https://licensing.example.com
  export LICENSECTL_API_KEY=lk_...

  # Issue a licence and download its key file
  licensectl licenses issue --tenant-id ten_abc123 --ttl 90d
  licensectl licenses download lic_abc123 --out license.json`,
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: runE(func(c *cobra.Command, _ []string) error {
			return a.resolveGlobals(c)
		}),
	}
	root.CompletionOptions.HiddenDefaultCmd = false
	pf := root.PersistentFlags()
	pf.StringVar(&a.url, "url", "", "the control plane's address (env "+EnvURL+"; default "+DefaultURL+")")
	pf.StringVar(&a.apiKey, "api-key", "", "the API key (env "+EnvAPIKey+")")
	pf.StringVarP(&a.output, "output", "o", formatTable, "output format: table or json")
	pf.DurationVar(&a.timeout, "timeout", DefaultTimeout, "how long to wait for each answer of the control plane")
	_ = root.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{formatTable, formatJSON}, cobra.ShellCompDirectiveNoFileComp))
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return err })

	root.AddCommand(
		a.licensesCmd(),
		a.machinesCmd(),
		a.keysCmd(),
		a.signingKeysCmd(),
		a.auditCmd(),
		a.settingsCmd(),
		a.sweepCmd(),
		a.verifyCmd(),
	)
	// The streams first: the completion command keeps the writer it sees.
	root.SetIn(a.env.Stdin)
	root.SetOut(a.env.Stdout)
	root.SetErr(a.env.Stderr)
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() == "completion" {
			completionExamples(c)
		}
	}
	return root
}

// resolveGlobals fills in the global flags from the environment and checks
// them.
func (a *app) resolveGlobals(c *cobra.Command) error {
	pf := c.Root().PersistentFlags()
	if !pf.Changed("url") {
		a.url = a.env.Getenv(EnvURL)
	}
	if a.url == "" {
		a.url = DefaultURL
	}
	if !pf.Changed("api-key") {
		a.apiKey = a.env.Getenv(EnvAPIKey)
	}
	if a.output != formatTable && a.output != formatJSON {
		return usagef("--output %q: want table or json", clean(a.output, 20))
	}
	if a.timeout <= 0 {
		return usagef("--timeout must be more than 0")
	}
	return nil
}

// client is the API client of the global flags. It needs an API key.
func (a *app) client() (*client, error) {
	base, err := parseBaseURL(a.url)
	if err != nil {
		return nil, err
	}
	if a.apiKey == "" {
		return nil, fmt.Errorf("%w: give --api-key or set %s", ErrNoAPIKey, EnvAPIKey)
	}
	for i := 0; i < len(a.apiKey); i++ {
		if a.apiKey[i] <= ' ' || a.apiKey[i] > '~' {
			return nil, usagef("the API key holds a space or a character that cannot be sent")
		}
	}
	return newClient(base, a.apiKey, a.timeout), nil
}

func (a *app) json() bool { return a.output == formatJSON }

// info writes a message for the person at the terminal.
func (a *app) info(format string, args ...any) {
	fmt.Fprintf(a.env.Stderr, format+"\n", args...)
}

func completionExamples(c *cobra.Command) {
	c.Example = `  # Load completion into the current bash shell
  source <(licensectl completion bash)

  # Install it for zsh
  licensectl completion zsh > "${fpath[1]}/_licensectl"`
	for _, sub := range c.Commands() {
		sub.Example = fmt.Sprintf("  licensectl completion %s > licensectl.%s", sub.Name(), sub.Name())
	}
}

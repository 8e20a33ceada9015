package heartbeat

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Loop keeps a licence's lease fresh: it activates or beats, reports each
// outcome to Handle, waits, and does it again until its context is done.
// Configure the exported fields, then call [Loop.Run] on a goroutine you
// own. Zero durations take the Default… values. A Loop must not be copied
// after first use, and Run must not be called twice at the same time.
type Loop struct {
	// Client sends the calls. Required.
	Client *Client
	// Request is called before each attempt, so the caller may change the
	// token or fingerprint between attempts. Required.
	Request func() Request
	// Activate is called before each attempt: true means this machine is
	// not bound yet and the attempt must be an activation. Nil means
	// heartbeats only.
	Activate func() bool
	// Handle is called on the loop's goroutine after every attempt, before
	// the wait. It should return quickly. Nil ignores outcomes.
	Handle func(Result)

	// Interval is the beat interval when the server names none
	// ([DefaultInterval]), and the pace after a definitive error.
	Interval time.Duration
	// MinInterval and MaxInterval clamp every interval the server asks for
	// ([DefaultMinInterval], [DefaultMaxInterval]). No wait is longer than
	// MaxInterval, and no beat follows a success sooner than MinInterval.
	MinInterval, MaxInterval time.Duration
	// BackoffBase and BackoffMax shape the backoff after transport failures
	// ([DefaultBackoffBase], [DefaultBackoffMax]).
	BackoffBase, BackoffMax time.Duration
	// Rand returns a number in [0, 1) for jitter; nil means math/rand/v2.
	Rand func() float64
	// Logger receives one record per attempt; nil is silent. Tokens are
	// never logged in full.
	Logger *slog.Logger

	kickOnce sync.Once
	kick     chan struct{}
}

// Result is the outcome of one attempt, given to [Loop.Handle].
type Result struct {
	// Op is [OpActivate] or [OpHeartbeat].
	Op string
	// Response is the answer; nil when Err is set.
	Response *Response
	// Err is nil on success; otherwise test it with [IsDefinitive],
	// [IsTransient] or errors.Is against the sentinels.
	Err error
	// Failures counts consecutive failed attempts, this one included; 0
	// after a success.
	Failures int
	// Next is how long the loop will wait before the next attempt (a
	// [Loop.Kick] may shorten it).
	Next time.Duration
}

// Kick asks for an attempt as soon as allowed, for example after the
// licence key changed. It never blocks, and kicks coalesce. A kick shortens
// the current wait, but never to less than MinInterval after a success or
// BackoffBase after a failure, and never below a Retry-After.
func (l *Loop) Kick() {
	select {
	case l.kickChan() <- struct{}{}:
	default:
	}
}

func (l *Loop) kickChan() chan struct{} {
	l.kickOnce.Do(func() { l.kick = make(chan struct{}, 1) })
	return l.kick
}

// Run attempts at once, then keeps attempting at the pace described in the
// package documentation. It blocks until ctx is done and then returns
// ctx.Err(), abandoning any request in flight without reporting it. It
// returns an error matching [ErrConfig] at once if Client or Request is
// nil. Run starts no goroutine and never panics by itself (a panic in
// Request, Activate or Handle is the caller's).
func (l *Loop) Run(ctx context.Context) error {
	if ctx == nil {
		return fmt.Errorf("%w: nil context", ErrConfig)
	}
	if l == nil || l.Client == nil || l.Request == nil {
		return fmt.Errorf("%w: Loop needs a Client and a Request func", ErrConfig)
	}
	t := newTiming(l.Interval, l.MinInterval, l.MaxInterval, l.BackoffBase, l.BackoffMax, l.Rand)
	kick := l.kickChan()
	failures := 0
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		select { // this attempt answers any kick made before it
		case <-kick:
		default:
		}

		op := OpHeartbeat
		if l.Activate != nil && l.Activate() {
			op = OpActivate
		}
		req := l.Request()
		var resp *Response
		var err error
		if op == OpActivate {
			resp, err = l.Client.Activate(ctx, req)
		} else {
			resp, err = l.Client.Heartbeat(ctx, req)
		}
		if ctx.Err() != nil {
			return ctx.Err() // stopping: the failure is ours, not the server's
		}
		ended := time.Now()
		if err == nil {
			failures = 0
		} else {
			failures++
		}
		wait, hold := t.next(resp, err, failures)
		l.log(ctx, op, req, resp, err, failures, wait)
		if l.Handle != nil {
			l.Handle(Result{Op: op, Response: resp, Err: err, Failures: failures, Next: wait})
		}
		if err := sleep(ctx, kick, ended.Add(wait), ended.Add(hold)); err != nil {
			return err
		}
	}
}

// sleep waits until deadline, or until ctx is done. A kick moves the
// deadline forward to earliest (when that is sooner).
func sleep(ctx context.Context, kick <-chan struct{}, deadline, earliest time.Time) error {
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
			return nil
		case <-kick:
			if earliest.Before(deadline) {
				deadline = earliest
				timer.Reset(time.Until(deadline))
			}
		}
	}
}

func (l *Loop) log(ctx context.Context, op string, req Request, resp *Response, err error, failures int, wait time.Duration) {
	if l.Logger == nil {
		return
	}
	attrs := []slog.Attr{
		slog.String("op", op),
		slog.String("license", clip(req.LicenseID, 64)),
		slog.String("token", redact(req.Token)),
		slog.Duration("next", wait),
	}
	if err == nil {
		l.Logger.LogAttrs(ctx, slog.LevelDebug, "heartbeat: ok", append(attrs, slog.String("status", resp.Status))...)
		return
	}
	attrs = append(attrs, slog.Int("failures", failures), slog.String("error", err.Error()))
	level, msg := slog.LevelWarn, "heartbeat: control plane unavailable"
	if IsDefinitive(err) {
		msg = "heartbeat: definitive answer"
	} else if !IsTransient(err) {
		level, msg = slog.LevelError, "heartbeat: not sent"
	}
	l.Logger.LogAttrs(ctx, level, msg, attrs...)
}

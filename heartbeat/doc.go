// Package heartbeat is the device side of the control plane: a [Client] for
// the three device calls (activate, heartbeat, deactivate) and a [Loop] that
// keeps a licence's lease fresh in the background.
//
// # Trust model
//
// This package moves bytes; it decides nothing. A success answer is handed
// back as a [Response] whose lease is unverified: the caller (package
// license) verifies the signed lease and acts on its claims. What this
// package does decide is how to read a failure, because the two kinds must
// never be confused:
//
//   - Definitive answers: the control plane understood and said no —
//     [ErrUnknownLicense] (404 NOT_FOUND), [ErrBoundElsewhere] (409 CONFLICT),
//     [ErrRevoked] and [ErrSuspended] (403 with that code), and [ErrRejected]
//     for any other non-retryable 4xx and 501. [IsDefinitive] tells them
//     apart. A 404 or 409 without the control plane's error envelope (a proxy,
//     a wrong BaseURL) is only [ErrRejected].
//   - Transport failures, [ErrUnavailable]: network errors, timeouts, 408,
//     429, 5xx other than 501, redirects, and success bodies that are
//     oversized or malformed ([ErrBadResponse]). They never change a licence's
//     state by themselves; only the signed lease's expiry does that.
//
// Errors are *[Error] values carrying the status code, the server's code and
// message and any Retry-After, and they match their sentinel with errors.Is.
// Tokens are never logged or put into errors in full.
//
// # Requests
//
// Every request carries the caller's context and a timeout
// ([Client.Timeout], 15 s by default). The licence ID is path-escaped. Answer
// bodies are read up to a limit (64 KiB for success, 16 KiB for errors), a
// bounded remainder is drained, and the body is closed. The default HTTP
// client follows no redirects. An activation must carry an idempotency key
// ([NewIdempotencyKey]) that the caller persists before the first send, so
// that a retry after a crash does not bind the licence twice. The client
// itself never retries.
//
// # The loop
//
// [Loop.Run] blocks until its context is done. It attempts at once, then:
//
//   - after a success, it waits the interval the server asked for
//     (next_heartbeat_s), clamped to [MinInterval, MaxInterval], or Interval
//     when the server named none;
//   - after a transport failure, it backs off with jitter: a wait drawn from
//     [BackoffBase/2, min(BackoffMax, BackoffBase·2^(n-1))] after the n-th
//     consecutive failure;
//   - after a definitive answer, it reports it and keeps the normal Interval
//     (the control plane may restore or rebind the licence later); it never
//     retries such an answer quickly;
//   - a Retry-After (seconds or HTTP-date) on any failure is obeyed: the
//     wait is at least Retry-After, capped at MaxInterval.
//
// No wait exceeds MaxInterval. Each outcome goes to Loop.Handle on the loop's
// goroutine. [Loop.Kick] asks for an early attempt (for example after a new
// licence key arrived) within the same limits. When the context is done, Run
// abandons the request in flight and returns ctx.Err(); it starts no
// goroutine, so nothing outlives it.
package heartbeat

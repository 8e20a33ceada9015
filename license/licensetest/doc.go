// Package licensetest is a fake licence issuer for tests, in the spirit of
// [net/http/httptest]: everything a real control plane would sign — keys,
// licence tokens, leases and downloadable key files — made in memory, in
// one line, with every detail under the test's control.
//
// A test makes an [Issuer] with fresh keys, hands its public keys to the
// code under test, and mints whatever that code should see:
//
//	iss := licensetest.NewIssuer(t)                       // one fresh Ed25519 key
//	v := license.NewVerifier(iss.Keyring())               // or embed iss.JWKS() / iss.PEM()
//	lic, err := v.Verify(iss.Mint(licensetest.Capabilities("kyc:write")))
//	path := iss.WriteKeyFile(t, "")                       // a license.json in t.TempDir()
//
// Minted tokens are realistic by default (SPEC §3: EdDSA, kid = RFC 7638
// thumbprint, typ JWT, every required claim, a year of validity) and any
// part can be changed or broken: [Claim] and [Omit] set or delete any
// claim with any JSON value, [Header] and [OmitHeader] do the same for the
// protected header, and [Issuer.SignRaw] signs header and payload bytes
// exactly as given, for duplicate members, odd whitespace and other
// hostile input. [WithAlgorithms] makes several keys at once (any of EdDSA,
// ES256, ES384, RS256 and PS256) for rotation and algorithm tests.
//
// # A control plane in memory
//
// [NewControlPlane] adds the other half: the device calls of SPEC §6
// (activate, heartbeat, deactivate), answered with real leases signed by
// the issuer's key. It is an [http.RoundTripper] — configure the product
// with [ControlPlane.URL] and [ControlPlane.Client], and no socket is
// opened, so it runs inside a synctest bubble where fourteen days of
// heartbeats take milliseconds — and an [http.Handler] behind
// [ControlPlane.NewServer] when a real listener is wanted:
//
//	cp := licensetest.NewControlPlane(iss)
//	cfg := license.Config{ServerURL: cp.URL(), HTTPClient: cp.Client(), …}
//	cp.SetDown(true)                                       // an outage
//	cp.Fail(licensetest.Fault{Status: 503, RetryAfter: "120"})
//	cp.Suspend(id); cp.Restore(id); cp.Revoke(id); cp.Rebind(id, fpr)
//	cp.Received()                                          // what it saw
//
// It keeps the two rules products rely on, as a real control plane must.
// Lease order: a lease's iat is the clock in whole seconds and never goes
// back, and a lease whose status differs from the previous one's (a
// verdict) is issued at least one second after it, because products count
// a lease only if it is strictly newer than every one they accepted; two
// answers of one status in one second are harmless twins. Deactivation: a
// seat freed by the bound machine's own deactivate stays held for that
// machine until the exp of its newest lease ([ControlPlane.HeldUntil]),
// since it may keep running offline on it; other machines are refused with
// 409 until then, and [ControlPlane.Rebind] releases the seat at once.
//
// # Time
//
// There is no clock to inject. Every token is stamped with [time.Now] when
// it is minted, so inside a [testing/synctest] bubble the bubble's fake
// clock applies: mint, then advance time by sleeping, and the verifier —
// which also reads time.Now by default — sees the licence expire. Fixed
// instants are available with [IssuedAt], [ExpiresAt] and [NotBefore].
//
// # Failures
//
// As in httptest, helpers do not return errors: an impossible request (an
// unknown algorithm or kid, a claim value that cannot be encoded) fails the
// test with t.Fatalf, and messages start with "licensetest:". The [Issuer]
// keeps the t given to [NewIssuer] and reports through it, so mint from the
// goroutine of that test (or of a test it outlives), as testing requires
// for Fatalf. The package never prints.
//
// # Trust
//
// The private keys live only in the Issuer and in [Key.Signer]; [Issuer.JWKS]
// and [Issuer.PEM] hold public keys only. Nothing here is meant for
// production: keys are never persisted and nothing is rate-limited or
// audited.
package licensetest

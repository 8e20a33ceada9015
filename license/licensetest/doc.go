// Package licensetest is a fake licence issuer for tests, in the spirit of
// [net/http/httptest]: everything a real control plane would sign — keys,
// licence tokens, leases and downloadable key files — made in memory, in
// one line, with every detail under the test's control.
//
// A test makes an [Issuer] with fresh keys, hands its public keys to the
// code under test, and mints whatever that code should see:
//
//	iss := licensetest.NewIssuer(t, licensetest.IssuerName("acme")) // one fresh Ed25519 key
//	v := iss.Verifier()                                    // or embed iss.JWKS() / iss.PEM()
//	lic, err := v.Verify(iss.Mint(licensetest.Capabilities("kyc:write")))
//	path := iss.WriteKeyFile("")                           // a license.json in a temporary directory
//	iss.Configure(&cfg)                                    // a product's license.Config: Keys, and its Issuer checked
//
// Minted tokens are realistic by default (EdDSA, kid = the RFC 7638
// thumbprint of the key, typ JWT, every claim a product requires, a year of
// validity) and any part can be changed or broken: [Claim] and [Omit] set
// or delete any claim with any JSON value, [Header] and [OmitHeader] do the
// same for the protected header, and [Issuer.SignRaw] signs header and
// payload bytes exactly as given, for duplicate members, odd whitespace and
// other hostile input. [Algorithms] makes several keys at once (any of
// EdDSA, ES256, ES384, RS256 and PS256) for rotation and algorithm tests.
//
// # The issuer's name
//
// Tokens carry the Issuer's name as iss: [DefaultIssuerName]
// ("licensetest") unless [IssuerName] sets it. A product that sets
// license.Config.Issuer refuses every token of another name, and says only
// "issuer mismatch" — so give the Issuer the product's name, and let
// [Issuer.Configure] set up the product's Config: it fails the test at once,
// naming both names, when they differ.
//
// # One kind of t, and Examples
//
// Only [NewIssuer] takes a t, a [TB]: Helper, Fatalf, Cleanup and TempDir,
// which *testing.T, *testing.B and *testing.F have. Everything made from
// the Issuer reports through it: its key files go under its TempDir, its
// [ControlPlane] closes at its Cleanup. Code that has no test — an Example,
// a demo — passes a [Standalone] and closes it when done.
//
// Options are named for what they set, without a With prefix, whatever
// they configure: [Algorithms], [IssuerName] and [RSABits] for
// [NewIssuer]; [Subject], [Capabilities], [ExpiresIn] and the others for a
// token; [Tokens], [Primary], [FileField] and the others for a key file.
//
// # A control plane in memory
//
// [NewControlPlane] adds the other half: the reference control plane (the
// controlplane package's Server over its in-memory store), signing with the
// issuer's keys, which answers the device calls — activate, heartbeat,
// deactivate — exactly as a deployed one does. It knows every licence the
// issuer mints from then on, and any licence token of the issuer a device
// presents. It is an [http.RoundTripper] — [ControlPlane.Configure] points a
// product's Config at it, and no socket is opened, so it runs inside a
// synctest bubble where fourteen days of heartbeats take milliseconds —
// and an [http.Handler] behind [ControlPlane.NewServer] when a real
// listener is wanted:
//
//	cp := licensetest.NewControlPlane(iss)
//	cp.Configure(&cfg)                                     // ServerURL and HTTPClient
//	cp.SetDown(true)                                       // an outage
//	cp.Fail(licensetest.Fault{Status: 503, RetryAfter: "120"})
//	cp.Suspend(id); cp.Restore(id); cp.Revoke(id); cp.Rebind(id, fpr)
//	cp.Received()                                          // what it saw
//
// Outages and faults are the test's; everything else is the server's.
// Suspend, Restore, Revoke, Rebind, SetGrace, SetInterval and Forget are
// its admin API, called in memory with a super_admin key, so they follow
// its rules (revocation is final; grace stays longer than the heartbeat
// interval), and a change it refuses fails the test with its reason. The
// rules products rely on hold because the server keeps them: successive
// leases to one machine have strictly increasing iat, a verdict included,
// and each carries the nonce of the request it answers; a seat freed by the
// bound machine's own deactivate stays held for that machine until the
// newest lease it may hold has expired ([ControlPlane.HeldUntil]), since it
// may keep running offline on it, and [ControlPlane.Rebind] releases it at
// once.
//
// # Time
//
// There is no clock to inject. Every token is stamped with [time.Now] when
// it is minted, so inside a [testing/synctest] bubble the bubble's fake
// clock applies: mint, then advance time by sleeping, and the verifier —
// which also reads time.Now by default — sees the licence expire. Fixed
// instants are available with [IssuedAt], [ExpiresAt] and [NotBefore]. The
// ControlPlane's server reads time.Now too and starts no goroutine; make it
// inside the bubble that uses it.
//
// # Failures
//
// As in httptest, helpers do not return errors: an impossible request (an
// unknown algorithm or kid, a claim value that cannot be encoded) fails the
// test with t.Fatalf, and messages start with "licensetest:". The [Issuer]
// keeps the t given to [NewIssuer] and reports through it, so mint and
// drive its ControlPlane from the goroutine of that test (or of a test it
// outlives), as testing requires for Fatalf. What runs on the control
// plane's side of a request never fails the test: it answers, as a server
// does. The package never prints.
//
// # Trust
//
// The private keys live only in the Issuer and in [Key.Signer] (and,
// sealed, in a ControlPlane's memory); [Issuer.JWKS] and [Issuer.PEM] hold
// public keys only. Nothing here is meant for production: keys are never
// persisted, and the ControlPlane's rate limits are off.
package licensetest

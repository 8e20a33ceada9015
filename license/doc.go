// Package license decides, on the product's own machine and without a
// network, whether the product may run and with which capabilities.
//
// # Verifying licences offline
//
// A vendor signs licence tokens (compact JWS) with a control-plane
// key. The product embeds the vendor's public keys — typically with
// //go:embed — and turns them into a [Keyring] with [ParseKeyring]. A
// [Verifier] built by [NewVerifier] checks tokens against that keyring:
//
//	keys, err := license.ParseKeyring(embeddedJWKS)
//	v := license.NewVerifier(keys, license.WithIssuer("acme"))
//	kf, err := license.LoadKeyFile("license.json")
//	lic, err := v.VerifyKeyFile(kf)
//	if lic.Has("kyc:write") { … }
//
// # The trust model of verification
//
// Only the keyring is trusted. Everything in a token is hostile input until
// its signature verifies, and the token can never choose how it is checked:
//
//   - Each key is pinned to one algorithm when the keyring is built; the
//     alg header only has to agree with it. "none", HMAC and any algorithm
//     that does not fit the key are refused ([ErrAlgorithm]), so a public
//     key can never be used as an HMAC secret.
//   - The header may hold only alg, kid and typ. Keys or URLs inside a token
//     (jwk, jku, x5u, x5c) are refused, never followed; so are crit, zip and
//     every other member ([ErrMalformed]).
//   - The shape is checked before anything is decoded: at most 16 KiB, three
//     segments of the base64url alphabet, canonical base64, valid JSON
//     without duplicate members at any depth.
//   - Claims are typed strictly (see below); dates must be integers
//     before year 9999, with iat no later than exp. Identity is jti plus
//     iss, never the token's bytes (ECDSA signatures are malleable).
//   - Licence tokens and leases (typ "lease+jwt") are told apart by typ and
//     claims, so neither can stand in for the other.
//
// # The claims of a licence token
//
// A token without any of these claims, or with one of the wrong type or
// empty, is refused with [ErrClaims]:
//
//	claim  type                       what it is                                    License field
//	iss    string                     the vendor that issued the licence;           Issuer
//	                                  checked against Config.Issuer / WithIssuer
//	sub    string                     the subscription the licence belongs to       Subject
//	                                  (what a vendor's UI calls "issued to")
//	aud    string or array of strings the licence holder(s): a person, a company,   Audience
//	                                  an institute; checked against WithAudience
//	jti    string                     the licence id, e.g. "lic_…"; both tokens of  ID
//	                                  a key file carry the same one
//	iat    integer NumericDate        when the token was issued; not in the future  IssuedAt
//	exp    integer NumericDate        when the licence ends; no use after it        ExpiresAt
//	                                  (plus the leeway)
//	tid    string                     the tenant (the vendor's customer account)    TenantID
//
// These are optional; absent (or null) means "none", and a present one
// must have its type:
//
//	nbf           integer NumericDate  no use before it (minus the leeway)          NotBefore
//	tenant_ctry   string               the tenant's country, ISO 3166-1 alpha-2     TenantCountry
//	plan          string               "monthly", "yearly", "community" or          Plan
//	                                   "custom": informational, exp decides
//	slot          string               "primary" or "secondary": which key-file     Slot
//	                                   slot the token belongs in
//	capabilities  array of strings     what the licence grants ([License.Has],      Capabilities
//	                                   [Manager.Require]); none when absent
//	metadata      object of strings    free key/value data for the product          Metadata
//	fpr           string               the machine fingerprint the token is bound   Fingerprint
//	                                   to; elsewhere it fails with [ErrFingerprint]
//
// Other claims are ignored. A lease (typ "lease+jwt") has its own claims:
// iss, sub (the licence's jti), jti (the lease's id), iat, exp, fpr,
// status and nonce.
//
// # The manager
//
// [Open] ties the pieces together for a product binary: it loads and
// verifies the key file, computes this machine's fingerprint (package
// fingerprint), opens the grace state (package grace) and, when
// Config.ServerURL is set, runs the heartbeat loop (package heartbeat)
// that activates the licence on this machine and keeps a signed lease
// fresh. [Manager.Status] and [Manager.Require] read an atomically
// published snapshot: no lock, no I/O, no allocation — cheap enough for
// every request.
//
// States and transitions. Only active and grace allow use.
//
//	from         event                                           to
//	(start)      no key file, or it does not verify              unlicensed
//	(start)      key past exp (+ leeway)                          expired
//	(start)      offline mode, key verifies                      active
//	(start)      online, valid stored lease for this machine     active
//	(start)      online, no lease                                inactive
//	(start)      stored sticky revoke / clock-tamper fact        locked
//	inactive     activation succeeds                             active
//	inactive     activation refused: bound elsewhere (409)       inactive (ErrFingerprint)
//	inactive     primary refused as replaced (400 KEY_REPLACED)  inactive; asks again at once with the key file's secondary
//	any online   heartbeat succeeds, lease "active"              active
//	active       transport failure (network, timeout, 5xx, 429)  grace
//	grace        lease exp passes (deadline + 1 s)               locked (ErrGraceExpired)
//	locked       heartbeat succeeds, lease "active"              active
//	any online   lease "suspended" or 403 SUSPENDED              suspended (sticky on disk)
//	suspended    control plane restores: lease "active"          active
//	any online   lease "revoked" or 403 REVOKED                  locked (ErrRevoked, sticky on disk)
//	any online   heartbeat 409: rebound to another machine       inactive (ErrFingerprint; lease dropped)
//	any online   heartbeat 404: licence unknown                  inactive (ErrNotActivated; lease dropped)
//	any          clock below high-water mark − tolerance         locked (ErrClockTampered; sticky online)
//	online       clock ahead of the control plane by > a lease   locked (ErrClockTampered) until corrected
//	online       clock behind the control plane by > 12 hours    locked (ErrClockTampered) until corrected
//	any online   a lease not newer (by iat) than one accepted    nothing changes (a replay, a twin)
//	any          licence exp passes (on the later of the clock   expired
//	             and its high-water mark)
//
// At run time the key can change: [Manager.Activate] installs a licence
// token (verified exactly like a key file's, kept beside the grace state
// so that it survives a restart, and online activated with the control
// plane), [Manager.Deactivate] removes it (online, releasing this
// machine's binding first), and a key file replaced in place — a renewed
// licence.json dropped over the old one — is picked up within
// [KeyFileCheckInterval], or at once by [Manager.Reload]. The grace state
// belongs to the licence, not to the key: installing a key of a licence
// again, or a renewal of it, never clears what was recorded of it
// (revoked, clock set back, the clock's high-water mark).
// [Manager.Fingerprint] is this machine's fingerprint, to quote to the
// vendor; package licensehttp serves all of this over HTTP.
//
//	from         event                                           to
//	unlicensed   Activate with a key that verifies               inactive, then as the control plane answers
//	                                                             (offline: active)
//	any          Deactivate                                      unlicensed (also after a restart)
//	any          key file replaced by one that verifies          as for that key: the same licence keeps
//	                                                             its state, another starts over with its own
//
// # Field operations
//
// Air-gapped machines activate by hand: [Manager.OfflineRequest] writes a
// request (its nonce is kept in the licence's state as the pending one),
// the vendor turns it into a response, and [Manager.ImportOffline] (or
// Config.OfflineResponse, at every start) imports it after checking every
// byte ([ParseOfflineResponse]), the licence, this machine's exact
// fingerprint, the offline flag and the pending nonce. The lease then
// rules as online: active until its exp, locked after, under every clock
// rule. Config.OfflineActivation makes such a product inactive until then.
//
//	from         event                                           to
//	inactive     offline response imported (OfflineActivation)   active, no heartbeat
//	active       offline lease exp passes                        locked (ErrGraceExpired)
//
// Keys follow the licence: an answer may carry license_key, the current
// token of a slot reset or renewed since; it is accepted only for the
// same licence and holder claims and a newer iat ([ErrLicenseKey]),
// kept in the licence's state (the customer's key file is never
// rewritten) and presented from then on. [Manager.UpdateKey] does the
// same by hand. A machine the licence is not bound to gets no key: its
// replaced primary is refused (heartbeat.ErrKeyReplaced), and the manager
// then presents the key file's secondary, as the two slots are meant for
// (one key reset while the other keeps the product running).
//
// Signing keys roll over: an answer may carry a keyset statement (typ
// keyset+jwt, see [Verifier.VerifyKeyset]) signed by a key the product
// already trusts; its keys are added to the keyring — none is ever
// removed, at most [MaxLearntKeys] learnt — and the statement is kept in
// the state directory and verified again at every start from
// Config.Keys. [Manager.ImportKeyset] does the same by hand.
//
// Transport failures never take use away by themselves: only the passing
// of the signed lease's exp does. Definitive answers act at once. What the
// manager decides is written to the grace state; when a write fails (a
// full or read-only disk) the decision stands in memory and the write is
// retried, and the state file never overrides what the process knows —
// except for what another instance of the product stored: a fresher
// lease, which is adopted, or a refusal it heard (see grace.State.Floor),
// which overrides any lease issued before it, so an answer overtaken on
// the way cannot undo it.
// Config.OnChange hears of transitions only, not of every beat.
//
// Every refusal wraps exactly one sentinel error ([ErrMalformed],
// [ErrSignature], [ErrExpired], …); [Code] gives its stable machine code.
// Error messages quote at most a short, escaped prefix of untrusted text and
// never a whole token.
package license

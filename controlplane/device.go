package controlplane

import (
	"errors"
	"math"
	"net/http"
	"time"

	"github.com/licensekit/licensekit/fingerprint"
	"github.com/licensekit/licensekit/internal/strictjson"
	"github.com/licensekit/licensekit/license"
	"github.com/licensekit/licensekit/license/mint"
)

// deviceRequest is the body of activate, heartbeat and deactivate.
type deviceRequest struct {
	token, fingerprint, idempotencyKey string
	nonce                              string    // signed into the answering lease
	slot                               string    // the slot claim of the verified token
	issuedAt                           time.Time // and its iat
}

// readDevice reads a device call's body: at most 64 KiB of JSON with the
// members token, fingerprint, nonce and (activate) idempotency_key,
// nothing else.
func readDevice(w http.ResponseWriter, r *http.Request) (deviceRequest, error) {
	var q deviceRequest
	data, err := readBody(w, r, maxDeviceBody)
	if err != nil {
		return q, err
	}
	rd := strictjson.NewReader(data)
	if rd.Peek() != strictjson.Object {
		return q, validationf("the request body must be a JSON object")
	}
	err = rd.Object(func(name string) error {
		var err error
		switch name {
		case "token":
			q.token, err = rd.String()
		case "fingerprint":
			q.fingerprint, err = rd.String()
		case "idempotency_key":
			q.idempotencyKey, err = rd.String()
		case "nonce":
			q.nonce, err = rd.String()
		default:
			return validationf("unknown member %q", clip(name, 40))
		}
		return err
	})
	if err == nil {
		err = rd.End()
	}
	var ae *apiError
	if errors.As(err, &ae) {
		return q, ae
	}
	if err != nil {
		return q, validationf("invalid JSON: %s", clip(err.Error(), 120))
	}
	if h := r.Header.Get("Idempotency-Key"); h != "" {
		if q.idempotencyKey != "" && q.idempotencyKey != h {
			return q, validationf("idempotency_key and the Idempotency-Key header differ")
		}
		q.idempotencyKey = h
	}
	switch {
	case q.token == "" || q.fingerprint == "":
		return q, validationf("token and fingerprint are required")
	case len(q.token) > license.MaxTokenSize:
		return q, validationf("token over %d bytes", license.MaxTokenSize)
	case !visibleASCII(q.fingerprint, maxFingerprint):
		return q, validationf("fingerprint must be 1 to %d visible ASCII characters", maxFingerprint)
	case q.idempotencyKey != "" && !visibleASCII(q.idempotencyKey, 255):
		return q, validationf("idempotency key must be 1 to 255 visible ASCII characters")
	case q.nonce != "" && !visibleASCII(q.nonce, maxNonce):
		return q, validationf("nonce must be 1 to %d visible ASCII characters", maxNonce)
	}
	return q, nil
}

// deviceStart reads and checks a device call: the body, and a token that
// verifies against the published keys and names the path's licence. Only
// then is the call counted against the licence's rate limit. A call
// without such a token costs a signature check and no store read.
func (s *Server) deviceStart(w http.ResponseWriter, r *http.Request) (deviceRequest, *signingState, error) {
	q, err := readDevice(w, r)
	if err != nil {
		return q, nil, err
	}
	st, err := s.currentSigning(r.Context())
	if err != nil {
		return q, nil, err
	}
	lic, err := st.verify(q.token, s.now())
	if err != nil {
		return q, nil, validationf("invalid licence token: %s", license.Code(err))
	}
	if lic.ID != r.PathValue("id") {
		return q, nil, validationf("the token is for another licence")
	}
	if err := s.device.allow(lic.ID, s.now()); err != nil {
		return q, nil, err
	}
	q.slot, q.issuedAt = lic.Slot, lic.IssuedAt
	return q, st, nil
}

// sameMachine reports whether a sent fingerprint is the recorded one: equal,
// or a tolerant match (one non-essential component changed).
func sameMachine(sent, recorded string) bool {
	if sent == recorded {
		return true
	}
	fp, err := fingerprint.Parse(sent)
	return err == nil && fp.Matches(recorded)
}

// findBinding returns the index of the binding of fp that is not released,
// and of a released one, or -1.
func findBinding(l *License, fp string) (live, released int) {
	live, released = -1, -1
	for i, m := range l.Machines {
		if !sameMachine(fp, m.Fingerprint) {
			continue
		}
		if m.ReleasedAt.IsZero() {
			if live < 0 {
				live = i
			}
		} else if released < 0 {
			released = i
		}
	}
	return live, released
}

// seatHeld reports whether a binding takes one of max_machines at now: a
// live binding does; a released one until the newest lease it was given
// runs out, because that lease still lets it run offline — up to and
// including its exp, the last instant a product accepts it.
func seatHeld(m Machine, now time.Time) bool {
	return m.ReleasedAt.IsZero() || !now.After(m.LeaseExpiresAt)
}

// maxLeaseAhead bounds how far past the server's time a lease's iat may
// be pushed to keep successive leases to one machine strictly ordered.
// Otherwise a loop of heartbeats would push iat, and with it the lease's
// exp, ever further into the future, stretching how long the machine may
// run offline. A machine asking faster than that gets its newest lease
// again (signed anew, the same claims), or 429 when that lease no longer
// says what a new one would (its status changed).
const maxLeaseAhead = 10 * time.Second

// nextLeaseTimes gives a new lease to a binding whose newest lease had iat
// prev: iat = max(now, prev + 1 s), so successive leases to one machine
// are strictly ordered, but never more than maxLeaseAhead past now. exp is
// the clock's second plus grace, never moved by that bump: a machine that
// asks often gains no offline time by it.
func nextLeaseTimes(now, prev time.Time, grace time.Duration) (iat, exp time.Time, err error) {
	sec := now.UTC().Truncate(time.Second)
	iat = sec
	if !prev.IsZero() && !iat.After(prev) {
		iat = prev.UTC().Truncate(time.Second).Add(time.Second)
	}
	if ahead := iat.Sub(now); ahead > maxLeaseAhead {
		return time.Time{}, time.Time{}, tooMany(int(math.Ceil((ahead - maxLeaseAhead).Seconds())))
	}
	return iat, sec.Add(grace), nil
}

// binding is where an activation left a machine on a licence.
type binding struct {
	idx     int    // index in Machines
	fresh   bool   // a new binding: it has had no lease
	changed bool   // a new or rebound binding, which is audited
	note    string // for the audit: "rebound after release" or ""
}

// bindMachine binds fp to l for an activation at now: the machine bound
// already keeps its binding, a released one is rebound, and a new one
// takes a free seat — released seats whose lease ran out are freed first —
// or is refused with 409 when none is free. An idempotency key another
// machine used is 409.
func bindMachine(l *License, fp, idemKey string, now time.Time) (binding, error) {
	if idemKey != "" {
		for _, m := range l.Machines {
			if m.IdempotencyKey == idemKey && !sameMachine(fp, m.Fingerprint) {
				return binding{}, conflictf("Idempotency key was used by another machine")
			}
		}
	}
	live, released := findBinding(l, fp)
	switch {
	case live >= 0:
		if m := &l.Machines[live]; m.Fingerprint != fp {
			// A tolerated hardware change: the binding follows the machine,
			// so that changes one at a time never add up to a mismatch.
			m.Fingerprint = fp
			return binding{idx: live, changed: true, note: "fingerprint follows a tolerated hardware change"}, nil
		}
		return binding{idx: live}, nil
	case released >= 0:
		m := &l.Machines[released]
		m.ReleasedAt, m.ActivatedAt, m.IdempotencyKey = time.Time{}, now, idemKey
		return binding{idx: released, changed: true, note: "rebound after release"}, nil
	}
	kept := l.Machines[:0]
	for _, m := range l.Machines {
		if seatHeld(m, now) {
			kept = append(kept, m) // a released seat whose lease ran out is free
		}
	}
	l.Machines = kept
	if len(kept) >= l.MaxMachines {
		return binding{}, conflictf("License is bound to another machine")
	}
	l.Machines = append(l.Machines, Machine{Fingerprint: fp, ActivatedAt: now, IdempotencyKey: idemKey})
	return binding{idx: len(l.Machines) - 1, fresh: true, changed: true}, nil
}

// heldUntil is the LeaseExpiresAt a binding keeps when it is given a lease
// ending at exp: exp, except for a binding given an offline lease, which
// the machine may still hold — its seat stays held until the later of the
// two.
func heldUntil(m Machine, exp time.Time) time.Time {
	if m.Offline && m.LeaseExpiresAt.After(exp) {
		return m.LeaseExpiresAt
	}
	return exp
}

// bumped reports whether a lease's iat lies past the second of now: such a
// lease was pushed ahead by earlier ones, so its bookkeeping is written
// before it is answered. A lease whose bookkeeping a crash may lose thus
// always has an iat no later than the second it was issued in.
func bumped(iat, now time.Time) bool { return iat.After(now.UTC().Truncate(time.Second)) }

// leasePrev is the iat a binding's next lease must follow: the newest one
// stored or issued by this process. For a binding this process has not
// leased yet, that includes the second the Server started in: a process
// before it may have issued a lease in that second whose bookkeeping it
// never wrote.
func (s *Server) leasePrev(licenseID, fp string, stored time.Time) time.Time {
	prev := stored
	recent := s.beats.lastLease(licenseID, fp)
	if recent.After(prev) {
		prev = recent
	}
	if recent.IsZero() && s.started.After(prev) {
		prev = s.started
	}
	return prev
}

// leaseAnswer is the success answer of activate and heartbeat.
type leaseAnswer struct {
	Status         string `json:"status"`
	Lease          string `json:"lease"`
	NextHeartbeatS int64  `json:"next_heartbeat_s"`
	ServerTime     string `json:"server_time"`
	LicenseKey     string `json:"license_key,omitempty"` // the current key, to a bound machine that presented a replaced one
	Keyset         string `json:"keyset,omitempty"`      // the newest keyset statement
}

// followingKey is the key a bound machine that presented a key of slot
// issued at iat, not the slot's current one, is handed: that slot's
// current token — when it is newer than the one presented, since a reset
// or a renewal always issues later than the key it replaces — or, when the
// slot holds no token any more, the other slot's. Otherwise the presented
// key is not one that was replaced, and "" is returned.
func followingKey(l *License, slot string, iat time.Time) string {
	own, other := l.Primary, l.Secondary
	if slot == SlotSecondary {
		own, other = other, own
	}
	switch {
	case own == "":
		return other
	case iat.Before(tokenIssuedAt(own)):
		return own
	}
	return ""
}

// maxNonce is the longest request nonce a device may send.
const maxNonce = 64

// writeLease signs the lease m describes, with the nonce of the request it
// answers, and writes the answer with the keyset statement and, when not
// empty, the licence key the machine is to use from now on.
func (s *Server) writeLease(w http.ResponseWriter, st *signingState, licenseID string, m leaseMark, nonce string, interval time.Duration, key string) error {
	lease, err := st.signer.Lease(mint.Lease{ID: m.id, LicenseID: licenseID, Fingerprint: m.fpr, Status: m.status,
		IssuedAt: m.iat, ExpiresAt: m.exp, Nonce: nonce})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, leaseAnswer{Status: m.status, Lease: lease,
		NextHeartbeatS: int64(interval / time.Second), ServerTime: s.now().UTC().Format(time.RFC3339),
		LicenseKey: key, Keyset: st.keyset})
	return nil
}

// leaseStatus is the status a lease of a licence in status carries.
func leaseStatus(status string) string {
	switch status {
	case StatusRevoked:
		return license.LeaseRevoked
	case StatusSuspended:
		return license.LeaseSuspended
	}
	return license.LeaseActive
}

// activate binds the licence to the machine (up to max_machines) and
// returns its first lease. The same machine activating again gets the same
// binding and a fresh lease.
func (s *Server) activate(w http.ResponseWriter, r *http.Request, p *principal) error {
	q, st, err := s.deviceStart(w, r)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	set, err := s.loadSettings(r.Context(), false)
	if err != nil {
		return err
	}
	unlock := s.lockLicense(id)
	defer unlock()
	var iat, exp time.Time
	var fp, key string
	l, err := s.updateLicense(r, id, func(l *License, now time.Time) ([]Event, error) {
		if l.Status == StatusDeleted {
			return nil, notFound("License")
		}
		slot := currentSlot(l, q.token)
		key = ""
		if slot == "" {
			// A replaced key activates only a machine bound already,
			// which is handed the current key with its lease.
			if live, _ := findBinding(l, q.fingerprint); live >= 0 {
				key = followingKey(l, q.slot, q.issuedAt)
			}
			if key == "" {
				return nil, errKeyReplaced
			}
		}
		switch {
		case l.Status == StatusRevoked:
			return nil, newError(http.StatusForbidden, CodeRevoked, "License revoked")
		case l.Status == StatusSuspended:
			return nil, newError(http.StatusForbidden, CodeSuspended, "License suspended")
		case l.Status == StatusExpired || !now.Before(l.ExpiresAt):
			return nil, validationf("License expired")
		}
		var events []Event
		b, err := bindMachine(l, q.fingerprint, q.idempotencyKey, now)
		if err != nil {
			return nil, err
		}
		idx := b.idx
		if b.changed {
			events = append(events, s.deviceEvent(r, "license.activate", l, q.fingerprint, b.note))
		}
		m := &l.Machines[idx]
		var prev time.Time // a new binding has had no lease
		if !b.fresh {
			prev = s.leasePrev(l.ID, m.Fingerprint, m.LeaseIssuedAt)
		}
		if iat, exp, err = nextLeaseTimes(now, prev, set.graceFor(l)); err != nil {
			return nil, err
		}
		interval := set.intervalFor(l)
		m.LastHeartbeatAt, m.DueAt = now, now.Add(interval+margin(interval))
		m.LeaseIssuedAt, m.LeaseExpiresAt, m.Dead = iat, heldUntil(*m, exp), false
		m.KeySlot, m.KeyDigest = slot, tokenDigest(q.token)
		fp = m.Fingerprint
		return events, nil
	})
	if err != nil {
		return err
	}
	mark := leaseMark{id: mint.NewID(mint.LeaseIDPrefix), fpr: q.fingerprint, status: license.LeaseActive, iat: iat, exp: exp}
	s.beats.rememberLease(id, fp, mark)
	return s.writeLease(w, st, id, mark, q.nonce, set.intervalFor(&l), key)
}

func (s *Server) deviceEvent(r *http.Request, action string, l *License, fp, note string) Event {
	d := map[string]string{"fingerprint": fingerprintPrefix(fp)}
	if note != "" {
		d["note"] = note
	}
	return Event{Time: s.now(), Actor: "device", Action: action, Target: l.ID, TenantID: l.TenantID,
		RequestID: requestID(r), Details: d}
}

// heartbeat answers a bound machine with a fresh lease carrying the
// licence's status; its bookkeeping is written behind.
func (s *Server) heartbeat(w http.ResponseWriter, r *http.Request, p *principal) error {
	q, st, err := s.deviceStart(w, r)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	set, err := s.loadSettings(r.Context(), false)
	if err != nil {
		return err
	}
	unlock := s.lockLicense(id)
	defer unlock()
	l, err := s.licenseForBeat(r.Context(), id)
	if err != nil {
		return storeError(err, "License")
	}
	now := s.now()
	if l.Status == StatusDeleted {
		return notFound("License")
	}
	s.beats.overlay(&l)
	live, _ := findBinding(&l, q.fingerprint)
	if live < 0 {
		return conflictf("License is not bound to this machine")
	}
	if l.Status == StatusExpired || !now.Before(l.ExpiresAt) {
		return validationf("License expired")
	}
	m := l.Machines[live]
	prev := s.leasePrev(id, m.Fingerprint, m.LeaseIssuedAt)
	if m.Fingerprint != q.fingerprint {
		if m, err = s.followFingerprint(r, &l, m, q.fingerprint); err != nil {
			return err
		}
	}
	var key string // a bound machine with a replaced key is handed the current one
	if currentSlot(&l, q.token) == "" {
		key = followingKey(&l, q.slot, q.issuedAt)
	}
	interval := set.intervalFor(&l)
	status := leaseStatus(l.Status)
	if p := s.leasePrev(id, m.Fingerprint, m.LeaseIssuedAt); p.After(prev) {
		prev = p
	}
	iat, exp, err := nextLeaseTimes(now, prev, set.graceFor(&l))
	if err != nil {
		// Asked again faster than iat may advance: the newest lease,
		// signed again, if it still says what a new one would.
		if nl, ok := s.beats.newestLease(id, m.Fingerprint); ok && nl.iat.Equal(prev) && nl.status == status && nl.fpr == q.fingerprint {
			return s.writeLease(w, st, id, nl, q.nonce, interval, key)
		}
		return err
	}
	// A replaced key still beats for a bound machine: the binding, not the
	// key, is what the heartbeat proves.
	beat := Beat{LicenseID: id, Fingerprint: m.Fingerprint, At: now.UTC(), DueAt: now.Add(interval + margin(interval)).UTC(),
		LeaseIssuedAt: iat, LeaseExpiresAt: heldUntil(m, exp), KeySlot: currentSlot(&l, q.token), KeyDigest: tokenDigest(q.token)}
	if bumped(iat, now) {
		if err := s.writeBeat(r, beat); err != nil {
			return err
		}
	}
	s.beats.add(beat)
	mark := leaseMark{id: mint.NewID(mint.LeaseIDPrefix), fpr: q.fingerprint, status: status, iat: iat, exp: exp}
	s.beats.rememberLease(id, m.Fingerprint, mark)
	return s.writeLease(w, st, id, mark, q.nonce, interval, key)
}

// followFingerprint records that the bound machine cur now sends the
// fingerprint sent, which matches it within the tolerated change of one
// component (a NIC or RAM swap): the binding takes the new fingerprint, as
// a state change written before the answer, so that a second change later
// is measured from this one and changes never add up to a mismatch.
// cur carries the bookkeeping not yet written behind, which moves with it.
func (s *Server) followFingerprint(r *http.Request, l *License, cur Machine, sent string) (Machine, error) {
	var moved Machine
	nl, err := s.updateLicense(r, l.ID, func(l *License, now time.Time) ([]Event, error) {
		for i := range l.Machines {
			if m := &l.Machines[i]; m.Fingerprint == cur.Fingerprint && m.ReleasedAt.IsZero() {
				if cur.LastHeartbeatAt.After(m.LastHeartbeatAt) {
					m.LastHeartbeatAt, m.DueAt = cur.LastHeartbeatAt, cur.DueAt
				}
				if cur.LeaseIssuedAt.After(m.LeaseIssuedAt) {
					m.LeaseIssuedAt = cur.LeaseIssuedAt
				}
				if cur.LeaseExpiresAt.After(m.LeaseExpiresAt) {
					m.LeaseExpiresAt = cur.LeaseExpiresAt
				}
				m.Fingerprint = sent
				moved = *m
				return []Event{s.deviceEvent(r, "license.activate", l, sent, "fingerprint follows a tolerated hardware change")}, nil
			}
		}
		return nil, conflictf("License is not bound to this machine")
	})
	if err != nil {
		return Machine{}, err
	}
	*l = nl
	return moved, nil
}

// writeBeat stores one beat's bookkeeping before it is answered.
func (s *Server) writeBeat(r *http.Request, beat Beat) error {
	_, err := s.updateLicense(r, beat.LicenseID, func(l *License, now time.Time) ([]Event, error) {
		for i := range l.Machines {
			if m := &l.Machines[i]; m.Fingerprint == beat.Fingerprint && m.ReleasedAt.IsZero() {
				applyBeat(m, beat)
				return nil, nil
			}
		}
		return nil, conflictf("License is not bound to this machine")
	})
	return err
}

// deactivate releases the machine's binding. Its seat stays held until the
// newest lease issued to it runs out, unless an admin rebinds.
func (s *Server) deactivate(w http.ResponseWriter, r *http.Request, p *principal) error {
	q, _, err := s.deviceStart(w, r)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	set, err := s.loadSettings(r.Context(), false)
	if err != nil {
		return err
	}
	unlock := s.lockLicense(id)
	defer unlock()
	var until time.Time
	_, err = s.updateLicense(r, id, func(l *License, now time.Time) ([]Event, error) {
		if l.Status == StatusDeleted {
			return nil, notFound("License")
		}
		live, _ := findBinding(l, q.fingerprint)
		if live < 0 {
			return nil, conflictf("License is not bound to this machine")
		}
		m := &l.Machines[live]
		m.ReleasedAt = now
		// The newest lease this machine holds may be one whose bookkeeping
		// this process never saw (buffered in another process, or lost in
		// a crash); any such lease was issued no later than this second,
		// so it runs out by now + grace at the latest.
		if bound := now.UTC().Truncate(time.Second).Add(set.graceFor(l)); bound.After(m.LeaseExpiresAt) {
			m.LeaseExpiresAt = bound
		}
		until = m.LeaseExpiresAt
		return []Event{s.deviceEvent(r, "license.deactivate", l, q.fingerprint, "")}, nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "seat_held_until": formatTime(until)})
	return nil
}

// Interop fixtures for license/interop_test.go, minted with panva/jose, an
// independent JOSE implementation. See README.md in this directory.
//
//   node generate.mjs OUTDIR
//
// writes OUTDIR/jwks.json, OUTDIR/keys.pem and OUTDIR/tokens.json. Every run
// makes fresh keys (and ECDSA/PSS signatures are randomised), so the output
// is committed once and never regenerated in CI.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import {
  generateKeyPair, exportJWK, exportSPKI, calculateJwkThumbprint,
  SignJWT, UnsecuredJWT, FlattenedSign, GeneralSign, CompactSign,
} from 'jose';

const out = process.argv[2];
if (!out) {
  console.error('usage: node generate.mjs OUTDIR');
  process.exit(2);
}
mkdirSync(out, { recursive: true });

const require = createRequire(import.meta.url);
const joseVersion = JSON.parse(readFileSync(require.resolve('jose/package.json'), 'utf8')).version;

const ALGS = ['EdDSA', 'ES256', 'ES384', 'RS256', 'PS256'];
const IAT = 1795392000; // 2026-11-23T00:00:00Z
const EXP = 4102444800; // 2100-01-01T00:00:00Z
const ISS = 'interop-vendor';
const enc = new TextEncoder();

async function makeKey(alg) {
  const opts = { extractable: true };
  if (alg.startsWith('RS') || alg.startsWith('PS')) opts.modulusLength = 2048;
  if (alg === 'EdDSA') opts.crv = 'Ed25519';
  const { publicKey, privateKey } = await generateKeyPair(alg, opts);
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk, 'sha256');
  return {
    alg, kid, privateKey, publicKey,
    jwk: { ...jwk, kid, alg, use: 'sig' },
    spki: await exportSPKI(publicKey),
  };
}

const keys = {};
const foreign = {}; // same algorithms, never in any keyring
for (const alg of ALGS) {
  keys[alg] = await makeKey(alg);
  foreign[alg] = await makeKey(alg);
}

writeFileSync(path.join(out, 'jwks.json'),
  JSON.stringify({ keys: ALGS.map((a) => keys[a].jwk) }, null, 2) + '\n');
writeFileSync(path.join(out, 'keys.pem'), ALGS.map((a) => keys[a].spki.trim() + '\n').join(''));

// ---- claims ----------------------------------------------------------------

function licenceClaims(alg, over = {}) {
  return {
    tid: 'ten_interop',
    tenant_ctry: 'DE',
    plan: 'yearly',
    capabilities: ['kyc:read', 'kyc:write'],
    metadata: { seats: '25' },
    ...over,
  };
}

// expect() describes what the verifier must map, from the same inputs.
function expectLicence({ jti, sub, aud, nbf = 0, iat = IAT, exp = EXP, extra = {} }) {
  return {
    jti, iss: ISS, sub, aud: Array.isArray(aud) ? aud : [aud], tid: 'ten_interop',
    tenant_ctry: 'DE', plan: 'yearly', capabilities: ['kyc:read', 'kyc:write'],
    metadata: { seats: '25' }, fpr: '', iat, nbf, exp, ...extra,
  };
}

async function licence(alg, {
  key = keys[alg].privateKey, header, jti, sub = 'sub_interop', aud = 'Acme Health GmbH',
  iat = IAT, exp = EXP, nbf, iss = ISS, claims = {},
} = {}) {
  const h = header ?? { alg, kid: keys[alg].kid, typ: 'JWT' };
  let b = new SignJWT(licenceClaims(alg, claims)).setProtectedHeader(h)
    .setIssuer(iss).setSubject(sub).setAudience(aud).setJti(jti);
  if (iat !== null) b = b.setIssuedAt(iat);
  if (exp !== null) b = b.setExpirationTime(exp);
  if (nbf !== undefined) b = b.setNotBefore(nbf);
  return b.sign(key);
}

async function lease(alg, { jti, sub, status = 'active', fpr = 'fp1.test', iat = IAT, exp = IAT + 1209600, header } = {}) {
  const claims = { status };
  if (fpr !== null) claims.fpr = fpr;
  return new SignJWT(claims)
    .setProtectedHeader(header ?? { alg, kid: keys[alg].kid, typ: 'lease+jwt' })
    .setIssuer(ISS).setSubject(sub).setJti(jti).setIssuedAt(iat).setExpirationTime(exp)
    .sign(keys[alg].privateKey);
}

// compact signs raw payload bytes with jose's CompactSign (for payloads that
// SignJWT would not write, such as duplicate members).
async function compact(alg, payload, header) {
  return new CompactSign(typeof payload === 'string' ? enc.encode(payload) : payload)
    .setProtectedHeader(header ?? { alg, kid: keys[alg].kid, typ: 'JWT' })
    .sign(keys[alg].privateKey);
}

const cases = [];
const add = (c) => cases.push({ want: '', ...c });

// ---- accepted: licence tokens, every alg, JWKS and PEM, aud string and array

for (const alg of ALGS) {
  for (const ring of ['jwks', 'pem', 'jwks-nokid']) {
    for (const audForm of ['string', 'array']) {
      const aud = audForm === 'string' ? 'Acme Health GmbH' : ['Acme Health GmbH', 'Acme Research Institute'];
      const jti = `lic_${alg}_${ring}_${audForm}`;
      const sub = `sub_${alg}`;
      // A divergence our format asks for: a PEM RSA key carries no alg and is
      // pinned to RS256, so a PS256 token cannot verify against it.
      const want = ring === 'pem' && alg === 'PS256' ? 'BAD_ALGORITHM' : '';
      add({
        name: `licence/${alg}/${ring}/aud-${audForm}`, kind: 'license', keyring: ring, want,
        token: await licence(alg, { jti, sub, aud }),
        expect: want ? undefined : expectLicence({ jti, sub, aud }),
      });
    }
  }
  // nbf in the past; no typ; no kid against a single-key keyring; typ in lower case.
  add({
    name: `licence/${alg}/nbf`, kind: 'license', keyring: 'jwks',
    token: await licence(alg, { jti: `lic_${alg}_nbf`, sub: 'sub_nbf', nbf: IAT }),
    expect: expectLicence({ jti: `lic_${alg}_nbf`, sub: 'sub_nbf', aud: 'Acme Health GmbH', nbf: IAT }),
  });
  add({
    name: `licence/${alg}/no-typ`, kind: 'license', keyring: 'jwks',
    token: await licence(alg, { jti: `lic_${alg}_notyp`, header: { alg, kid: keys[alg].kid } }),
    expect: expectLicence({ jti: `lic_${alg}_notyp`, sub: 'sub_interop', aud: 'Acme Health GmbH' }),
  });
  add({
    name: `licence/${alg}/no-kid`, kind: 'license', keyring: `single-${alg}`,
    token: await licence(alg, { jti: `lic_${alg}_nokid`, header: { alg, typ: 'JWT' } }),
    expect: expectLicence({ jti: `lic_${alg}_nokid`, sub: 'sub_interop', aud: 'Acme Health GmbH' }),
  });
  add({
    name: `lease/${alg}`, kind: 'lease', keyring: 'jwks',
    token: await lease(alg, { jti: `lea_${alg}`, sub: `lic_${alg}` }),
    expect: { jti: `lea_${alg}`, sub: `lic_${alg}`, iss: ISS, fpr: 'fp1.test', status: 'active', iat: IAT, exp: IAT + 1209600 },
  });
  add({
    name: `lease/${alg}/pem`, kind: 'lease', keyring: 'pem',
    want: alg === 'PS256' ? 'BAD_ALGORITHM' : '',
    token: await lease(alg, { jti: `lea_${alg}_pem`, sub: `lic_${alg}` }),
    expect: alg === 'PS256' ? undefined
      : { jti: `lea_${alg}_pem`, sub: `lic_${alg}`, iss: ISS, fpr: 'fp1.test', status: 'active', iat: IAT, exp: IAT + 1209600 },
  });
  // A key file with both slots.
  const aud = 'Acme Health GmbH';
  const kf = {
    format: 'licensekit.keyfile/v1', aud, sub: `sub_kf_${alg}`, tid: 'ten_interop', tenant_ctry: 'DE',
    primary: await licence(alg, { jti: `lic_kf_${alg}_1`, sub: `sub_kf_${alg}`, aud, claims: { slot: 'primary' } }),
    secondary: await licence(alg, { jti: `lic_kf_${alg}_2`, sub: `sub_kf_${alg}`, aud, claims: { slot: 'secondary' } }),
  };
  add({
    name: `keyfile/${alg}`, kind: 'keyfile', keyring: 'jwks', keyfile: JSON.stringify(kf, null, 2),
    expect: { slot: 'primary', ...expectLicence({ jti: `lic_kf_${alg}_1`, sub: `sub_kf_${alg}`, aud }) },
  });
  add({
    name: `keyfile/${alg}/pem`, kind: 'keyfile', keyring: 'pem', keyfile: JSON.stringify(kf, null, 2),
    want: alg === 'PS256' ? 'BAD_ALGORITHM' : '',
    expect: alg === 'PS256' ? undefined
      : { slot: 'primary', ...expectLicence({ jti: `lic_kf_${alg}_1`, sub: `sub_kf_${alg}`, aud }) },
  });
}

// ---- accepted: other legitimate shapes -------------------------------------

add({
  name: 'licence/EdDSA/typ-lowercase', kind: 'license', keyring: 'jwks',
  token: await licence('EdDSA', { jti: 'lic_lctyp', header: { alg: 'EdDSA', kid: keys.EdDSA.kid, typ: 'jwt' } }),
  expect: expectLicence({ jti: 'lic_lctyp', sub: 'sub_interop', aud: 'Acme Health GmbH' }),
});
add({
  name: 'licence/ES256/unicode-and-fpr', kind: 'license', keyring: 'jwks',
  token: await licence('ES256', {
    jti: 'lic_unicode', sub: 'sub_ü', aud: ['Zürcher Kantonalbank — Ärzte 🩺', 'a"b\\c'],
    claims: { metadata: { seats: '25', 'ünï': 'çødé 🔑', esc: 'line\nbreak\t"q"' }, fpr: 'fp1.test', extra_claim: { nested: [1, 2, null] } },
  }),
  expect: expectLicence({
    jti: 'lic_unicode', sub: 'sub_ü', aud: ['Zürcher Kantonalbank — Ärzte 🩺', 'a"b\\c'],
    extra: { metadata: { seats: '25', 'ünï': 'çødé 🔑', esc: 'line\nbreak\t"q"' }, fpr: 'fp1.test' },
  }),
});
{
  const claims = {
    iss: ISS, sub: 'sub_ws', aud: 'Acme Health GmbH', jti: 'lic_ws', iat: IAT, exp: EXP,
    ...licenceClaims('RS256'),
  };
  add({
    name: 'licence/RS256/compactsign-whitespace-json', kind: 'license', keyring: 'jwks',
    token: await compact('RS256', ' \n' + JSON.stringify(claims, null, 2) + '\n'),
    expect: expectLicence({ jti: 'lic_ws', sub: 'sub_ws', aud: 'Acme Health GmbH' }),
  });
}
{
  // Primary expired: the product keeps running on the secondary.
  const aud = ['Acme Health GmbH'];
  const kf = {
    format: 'licensekit.keyfile/v1', aud, sub: 'sub_kf_fallback', tid: 'ten_interop', tenant_ctry: 'DE',
    primary: await licence('EdDSA', { jti: 'lic_kf_old', sub: 'sub_kf_fallback', aud, iat: 1546300800, exp: 1577836800 }),
    secondary: await licence('ES384', { jti: 'lic_kf_new', sub: 'sub_kf_fallback', aud }),
  };
  add({
    name: 'keyfile/fallback-to-secondary', kind: 'keyfile', keyring: 'jwks', keyfile: JSON.stringify(kf),
    expect: { slot: 'secondary', ...expectLicence({ jti: 'lic_kf_new', sub: 'sub_kf_fallback', aud }) },
  });
}
{
  // The file names one audience as a string, the token as an array of one.
  const kf = {
    format: 'licensekit.keyfile/v1', aud: 'Acme Health GmbH', sub: 'sub_kf_aud1', tid: 'ten_interop', tenant_ctry: 'DE',
    primary: await licence('RS256', { jti: 'lic_kf_aud1', sub: 'sub_kf_aud1', aud: ['Acme Health GmbH'] }),
  };
  add({
    name: 'keyfile/aud-string-vs-array-of-one', kind: 'keyfile', keyring: 'jwks', keyfile: JSON.stringify(kf),
    expect: { slot: 'primary', ...expectLicence({ jti: 'lic_kf_aud1', sub: 'sub_kf_aud1', aud: ['Acme Health GmbH'] }) },
  });
  const only2 = {
    format: 'licensekit.keyfile/v1', aud: 'Acme Health GmbH', sub: 'sub_kf_only2', tid: 'ten_interop',
    secondary: await licence('PS256', { jti: 'lic_kf_only2', sub: 'sub_kf_only2', aud: 'Acme Health GmbH', claims: { slot: 'secondary' } }),
  };
  add({
    name: 'keyfile/secondary-only', kind: 'keyfile', keyring: 'jwks', keyfile: JSON.stringify(only2),
    expect: { slot: 'secondary', ...expectLicence({ jti: 'lic_kf_only2', sub: 'sub_kf_only2', aud: 'Acme Health GmbH' }) },
  });
}
add({
  name: 'lease/EdDSA/suspended', kind: 'lease', keyring: 'jwks',
  token: await lease('EdDSA', { jti: 'lea_susp', sub: 'lic_x', status: 'suspended' }),
  expect: { jti: 'lea_susp', sub: 'lic_x', iss: ISS, fpr: 'fp1.test', status: 'suspended', iat: IAT, exp: IAT + 1209600 },
});

// ---- refused ---------------------------------------------------------------

const refuse = (name, want, token, keyring = 'jwks', kind = 'license') => add({ name, kind, keyring, want, token });

refuse('expired', 'EXPIRED', await licence('EdDSA', { jti: 'lic_exp', iat: 1546300800, exp: 1577836800 }));
refuse('nbf-in-future', 'NOT_YET_VALID', await licence('ES256', { jti: 'lic_nbf', nbf: 1830297600 }));
refuse('iat-in-future', 'NOT_YET_VALID', await licence('ES256', { jti: 'lic_iatf', iat: 1830297600 }));
refuse('wrong-issuer', 'INVALID_CLAIMS', await licence('EdDSA', { jti: 'lic_iss', iss: 'someone-else' }));

// HMAC with the public key's bytes as the secret (the classic RS/HS confusion).
for (const alg of ['EdDSA', 'RS256', 'ES256']) {
  const secret = enc.encode(keys[alg].spki);
  refuse(`hs256-with-${alg}-pem-as-secret`, 'BAD_ALGORITHM',
    await licence('HS256', { key: secret, jti: 'lic_hs', header: { alg: 'HS256', kid: keys[alg].kid, typ: 'JWT' } }));
}
refuse('hs256-no-kid-single-RS256', 'BAD_ALGORITHM',
  await licence('HS256', { key: enc.encode(keys.RS256.spki), jti: 'lic_hs1', header: { alg: 'HS256', typ: 'JWT' } }),
  'single-RS256');

// alg none.
{
  const u = new UnsecuredJWT({ ...licenceClaims('none'), jti: 'lic_none' })
    .setIssuer(ISS).setSubject('sub_interop').setAudience('Acme Health GmbH').setIssuedAt(IAT).setExpirationTime(EXP);
  refuse('alg-none-unsecured', 'MALFORMED', u.encode());
}

// Header members beyond alg, kid and typ.
refuse('header-cty', 'MALFORMED', await licence('EdDSA', { jti: 'lic_cty', header: { alg: 'EdDSA', kid: keys.EdDSA.kid, typ: 'JWT', cty: 'JWT' } }));
refuse('header-jku', 'MALFORMED', await licence('EdDSA', { jti: 'lic_jku', header: { alg: 'EdDSA', kid: keys.EdDSA.kid, typ: 'JWT', jku: 'https://attacker.invalid/jwks.json' } }));
refuse('header-x5u', 'MALFORMED', await licence('RS256', { jti: 'lic_x5u', header: { alg: 'RS256', kid: keys.RS256.kid, x5u: 'https://attacker.invalid/cert.pem' } }));
refuse('header-embedded-jwk-attacker', 'MALFORMED', await licence('EdDSA', {
  key: foreign.EdDSA.privateKey, jti: 'lic_jwk',
  header: { alg: 'EdDSA', kid: keys.EdDSA.kid, typ: 'JWT', jwk: foreign.EdDSA.jwk },
}));
{
  // RFC 7797 unencoded payload. The payload text is itself the base64url of
  // a valid claims set, so protected.payload.signature passes every shape
  // check and its signature verifies: only the b64/crit members refuse it.
  const claimsB64 = Buffer.from(JSON.stringify({
    iss: ISS, sub: 'sub_b64', aud: 'Acme Health GmbH', jti: 'lic_b64', iat: IAT, exp: EXP, ...licenceClaims('EdDSA'),
  })).toString('base64url');
  const f = await new FlattenedSign(enc.encode(claimsB64))
    .setProtectedHeader({ alg: 'EdDSA', kid: keys.EdDSA.kid, b64: false, crit: ['b64'] })
    .sign(keys.EdDSA.privateKey);
  refuse('header-crit-b64-false', 'MALFORMED', `${f.protected}.${claimsB64}.${f.signature}`); // jose detaches an unencoded payload
}
refuse('header-kid-number', 'MALFORMED', await licence('EdDSA', { jti: 'lic_kidnum', header: { alg: 'EdDSA', kid: 7 } }), 'single-EdDSA');
// RFC 7515 §4.1.9 lets "application/jwt" stand for "JWT"; our format allows only
// "JWT" or no typ (a documented divergence).
refuse('typ-application-jwt', 'MALFORMED', await licence('EdDSA', { jti: 'lic_appjwt', header: { alg: 'EdDSA', kid: keys.EdDSA.kid, typ: 'application/jwt' } }));
refuse('typ-at+jwt', 'MALFORMED', await licence('EdDSA', { jti: 'lic_at', header: { alg: 'EdDSA', kid: keys.EdDSA.kid, typ: 'at+jwt' } }));

// A key outside the keyring wearing a ring key's kid.
for (const alg of ALGS) {
  refuse(`foreign-key-same-kid/${alg}`, 'INVALID_SIGNATURE', await licence(alg, {
    key: foreign[alg].privateKey, jti: `lic_foreign_${alg}`, header: { alg, kid: keys[alg].kid, typ: 'JWT' },
  }));
}
refuse('foreign-key-no-kid-single-EdDSA', 'INVALID_SIGNATURE',
  await licence('EdDSA', { key: foreign.EdDSA.privateKey, jti: 'lic_foreign1', header: { alg: 'EdDSA' } }), 'single-EdDSA');

// An alg that does not fit the key the kid names.
for (const [alg, victim] of [['ES256', 'EdDSA'], ['EdDSA', 'ES256'], ['ES384', 'ES256'], ['RS256', 'PS256'], ['PS256', 'RS256']]) {
  refuse(`alg-${alg}-on-${victim}-key`, 'BAD_ALGORITHM', await licence(alg, {
    jti: `lic_mix_${alg}`, header: { alg, kid: keys[victim].kid, typ: 'JWT' },
  }));
}

// Unknown or missing kid.
refuse('unknown-kid', 'UNKNOWN_KEY', await licence('EdDSA', { key: foreign.EdDSA.privateKey, jti: 'lic_ukid', header: { alg: 'EdDSA', kid: foreign.EdDSA.kid } }));
refuse('no-kid-multi-key-ring', 'UNKNOWN_KEY', await licence('EdDSA', { jti: 'lic_nokidmulti', header: { alg: 'EdDSA', typ: 'JWT' } }));

// JSON serializations.
{
  const payload = enc.encode(JSON.stringify({
    iss: ISS, sub: 'sub_json', aud: 'Acme Health GmbH', jti: 'lic_json', iat: IAT, exp: EXP, ...licenceClaims('EdDSA'),
  }));
  const flat = await new FlattenedSign(payload).setProtectedHeader({ alg: 'EdDSA', kid: keys.EdDSA.kid }).sign(keys.EdDSA.privateKey);
  refuse('json-flattened', 'MALFORMED', JSON.stringify(flat));
  const gen = await new GeneralSign(payload).addSignature(keys.EdDSA.privateKey)
    .setProtectedHeader({ alg: 'EdDSA', kid: keys.EdDSA.kid }).sign();
  refuse('json-general', 'MALFORMED', JSON.stringify(gen));
  // The same flattened JWS reassembled as protected.payload.signature is a
  // valid compact JWS: only the serialization was refused.
  add({
    name: 'json-flattened-reassembled-compact', kind: 'license', keyring: 'jwks',
    token: `${flat.protected}.${flat.payload}.${flat.signature}`,
    expect: expectLicence({ jti: 'lic_json', sub: 'sub_json', aud: 'Acme Health GmbH' }),
  });
}

// Nested and duplicate structures.
{
  const inner = await licence('EdDSA', { jti: 'lic_inner' });
  refuse('nested-jwt-cty', 'MALFORMED', await compact('ES256', inner, { alg: 'ES256', kid: keys.ES256.kid, cty: 'JWT' }));
  refuse('nested-jwt-no-cty', 'MALFORMED', await compact('ES256', inner, { alg: 'ES256', kid: keys.ES256.kid, typ: 'JWT' }));
  const dup = `{"iss":"${ISS}","sub":"s","aud":"a","jti":"lic_dup","iat":${IAT},"exp":1577836800,"exp":${EXP},"tid":"t"}`;
  refuse('duplicate-exp-claim', 'MALFORMED', await compact('EdDSA', dup));
  const dupNested = `{"iss":"${ISS}","sub":"s","aud":"a","jti":"lic_dup2","iat":${IAT},"exp":${EXP},"tid":"t","metadata":{"seats":"1","seats":"1000"}}`;
  refuse('duplicate-nested-metadata-member', 'MALFORMED', await compact('EdDSA', dupNested));
  refuse('claims-json-array', 'MALFORMED', await compact('EdDSA', JSON.stringify([{ iss: ISS, exp: EXP }])));
}

// Claims of the wrong type or missing.
refuse('exp-string', 'INVALID_CLAIMS', await licence('EdDSA', { jti: 'lic_exps', exp: null, claims: { exp: String(EXP) } }));
refuse('exp-fractional', 'INVALID_CLAIMS', await licence('EdDSA', { jti: 'lic_expf', exp: null, claims: { exp: EXP + 0.5 } }));
refuse('exp-missing', 'INVALID_CLAIMS', await licence('EdDSA', { jti: 'lic_expm', exp: null }));
refuse('iat-missing', 'INVALID_CLAIMS', await licence('EdDSA', { jti: 'lic_iatm', iat: null }));
refuse('tid-missing', 'INVALID_CLAIMS', await licence('EdDSA', { jti: 'lic_tidm', claims: { tid: undefined } }));
refuse('capabilities-string', 'INVALID_CLAIMS', await licence('EdDSA', { jti: 'lic_caps', claims: { capabilities: 'kyc:write' } }));
refuse('metadata-number-value', 'INVALID_CLAIMS', await licence('EdDSA', { jti: 'lic_meta', claims: { metadata: { seats: 25 } } }));
refuse('aud-empty-array', 'INVALID_CLAIMS', await licence('EdDSA', { jti: 'lic_auda', aud: [] }));
refuse('iat-after-exp', 'INVALID_CLAIMS', await licence('EdDSA', { jti: 'lic_order', iat: EXP + 1 }));
refuse('exp-year-9999', 'INVALID_CLAIMS', await licence('EdDSA', { jti: 'lic_9999', exp: 253402300799 }));

// Oversized (over 16 KiB).
refuse('oversized', 'MALFORMED', await licence('EdDSA', { jti: 'lic_big', claims: { metadata: { pad: 'x'.repeat(17000) } } }));

// Licence and lease never stand in for each other.
refuse('lease-as-licence', 'MALFORMED', await lease('EdDSA', { jti: 'lea_x', sub: 'lic_x' }));
refuse('licence-as-lease', 'MALFORMED', await licence('EdDSA', { jti: 'lic_x' }), 'jwks', 'lease');
refuse('lease-fpr-missing', 'INVALID_CLAIMS', await lease('EdDSA', { jti: 'lea_nofpr', sub: 'lic_x', fpr: null }), 'jwks', 'lease');
refuse('lease-status-unknown', 'INVALID_CLAIMS', await lease('EdDSA', { jti: 'lea_st', sub: 'lic_x', status: 'paused' }), 'jwks', 'lease');
refuse('lease-foreign-key', 'INVALID_SIGNATURE', await new SignJWT({ status: 'active', fpr: 'fp1.test' })
  .setProtectedHeader({ alg: 'ES256', kid: keys.ES256.kid, typ: 'lease+jwt' })
  .setIssuer(ISS).setSubject('lic_x').setJti('lea_f').setIssuedAt(IAT).setExpirationTime(IAT + 1209600)
  .sign(foreign.ES256.privateKey), 'jwks', 'lease');

// Key files.
{
  const aud = 'Acme Health GmbH';
  const kf = {
    format: 'licensekit.keyfile/v1', aud: 'Someone Else AG', sub: 'sub_interop', tid: 'ten_interop', tenant_ctry: 'DE',
    primary: await licence('EdDSA', { jti: 'lic_kf_aud', aud }),
  };
  add({ name: 'keyfile/aud-differs', kind: 'keyfile', keyring: 'jwks', want: 'INVALID_KEY_FILE', keyfile: JSON.stringify(kf) });
  const swapped = {
    format: 'licensekit.keyfile/v1', aud, sub: 'sub_interop', tid: 'ten_interop', tenant_ctry: 'DE',
    primary: await licence('ES256', { jti: 'lic_kf_sw', aud, claims: { slot: 'secondary' } }),
  };
  add({ name: 'keyfile/primary-claims-secondary-slot', kind: 'keyfile', keyring: 'jwks', want: 'INVALID_KEY_FILE', keyfile: JSON.stringify(swapped) });
  const forged = {
    format: 'licensekit.keyfile/v1', aud, sub: 'sub_interop', tid: 'ten_interop', tenant_ctry: 'DE',
    primary: await licence('EdDSA', { key: foreign.EdDSA.privateKey, jti: 'lic_kf_forged', aud }),
  };
  add({ name: 'keyfile/forged-primary', kind: 'keyfile', keyring: 'jwks', want: 'INVALID_SIGNATURE', keyfile: JSON.stringify(forged) });
}

writeFileSync(path.join(out, 'tokens.json'), JSON.stringify({
  generator: 'generate.mjs',
  jose: joseVersion,
  node: process.version,
  clock: '2026-11-24T00:00:00Z',
  issuer: ISS,
  cases,
}, null, 2) + '\n');
console.log(`jose ${joseVersion}: ${cases.length} cases written to ${out}`);

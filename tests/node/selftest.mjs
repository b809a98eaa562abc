#!/usr/bin/env node
// selftest.mjs: checks authjs.mjs end to end, through its stdin/stdout protocol (one `node authjs.mjs`
// process per batch, exactly as an external test would drive it).
//
//  1. encode -> decode round trips with the real clock: @auth/core (string secret, rotated secret list,
//     both cookie-name salts) and next-auth v4 (default empty salt, explicit salt), plus the failures
//     that must happen (wrong secret, wrong salt, a token of the other line).
//  2. the fake clock ("now" in a request): a token minted at a fixed past instant decodes at that
//     instant, still decodes 14 s after exp (jose's 15 s clockTolerance), is expired 15 s after exp,
//     and is expired on the real clock.
//  3. the shared test vectors: every valid vector of authjs-v5.json / nextauth-v4.json decodes at its
//     `now` to exactly its `claims`, and is expired one hour after its `exp`; every invalid vector is
//     rejected at its `now` (the JS error and its authcore kind hint are listed).
//
// Vectors are read from $AUTHCORE_VECTORS_DIR, default ../tests/vectors (= tests/tests/vectors in the repo).
// Exit status 0 when everything passed, 1 otherwise.

import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { isDeepStrictEqual } from "node:util";

const here = dirname(fileURLToPath(import.meta.url));
const vectorsDir = resolve(here, process.env.AUTHCORE_VECTORS_DIR ?? "../tests/vectors");

let failures = 0;
let passes = 0;
function check(cond, what, detail) {
  if (cond) {
    passes += 1;
  } else {
    failures += 1;
    console.log(`FAIL ${what}${detail === undefined ? "" : `: ${JSON.stringify(detail)}`}`);
  }
}

// Runs a list of requests through one `node authjs.mjs` process; returns the results in order.
function run(requests) {
  const proc = spawnSync(process.execPath, [resolve(here, "authjs.mjs")], {
    input: JSON.stringify({ op: "batch", requests }),
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (proc.status !== 0) {
    throw new Error(`authjs.mjs exited with ${proc.status}: ${proc.stderr}${proc.stdout}`);
  }
  const out = JSON.parse(proc.stdout);
  if (!Array.isArray(out.results) || out.results.length !== requests.length) {
    throw new Error(`authjs.mjs gave a bad batch answer: ${proc.stdout.slice(0, 500)}`);
  }
  return out.results;
}

const [ver] = run([{ op: "versions" }]);
console.log(`versions: ${JSON.stringify(ver)}`);

// ---------------------------------------------------------------------------------------------
// 1. Round trips on the real clock.
const session = {
  name: "Ada Lovelace",
  email: "ada@example.com",
  picture: "https://avatars.example.com/u/1?v=4",
  sub: "0b6f4c5e-3d2a-4e1f-9c8b-7a6d5e4f3a21",
  nested: { roles: ["admin", "user"], n: 1.5, t: true, z: null },
  unicode: "한국어 ✓ 🎉",
};
const MAX_AGE = 3600;
const V5 = "authjs.session-token";
const V5_SECURE = "__Secure-authjs.session-token";

function checkClaims(res, what, expectIat) {
  check(res.ok === true, `${what}: decodes`, res);
  if (res.ok !== true) return;
  const { iat, exp, jti, ...rest } = res.claims;
  check(isDeepStrictEqual(rest, session), `${what}: session claims survive`, res.claims);
  check(Number.isInteger(iat) && exp - iat === MAX_AGE, `${what}: exp = iat + maxAge`, { iat, exp });
  check(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(jti), `${what}: jti`, jti);
  if (expectIat !== undefined) check(iat === expectIat, `${what}: iat = now`, { iat, expectIat });
}

const enc = run([
  { op: "encode", lib: "authjs", secret: "secret-one", salt: V5, maxAge: MAX_AGE, token: session },
  { op: "encode", lib: "authjs", secret: ["secret-two", "secret-one"], salt: V5_SECURE, maxAge: MAX_AGE, token: session },
  { op: "encode", lib: "nextauth-v4", secret: "secret-one", maxAge: MAX_AGE, token: session },
  { op: "encode", lib: "nextauth-v4", secret: "secret-one", salt: "next-auth.state", maxAge: MAX_AGE, token: session },
]);
for (const [i, r] of enc.entries()) check(r.ok === true && typeof r.token === "string", `encode #${i}`, r);
const [v5a, v5b, v4a, v4b] = enc.map((r) => r.token);
check(v5a?.split(".").length === 5 && v5a.split(".")[1] === "", "authjs token is compact JWE with dir", v5a);
check(v4a?.split(".").length === 5 && v4a.split(".")[1] === "", "v4 token is compact JWE with dir", v4a);

const dec = run([
  { op: "decode", lib: "authjs", secret: "secret-one", salt: V5, token: v5a },
  { op: "decode", lib: "authjs", secret: ["secret-two", "secret-one"], salt: V5, token: v5a },
  { op: "decode", lib: "authjs", secret: "secret-two", salt: V5_SECURE, token: v5b },
  { op: "decode", lib: "nextauth-v4", secret: "secret-one", token: v4a },
  { op: "decode", lib: "nextauth-v4", secret: "secret-one", salt: "next-auth.state", token: v4b },
  // must fail:
  { op: "decode", lib: "authjs", secret: "secret-two", salt: V5, token: v5a },
  { op: "decode", lib: "authjs", secret: "secret-one", salt: V5_SECURE, token: v5a },
  { op: "decode", lib: "nextauth-v4", secret: "secret-two", token: v4a },
  { op: "decode", lib: "nextauth-v4", secret: "secret-one", token: v4b },
  { op: "decode", lib: "nextauth-v4", secret: "secret-one", token: v5a },
  { op: "decode", lib: "authjs", secret: "secret-one", salt: V5, token: v4a },
  // empty token: both libraries return null
  { op: "decode", lib: "authjs", secret: "secret-one", salt: V5, token: "" },
  { op: "decode", lib: "nextauth-v4", secret: "secret-one", token: "" },
]);
checkClaims(dec[0], "authjs round trip");
checkClaims(dec[1], "authjs round trip, rotated secrets [new, old]");
checkClaims(dec[2], "authjs round trip, __Secure- salt, encoded with secret list");
checkClaims(dec[3], "next-auth v4 round trip");
checkClaims(dec[4], "next-auth v4 round trip with salt");
const mustFail = [
  "authjs wrong secret",
  "authjs wrong salt",
  "v4 wrong secret",
  "v4 wrong salt",
  "v4 decoding an authjs token",
  "authjs decoding a v4 token",
];
for (const [i, what] of mustFail.entries()) {
  const r = dec[5 + i];
  check(r.ok === false, `${what}: rejected`, r);
  if (r.ok === false) console.log(`  ok  ${what} -> ${r.kind} (${r.error})`);
}
check(dec[11].ok === true && dec[11].claims === null, "authjs empty token -> null", dec[11]);
check(dec[12].ok === true && dec[12].claims === null, "v4 empty token -> null", dec[12]);

// ---------------------------------------------------------------------------------------------
// 2. The fake clock.
const T = 1_700_000_000;
const fixed = run([
  { op: "encode", lib: "authjs", secret: "secret-one", salt: V5, maxAge: MAX_AGE, token: session, now: T },
  { op: "encode", lib: "nextauth-v4", secret: "secret-one", maxAge: MAX_AGE, token: session, now: T },
]);
const clockReqs = [];
for (const [lib, r] of [["authjs", fixed[0]], ["nextauth-v4", fixed[1]]]) {
  const base = { op: "decode", lib, secret: "secret-one", token: r.token };
  if (lib === "authjs") base.salt = V5;
  clockReqs.push(
    { ...base, now: T + 5 },
    { ...base, now: T + MAX_AGE + 14 },
    { ...base, now: T + MAX_AGE + 15 },
    { ...base }, // real clock: long expired
  );
}
const clock = run(clockReqs);
for (const [k, lib] of ["authjs", "nextauth-v4"].entries()) {
  const [atT, inTolerance, justExpired, realClock] = clock.slice(4 * k, 4 * k + 4);
  checkClaims(atT, `${lib} fake clock: minted and decoded in 2023`, T);
  check(inTolerance.ok === true, `${lib} fake clock: accepted at exp + 14 (clockTolerance 15)`, inTolerance);
  check(justExpired.ok === false && justExpired.kind === "expired", `${lib} fake clock: expired at exp + 15`, justExpired);
  check(realClock.ok === false && realClock.kind === "expired", `${lib} real clock: expired`, realClock);
}

// ---------------------------------------------------------------------------------------------
// 3. The shared vectors.
const files = [
  ["authjs-v5.json", "authjs"],
  ["nextauth-v4.json", "nextauth-v4"],
];
for (const [file, lib] of files) {
  const path = resolve(vectorsDir, file);
  if (!existsSync(path)) {
    check(false, `vector file ${path} is missing (copy the vectors to tests/tests/vectors or set AUTHCORE_VECTORS_DIR)`);
    continue;
  }
  const vectors = JSON.parse(readFileSync(path, "utf8"));
  const reqs = [];
  for (const v of vectors) {
    const base = { op: "decode", lib, secret: v.secret, salt: v.salt, token: v.token, id: v.name };
    reqs.push({ ...base, now: v.now });
    // A valid vector one hour after its exp must be expired: proves the clock really is faked
    // (the vectors were minted recently and are still valid on the real clock for ~30 days).
    if (v.valid && typeof v.claims?.exp === "number") reqs.push({ ...base, now: v.claims.exp + 3600, id: `${v.name}@exp+1h` });
  }
  const results = new Map(run(reqs).map((r) => [r.id, r]));
  let nValid = 0;
  let nInvalid = 0;
  for (const v of vectors) {
    const r = results.get(v.name);
    if (v.valid) {
      nValid += 1;
      check(r.ok === true && isDeepStrictEqual(r.claims, v.claims), `${file} ${v.name}: claims at now`, r);
      const late = results.get(`${v.name}@exp+1h`);
      if (late) check(late.ok === false && late.kind === "expired", `${file} ${v.name}: expired at exp + 1h`, late);
    } else {
      nInvalid += 1;
      check(r.ok === false, `${file} ${v.name} (${v.reason}): rejected`, r);
      if (r.ok === false) {
        const expected = [v.reason, ...(v.alt_reasons ?? [])].join("|");
        console.log(`  ok  ${file} ${v.name}: ${expected} -> ${r.kind} (${r.error})`);
      }
    }
  }
  console.log(`${file}: ${nValid} valid decoded, ${nInvalid} invalid rejected (checked with ${lib})`);
}

console.log(`selftest: ${passes} checks passed, ${failures} failed`);
process.exitCode = failures === 0 ? 0 : 1;

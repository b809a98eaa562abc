#!/usr/bin/env node
// bench.mjs: per-call cost of the real JavaScript session-token code, in process (no CLI overhead).
//
// For each payload it mints a token once, then times `decode` and `encode` call by call
// (process.hrtime.bigint around each awaited call) after a warm-up, and reports the median, p10, p90
// and mean in microseconds, with the token size in bytes. Each call includes everything the library
// does per call: HKDF key derivation (and, for @auth/core, the kid thumbprint), the JWE crypto
// (WebCrypto in Node) and JSON; that is what a server pays per request.
//
// Payloads:
//   session  name, email, picture, sub, an OAuth access token (~180 chars), a refresh token (~60 chars)
//            and expires_at: a session after sign-in with refresh-token rotation; its @auth/core token
//            is ~947 bytes.
//   basic    the default session token (name, email, picture, sub) of the `basic` test vector.
//   --payload FILE (repeatable): any JSON object, e.g. the payload of authcore's Rust benchmark, so
//            both sides time the same token. Named after the file.
// Options: --iterations N (default 2000), --warmup N (default 500), --only-authjs (skip next-auth v4).
//
// Output: one JSON line on stdout (versions + results); a readable summary on stderr.

import { readFileSync } from "node:fs";
import { basename } from "node:path";

import * as authjsJwt from "@auth/core/jwt";
import nextauthJwt from "next-auth/jwt";

function readVersion(relPath) {
  try {
    return JSON.parse(readFileSync(new URL(relPath, import.meta.url), "utf8")).version;
  } catch {
    return null;
  }
}

function parseArgs(argv) {
  const opts = { iterations: 2000, warmup: 500, payloads: [], onlyAuthjs: false };
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i];
    const next = () => {
      i += 1;
      if (i >= argv.length) throw new Error(`${a} needs a value`);
      return argv[i];
    };
    if (a === "--iterations") opts.iterations = Number.parseInt(next(), 10);
    else if (a === "--warmup") opts.warmup = Number.parseInt(next(), 10);
    else if (a === "--payload") opts.payloads.push(next());
    else if (a === "--only-authjs") opts.onlyAuthjs = true;
    else throw new Error(`unknown argument ${a}`);
  }
  if (!(opts.iterations > 0) || !(opts.warmup >= 0)) throw new Error("bad --iterations / --warmup");
  return opts;
}

// Deterministic filler (token sizes must not vary between runs).
function filler(prefix, len) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  let s = prefix;
  for (let i = 0; s.length < len; i += 1) s += alphabet[(i * 37 + 11) % alphabet.length];
  return s;
}

const PAYLOADS = {
  session: {
    name: "Ada Lovelace",
    email: "ada@example.com",
    picture: "https://avatars.example.com/u/1?v=4",
    sub: "0b6f4c5e-3d2a-4e1f-9c8b-7a6d5e4f3a21",
    access_token: filler("ya29.", 180),
    refresh_token: filler("1//", 60),
    expires_at: 1795334267,
  },
  basic: {
    name: "Ada Lovelace",
    email: "ada@example.com",
    picture: "https://avatars.example.com/u/1?v=4",
    sub: "0b6f4c5e-3d2a-4e1f-9c8b-7a6d5e4f3a21",
  },
};

const SECRET = "z3LJQKLJ7I9meY48IgEtCTjBkSoh1f3xEMaz7P8xWoI="; // a bench-only secret (openssl rand -base64 32 style)
const SALT = "authjs.session-token";
const MAX_AGE = 30 * 24 * 60 * 60;

const LIBS = {
  "@auth/core": {
    encode: (token) => authjsJwt.encode({ token, secret: SECRET, salt: SALT, maxAge: MAX_AGE }),
    decode: (token) => authjsJwt.decode({ token, secret: SECRET, salt: SALT }),
  },
  "next-auth@4": {
    encode: (token) => nextauthJwt.encode({ token, secret: SECRET, maxAge: MAX_AGE }),
    decode: (token) => nextauthJwt.decode({ token, secret: SECRET }),
  },
};

function quantile(sorted, q) {
  // nearest-rank on the sorted sample
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[idx];
}

async function time(fn, arg, warmup, iterations) {
  for (let i = 0; i < warmup; i += 1) await fn(arg);
  const samples = new Float64Array(iterations);
  for (let i = 0; i < iterations; i += 1) {
    const t0 = process.hrtime.bigint();
    await fn(arg);
    samples[i] = Number(process.hrtime.bigint() - t0) / 1000; // µs
  }
  samples.sort();
  const round = (x) => Math.round(x * 10) / 10;
  let sum = 0;
  for (const s of samples) sum += s;
  return {
    median_us: round(quantile(samples, 0.5)),
    p10_us: round(quantile(samples, 0.1)),
    p90_us: round(quantile(samples, 0.9)),
    mean_us: round(sum / iterations),
  };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const payloads = { ...PAYLOADS };
  for (const file of opts.payloads) {
    const p = JSON.parse(readFileSync(file, "utf8"));
    if (p === null || typeof p !== "object" || Array.isArray(p)) throw new Error(`${file}: not a JSON object`);
    payloads[basename(file).replace(/\.json$/, "")] = p;
  }

  const results = [];
  for (const [libName, lib] of Object.entries(LIBS)) {
    if (opts.onlyAuthjs && libName !== "@auth/core") continue;
    for (const [payloadName, payload] of Object.entries(payloads)) {
      const token = await lib.encode(payload);
      const check = await lib.decode(token);
      if (check?.sub !== payload.sub) throw new Error(`${libName}/${payloadName}: round trip failed`);
      const decode = await time(lib.decode, token, opts.warmup, opts.iterations);
      const encode = await time(lib.encode, payload, opts.warmup, opts.iterations);
      results.push({
        lib: libName,
        payload: payloadName,
        payload_json_bytes: Buffer.byteLength(JSON.stringify(payload)),
        token_bytes: token.length,
        decode,
        encode,
      });
    }
  }

  const out = {
    bench: "authjs-node",
    node: process.versions.node,
    v8: process.versions.v8,
    platform: `${process.platform}-${process.arch}`,
    "@auth/core": readVersion("./node_modules/@auth/core/package.json"),
    "next-auth": readVersion("./node_modules/next-auth/package.json"),
    "jose (@auth/core)": readVersion("./node_modules/jose/package.json"),
    "jose (next-auth)": readVersion("./node_modules/next-auth/node_modules/jose/package.json"),
    iterations: opts.iterations,
    warmup: opts.warmup,
    results,
  };
  process.stdout.write(JSON.stringify(out) + "\n");
  for (const r of results) {
    process.stderr.write(
      `${r.lib.padEnd(12)} ${r.payload.padEnd(12)} token ${String(r.token_bytes).padStart(5)} B  ` +
        `decode median ${r.decode.median_us} µs (p10 ${r.decode.p10_us}, p90 ${r.decode.p90_us})  ` +
        `encode median ${r.encode.median_us} µs (p10 ${r.encode.p10_us}, p90 ${r.encode.p90_us})\n`,
    );
  }
}

try {
  await main();
} catch (err) {
  process.stderr.write(`bench.mjs: ${err.message}\n`);
  process.exitCode = 2;
}

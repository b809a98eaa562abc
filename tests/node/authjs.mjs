#!/usr/bin/env node
// authjs.mjs: a JSON-over-stdio CLI around the real JavaScript session-token code:
//   lib "authjs"      -> `encode` / `decode` from `@auth/core/jwt` (Auth.js v5, next-auth@5)
//   lib "nextauth-v4" -> `encode` / `decode` from `next-auth/jwt`  (next-auth 4.x)
//
// Usage:
//   node authjs.mjs            read ONE JSON request (the whole of stdin), write ONE JSON result line
//   node authjs.mjs --ndjson   read one JSON request per line, write one JSON result per line, in order
//                              (each result is written as soon as it is ready: usable as a co-process)
//
// Requests (JSON objects; see README.md for the full protocol):
//   {"op":"decode","lib":"authjs","secret":"s"|["s2","s1"],"salt":"authjs.session-token","token":"..."}
//   {"op":"encode","lib":"authjs","secret":..., "salt":..., "maxAge":N, "token":{...claims}}
//   {"op":"batch","requests":[ ...requests... ]}          -> {"results":[ ...results... ]}
//   {"op":"versions"}                                       -> library versions
// Optional in every request: "id" (echoed back in the result) and "now" (Unix seconds, number: run the
// library with a fake clock reading that instant; see withClock below).
// Results: {"ok":true,"claims":{...}} | {"ok":true,"token":"..."} |
//          {"ok":false,"error":"<name>: <message>","error_name":..,"error_code":..,"kind":..}
//
// Exit status: 0 when the input was read and every request got a result (including "ok":false
// results: a failed decode is an answer, not a crash); 2 when stdin is not a JSON request (a result
// with "ok":false and error "RequestError: ..." is still written).

import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";

import * as authjsJwt from "@auth/core/jwt";
import nextauthJwt from "next-auth/jwt"; // CommonJS module: the default import is module.exports

const LIBS = {
  authjs: {
    encode: (p) => authjsJwt.encode(p),
    decode: (p) => authjsJwt.decode(p),
  },
  "nextauth-v4": {
    encode: (p) => nextauthJwt.encode(p),
    decode: (p) => nextauthJwt.decode(p),
  },
};

class RequestError extends Error {
  constructor(message) {
    super(message);
    this.name = "RequestError";
  }
}

// ---------------------------------------------------------------------------------------------
// Fake clock.
//
// Neither `@auth/core/jwt` decode nor `next-auth/jwt` decode lets the caller pass a clock: both call
// jose's `jwtDecrypt` with fixed options (`clockTolerance: 15`) and never forward jose's
// `currentDate` option. jose reads the time with `new Date()` (no arguments; this does NOT go through
// `Date.now`, so overriding `Date.now` alone is not enough), and the libraries' encode reads it with
// `Date.now()` (exp) and jose `new Date()` (iat). So for a request with "now" we replace
// `globalThis.Date` by a subclass whose argument-less constructor and `Date.now()` return that
// instant, for the duration of the one library call, and put the real `Date` back afterwards.
// Requests are handled strictly one after another (never concurrently), so no other code observes
// the fake clock.
const RealDate = globalThis.Date;

function fakeDateClass(ms) {
  return class FakeDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(ms);
      else super(...args);
    }
    static now() {
      return ms;
    }
  };
}

async function withClock(nowSeconds, fn) {
  if (nowSeconds === undefined) return fn();
  globalThis.Date = fakeDateClass(nowSeconds * 1000);
  try {
    return await fn();
  } finally {
    globalThis.Date = RealDate;
  }
}

// ---------------------------------------------------------------------------------------------
// Error reporting.

// A rough mapping of the JavaScript error onto authcore's error kinds (PLAN.md, vectors/README.md).
// It is a hint for humans and tests that want to compare error classes; `error_name` and
// `error_code` are what the library really threw.
function kindOf(err) {
  const code = err?.code;
  const msg = String(err?.message ?? "");
  switch (code) {
    case "ERR_JWT_EXPIRED":
      return "expired";
    case "ERR_JWT_CLAIM_VALIDATION_FAILED":
      return err.claim === "nbf" ? "not_yet_valid" : "invalid_claim";
    case "ERR_JWE_DECRYPTION_FAILED":
      return "bad_tag";
    case "ERR_JWT_INVALID":
      return "bad_json";
    case "ERR_JOSE_ALG_NOT_ALLOWED":
      return msg.includes('"enc"') ? "unsupported_enc" : "unsupported_alg";
    case "ERR_JOSE_NOT_SUPPORTED":
      return msg.includes('"enc"') || msg.includes("Encryption") ? "unsupported_enc" : "unsupported_alg";
    case "ERR_JWE_INVALID":
      // next-auth v4 (32-byte key) given an A256CBC-HS512 (v5) token: jose 4 reports the key length.
      return msg.startsWith("Invalid Content Encryption Key length") ? "unsupported_enc" : "malformed";
    default:
      break;
  }
  if (msg === "no matching decryption secret") return "unknown_kid";
  if (msg === "Unsupported JWT Content Encryption Algorithm") return "unsupported_enc";
  if (err instanceof RequestError) return "request_error";
  return "other";
}

function errorResult(err) {
  const name = err?.name ?? "Error";
  const message = String(err?.message ?? err);
  const out = { ok: false, error: `${name}: ${message}`, error_name: name, kind: kindOf(err) };
  if (err?.code !== undefined) out.error_code = String(err.code);
  if (err?.claim !== undefined) out.error_claim = String(err.claim);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Requests.

function readVersion(relPath) {
  try {
    return JSON.parse(readFileSync(new URL(relPath, import.meta.url), "utf8")).version;
  } catch {
    return null;
  }
}

function versions() {
  return {
    ok: true,
    node: process.versions.node,
    "@auth/core": readVersion("./node_modules/@auth/core/package.json"),
    "next-auth": readVersion("./node_modules/next-auth/package.json"),
    "jose (@auth/core)": readVersion("./node_modules/jose/package.json"),
    "jose (next-auth)":
      readVersion("./node_modules/next-auth/node_modules/jose/package.json") ??
      readVersion("./node_modules/jose/package.json"),
  };
}

function checkNow(req) {
  if (req.now === undefined) return undefined;
  if (typeof req.now !== "number" || !Number.isFinite(req.now)) {
    throw new RequestError('"now" must be a finite number (Unix seconds)');
  }
  return req.now;
}

// The library parameters: exactly the members the caller gave (so library defaults apply to the
// others: e.g. next-auth v4 uses salt "" and both use maxAge 30 days when absent).
function libParams(req, names) {
  const p = {};
  for (const n of names) if (Object.hasOwn(req, n)) p[n] = req[n];
  return p;
}

async function handleOne(req, nested) {
  if (req === null || typeof req !== "object" || Array.isArray(req)) {
    throw new RequestError("a request must be a JSON object");
  }
  switch (req.op) {
    case "versions":
      return versions();
    case "batch": {
      if (nested) throw new RequestError("batch requests cannot be nested");
      if (!Array.isArray(req.requests)) throw new RequestError('"requests" must be an array');
      const results = [];
      for (const r of req.requests) results.push(await handle(r, true));
      return { results };
    }
    case "encode":
    case "decode": {
      const lib = LIBS[req.lib];
      if (lib === undefined) {
        throw new RequestError(`unknown "lib" ${JSON.stringify(req.lib)} (use "authjs" or "nextauth-v4")`);
      }
      const now = checkNow(req);
      if (req.op === "decode") {
        const claims = await withClock(now, () => lib.decode(libParams(req, ["secret", "salt", "token"])));
        return { ok: true, claims: claims ?? null };
      }
      const token = await withClock(now, () =>
        lib.encode(libParams(req, ["secret", "salt", "maxAge", "token"])),
      );
      return { ok: true, token };
    }
    default:
      throw new RequestError(`unknown "op" ${JSON.stringify(req.op)} (use decode, encode, batch, versions)`);
  }
}

// Always resolves to a result object; echoes "id" when the request has one.
async function handle(req, nested = false) {
  let out;
  try {
    out = await handleOne(req, nested);
  } catch (err) {
    out = errorResult(err);
  }
  if (req !== null && typeof req === "object" && !Array.isArray(req) && req.id !== undefined) {
    out = { id: req.id, ...out };
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// I/O.

function writeLine(obj) {
  return new Promise((resolve) => {
    if (process.stdout.write(JSON.stringify(obj) + "\n")) resolve();
    else process.stdout.once("drain", resolve);
  });
}

function parseRequest(text) {
  try {
    return { req: JSON.parse(text) };
  } catch (err) {
    return { bad: errorResult(new RequestError(`stdin is not JSON: ${err.message}`)) };
  }
}

async function main() {
  const args = process.argv.slice(2);
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write("usage: node authjs.mjs [--ndjson] < request.json   (see README.md)\n");
    return;
  }
  const unknown = args.filter((a) => a !== "--ndjson");
  if (unknown.length > 0) {
    process.stderr.write(`authjs.mjs: unknown argument(s): ${unknown.join(" ")}\n`);
    process.exitCode = 2;
    return;
  }

  if (args.includes("--ndjson")) {
    const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
    for await (const line of rl) {
      if (line.trim() === "") continue;
      const { req, bad } = parseRequest(line);
      if (bad) {
        process.exitCode = 2;
        await writeLine(bad);
      } else {
        await writeLine(await handle(req));
      }
    }
    return;
  }

  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const { req, bad } = parseRequest(Buffer.concat(chunks).toString("utf8"));
  if (bad) {
    process.exitCode = 2;
    await writeLine(bad);
    return;
  }
  await writeLine(await handle(req));
}

await main();

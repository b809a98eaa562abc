#!/usr/bin/env node
// interop.mjs: authcore's CLI and the real JavaScript libraries read each other's tokens.
//
//   node interop.mjs [path/to/authcore]      (default: ../../target/debug/authcore)
//
// 1. Tokens the `authcore` CLI encodes (Auth.js v5 JWE, next-auth v4 JWE) are decoded by
//    @auth/core's and next-auth@4's own `decode`, and must give back the claims (plus iat/exp/jti).
// 2. Tokens the libraries encode are decoded by `authcore decode`, and an Auth.js-minted cookie
//    is read by `authcore session` (the full session pipeline), which re-issues a cookie that
//    @auth/core decodes again.
// Exit 0 when every check passes; prints one line per check and a "N passed, M failed" summary.

import { spawnSync } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { isDeepStrictEqual } from "node:util";

import * as authjsJwt from "@auth/core/jwt";
import nextauthJwt from "next-auth/jwt";

const here = dirname(fileURLToPath(import.meta.url));
const bin = resolve(process.argv[2] ?? resolve(here, "../../target/debug/authcore"));
const SECRET = "interop-secret-for-authcore-and-authjs-0123456789";
const OLD_SECRET = "an-older-secret-still-accepted-by-rotation-98765";

let passed = 0;
let failed = 0;
function check(name, ok, detail = "") {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? "ok  " : "FAIL"} ${name}${ok || !detail ? "" : `: ${detail}`}`);
}

function cli(args, input, env = {}) {
  const r = spawnSync(bin, args, {
    input,
    env: { ...process.env, S: SECRET, OLD: OLD_SECRET, ...env },
    encoding: "utf8",
  });
  return { code: r.status, out: r.stdout.trim(), err: r.stderr.trim() };
}

const claims = {
  name: "김예슬 \"Yeseul\"",
  email: "yeseul@example.com",
  picture: "https://example.com/a.png?size=64&x=\u00e9",
  sub: "user-42",
  roles: ["admin", "ops"],
  nested: { a: 1, b: [true, null] },
};

function withoutStamp(obj) {
  const { iat, exp, jti, ...rest } = obj;
  return rest;
}

// 1. authcore encodes, the libraries decode.
for (const [format, lib, salt] of [
  ["authjs", "authjs", "authjs.session-token"],
  ["authjs", "authjs", "__Secure-authjs.session-token"],
  ["nextauth-v4", "nextauth-v4", undefined],
]) {
  const args = ["encode", "--format", format, "--secret-env", "S", "--max-age", "3600"];
  if (salt) args.push("--salt", salt);
  const r = cli(args, JSON.stringify(claims));
  if (r.code !== 0) {
    check(`authcore encode ${format} ${salt ?? ""}`, false, r.err);
    continue;
  }
  const token = r.out;
  try {
    const decoded =
      lib === "authjs"
        ? await authjsJwt.decode({ token, secret: SECRET, salt })
        : await nextauthJwt.decode({ token, secret: SECRET });
    check(`${lib} decodes authcore's ${format} token (${salt ?? "no salt"})`,
      isDeepStrictEqual(withoutStamp(decoded), claims) && decoded.exp - decoded.iat === 3600 &&
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(decoded.jti),
      JSON.stringify(decoded));
  } catch (e) {
    check(`${lib} decodes authcore's ${format} token`, false, String(e));
  }
}

// Rotation: authcore encodes with the current secret; Auth.js decodes with [current, old].
{
  const r = cli(["encode", "--format", "authjs", "--secret-env", "S", "--secret-env", "OLD"], "{\"sub\":\"rot\"}");
  const decoded = await authjsJwt.decode({ token: r.out, secret: [SECRET, OLD_SECRET], salt: "authjs.session-token" });
  check("Auth.js decodes authcore's token under rotation", decoded?.sub === "rot");
}

// 2. The libraries encode, authcore decodes.
{
  const token = await authjsJwt.encode({ token: claims, secret: SECRET, salt: "authjs.session-token", maxAge: 3600 });
  const r = cli(["decode", "--secret-env", "S"], token);
  const out = r.code === 0 ? JSON.parse(r.out) : null;
  check("authcore decodes an @auth/core token (auto format)",
    out && isDeepStrictEqual(withoutStamp(out.claims), claims) && out.header.kid?.length === 86, r.err || r.out);
  const rotated = cli(["decode", "--format", "authjs", "--secret-env", "S", "--secret-env", "OLD"], token);
  check("authcore decodes it with rotation (kid selects the key)", rotated.code === 0, rotated.err);
  const old = await authjsJwt.encode({ token: { sub: "old" }, secret: OLD_SECRET, salt: "authjs.session-token" });
  const r2 = cli(["decode", "--format", "authjs", "--secret-env", "S", "--secret-env", "OLD"], old);
  check("authcore decodes a token made with the older secret", r2.code === 0 && JSON.parse(r2.out).claims.sub === "old", r2.err);
  const wrong = cli(["decode", "--format", "authjs", "--secret-env", "OLD"], token);
  check("authcore refuses it with the wrong secret (unknown_kid)", wrong.code === 1 && wrong.err.startsWith("error: unknown_kid: "), wrong.err);
}
{
  const token = await nextauthJwt.encode({ token: claims, secret: SECRET });
  const r = cli(["decode", "--secret-env", "S"], token);
  const out = r.code === 0 ? JSON.parse(r.out) : null;
  check("authcore decodes a next-auth v4 token (auto format)",
    out && isDeepStrictEqual(withoutStamp(out.claims), claims) && out.header.enc === "A256GCM", r.err || r.out);
}

// 3. The session pipeline reads an Auth.js cookie and re-issues one Auth.js reads.
for (const secure of [false, true]) {
  const name = secure ? "__Secure-authjs.session-token" : "authjs.session-token";
  const token = await authjsJwt.encode({ token: { name: "Ada", email: "ada@example.com", picture: "https://x/p.png", sub: "1" }, secret: SECRET, salt: name });
  const args = ["session", "--format", "authjs", "--secret-env", "S"];
  if (secure) args.push("--secure");
  const r = cli(args, `other=1; ${name}=${token}`);
  const out = r.code === 0 ? JSON.parse(r.out) : null;
  check(`authcore session reads an Auth.js cookie (${name})`,
    out?.session?.user?.name === "Ada" && out.session.user.image === "https://x/p.png" && out.set_cookie.length === 1,
    r.err || r.out);
  if (out) {
    const set = out.set_cookie[0];
    const value = set.split(";")[0].slice(name.length + 1);
    const decoded = await authjsJwt.decode({ token: value, secret: SECRET, salt: name });
    check(`Auth.js reads the cookie authcore re-issued (${name})`,
      decoded?.sub === "1" && decoded.name === "Ada" && set.includes("; HttpOnly;") && set.includes("Secure") === secure,
      set);
  }
}
{
  // A chunked v4 cookie (a large token) is reassembled and re-chunked.
  const big = { sub: "1", name: "N", blob: "x".repeat(6000) };
  const token = await nextauthJwt.encode({ token: big, secret: SECRET });
  const header = `next-auth.session-token.1=${token.slice(3933)}; next-auth.session-token.0=${token.slice(0, 3933)}`;
  const r = cli(["session", "--format", "nextauth-v4", "--secret-env", "S"], header);
  const out = r.code === 0 ? JSON.parse(r.out) : null;
  // Every claim survives the re-issue (the default jwt callback returns the token unchanged),
  // so the new token needs three chunks; Auth.js's order: request chunks replaced in place (.1,
  // .0), then the new one (.2).
  const names = (out?.set_cookie ?? []).map((c) => c.split("=")[0]);
  let reissued = null;
  if (names.length === 3) {
    const values = Object.fromEntries(out.set_cookie.map((c) => c.split(";")[0].split(/=(.*)/s).slice(0, 2)));
    const joined = [0, 1, 2].map((i) => values[`next-auth.session-token.${i}`]).join("");
    reissued = await nextauthJwt.decode({ token: joined, secret: SECRET }).catch(() => null);
  }
  check("authcore session reassembles a chunked next-auth v4 cookie and re-chunks it",
    out?.session?.user?.name === "N" &&
      isDeepStrictEqual(names, ["next-auth.session-token.1", "next-auth.session-token.0", "next-auth.session-token.2"]) &&
      reissued?.blob === big.blob,
    r.err || JSON.stringify(names));
}

// 4. authcore's sign-in sets a cookie that @auth/core and next-auth decode.
for (const [format, lib, name] of [
  ["authjs", "authjs", "__Secure-authjs.session-token"],
  ["nextauth-v4", "nextauth-v4", "__Secure-next-auth.session-token"],
]) {
  const user = { id: "u-7", name: "Grace", email: "grace@example.com", image: "https://x/g.png" };
  const r = cli(["sign-in", "--format", format, "--secret-env", "S", "--secure"], JSON.stringify(user));
  const out = r.code === 0 ? JSON.parse(r.out) : null;
  const set = out?.set_cookie?.[0] ?? "";
  const value = set.split(";")[0].slice(name.length + 1);
  let decoded = null;
  try {
    decoded = lib === "authjs"
      ? await authjsJwt.decode({ token: value, secret: SECRET, salt: name })
      : await nextauthJwt.decode({ token: value, secret: SECRET });
  } catch (e) {
    decoded = { error: String(e) };
  }
  check(`${lib} decodes the cookie authcore's sign-in set (${name})`,
    set.startsWith(`${name}=`) && decoded?.sub === "u-7" && decoded.name === "Grace" &&
      decoded.picture === "https://x/g.png" && out.session.user.image === "https://x/g.png",
    r.err || JSON.stringify(decoded));
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);

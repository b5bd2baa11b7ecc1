// The one place that takes secrets out of connection strings and of the messages that name them. Drivers honour
// credentials in the userinfo (postgres://u:p@h) and in query keys (?password=…, ?sslpassword=…, ?token=…), so both
// go. A string that cannot be read as a URL is never echoed: it may be nothing but a secret pasted in the wrong place.

const REDACTED = '***';
const UNPARSEABLE = '(unparseable URL)';

/**
 * Query keys that carry a credential, case-insensitive: password, pass, passwd, pwd, sslpassword, sslkey,
 * tlsCertificateKeyFilePassword, token, access_token, auth_token, secret, client_secret, access_key, api_key, apikey,
 * key, credentials, authMechanismProperties (MongoDB's AWS session token), and signature-style keys (sig, X-Amz-…).
 */
const SECRET_KEY = /pass|pwd|secret|token|key|credential|signature|^sig$|^auth$|authmechanismproperties/i;

export function isSecretQueryKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/** `scheme://` then the rest; the scheme as RFC 3986 spells it. */
const SCHEME = /^([a-zA-Z][a-zA-Z0-9+.-]*:)\/\/(.*)$/s;

function redactQuery(query: string): string {
  return query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const rawKey = eq < 0 ? pair : pair.slice(0, eq);
      let key = rawKey;
      try {
        key = decodeURIComponent(rawKey.replace(/\+/g, ' '));
      } catch {
        // A malformed escape in a key: judge it as written.
      }
      return eq >= 0 && isSecretQueryKey(key) ? `${rawKey}=${REDACTED}` : pair;
    })
    .join('&');
}

/**
 * The URL with its userinfo replaced by *** and every credential-bearing query value by ***; the fragment is dropped.
 * Works on what WHATWG URL rejects too (MongoDB's several hosts: mongodb://u:p@h1,h2/db?replicaSet=rs0). Everything
 * before the last '@' of the authority counts as userinfo, so a password holding an unescaped '/', '?' or '#' does not
 * leak either. Anything without a `scheme://` is returned as "(unparseable URL)".
 */
export function redactUrl(url: string): string {
  const match = SCHEME.exec(url.trim());
  // Whitespace or control characters: not one URL (perhaps several lines pasted together); never echo it.
  if (!match || [...match[2]!].some((c) => c <= ' ' || c === '\x7f')) return UNPARSEABLE;
  const scheme = match[1]!;
  let rest = match[2]!;
  // Userinfo: everything up to the last '@' (so a password holding an unescaped '/', '?' or '#' does not leak), unless
  // that '@' sits in the path or query of a URL whose authority cannot hold a password (no ':'): ?user=a@b.
  const at = rest.lastIndexOf('@');
  const authorityEnd = rest.search(/[/?#]/);
  const authority = authorityEnd < 0 ? rest : rest.slice(0, authorityEnd);
  const userinfo = at >= 0 && (authorityEnd < 0 || at < authorityEnd || authority.includes(':'));
  if (userinfo) rest = rest.slice(at + 1);
  const hash = rest.indexOf('#');
  if (hash >= 0) rest = rest.slice(0, hash);
  const q = rest.indexOf('?');
  const main = q < 0 ? rest : rest.slice(0, q);
  const query = q < 0 ? '' : `?${redactQuery(rest.slice(q + 1))}`;
  return `${scheme}//${userinfo ? `${REDACTED}@` : ''}${main}${query}`;
}

/**
 * The secret values a connection string carries (its password, with the user:password pair, and credential query
 * values), raw and decoded. Not the user name alone: it is no secret, and it is often a common word ("postgres") that
 * would blank out the scheme and the database name of every message that mentions them.
 */
function secretsOf(url: string): string[] {
  const match = SCHEME.exec(url.trim());
  if (!match) return url.length >= 4 ? [url] : [];
  const rest = match[2]!;
  const found: string[] = [];
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    const colon = userinfo.indexOf(':');
    if (colon >= 0) found.push(userinfo, userinfo.slice(colon + 1));
  }
  const q = rest.indexOf('?');
  if (q >= 0) {
    for (const pair of rest
      .slice(q + 1)
      .split('#')[0]!
      .split('&')) {
      const eq = pair.indexOf('=');
      if (eq >= 0 && isSecretQueryKey(pair.slice(0, eq))) found.push(pair.slice(eq + 1));
    }
  }
  const withDecoded = found.flatMap((s) => {
    try {
      return [s, decodeURIComponent(s)];
    } catch {
      return [s];
    }
  });
  // Short values (a user named "u") would turn every "u" of a message into ***: only what could be a secret.
  return [...new Set(withDecoded)].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
}

const URL_IN_TEXT = /\b[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^\s"'<>`]+/g;

/**
 * A message (a driver's error, a log line) with every URL in it redacted, and with the secrets of the given connection
 * strings removed wherever they appear on their own (some drivers echo the password or the whole string).
 */
export function redactText(text: string, ...connectionStrings: Array<string | undefined>): string {
  let out = text;
  for (const url of connectionStrings) {
    if (!url) continue;
    out = out.split(url).join(redactUrl(url));
    for (const secret of secretsOf(url)) out = out.split(secret).join(REDACTED);
  }
  return out.replace(URL_IN_TEXT, (found) => redactUrl(found));
}

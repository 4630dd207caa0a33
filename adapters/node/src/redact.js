// Password redaction, as poolpilot's Go library does it (pgpool/redact.go):
// the password of a URL, a password=… pair, and literal secrets.

export const REDACTED = 'xxxxx';

const KV_PASSWORD = /(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]+)/gi;
const URL_USERINFO = /(:\/\/[^:/@\s]*:)([^@\s]*)(@)/g;

/** redact replaces passwords in text (a DSN or an error message) by "xxxxx". */
export function redact(text, secrets = []) {
  let s = String(text);
  for (const secret of secrets) {
    if (secret) s = s.split(secret).join(REDACTED);
  }
  s = s.replace(URL_USERINFO, `$1${REDACTED}$3`);
  return s.replace(KV_PASSWORD, `$1${REDACTED}`);
}

/**
 * secretsOf returns the literal secrets to scrub for a pool's options: the
 * password given directly, and the raw and decoded password of its
 * connection string.
 */
export function secretsOf(options = {}) {
  const out = [];
  if (typeof options.password === 'string' && options.password) out.push(options.password);
  const cs = options.connectionString;
  if (typeof cs === 'string' && cs.includes('://')) {
    const m = /:\/\/[^:/@\s]*:([^@\s]*)@/.exec(cs);
    if (m && m[1]) {
      out.push(m[1]);
      try {
        const dec = decodeURIComponent(m[1]);
        if (dec !== m[1]) out.push(dec);
      } catch {
        // not URL-escaped
      }
    }
    try {
      const pw = new URL(cs).searchParams.get('password');
      if (pw) out.push(pw);
    } catch {
      // not a URL
    }
  }
  // Longest first, so that a secret containing another is scrubbed whole.
  return out.sort((a, b) => b.length - a.length);
}

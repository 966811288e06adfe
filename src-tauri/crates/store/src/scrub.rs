//! Redaction by content: secrets inside free text (log lines, span names, status messages,
//! stack traces, SQL, URLs), found by their shape rather than by the name of the field that
//! holds them. [`crate::redact`] calls it for every string value it does not parse as JSON.
//!
//! Caught, each replaced by [`REDACTED`]:
//! - payment card numbers: 13 to 19 digits (optionally grouped by spaces or dashes) with a
//!   card network's prefix that pass the Luhn check, standing alone (not inside a longer
//!   number or word: timestamps, ids and hex are not cards);
//! - the credential of `Bearer …` (16+ characters with a digit) and `Basic …` (base64 of
//!   `user:password`);
//! - the value of a `key=value`, `key: value`, `"key": "value"` or `key 'value'` pair whose key
//!   is sensitive ([`crate::redact::sensitive`]: `password`, `access_token`, `card[number]`,
//!   `Authorization`, …), which covers URL query strings, forms, cookies, headers written into
//!   text and SQL such as `PASSWORD 'x'` (`IDENTIFIED BY 'x'` too); placeholders (`?`, `$1`,
//!   `%s`, `:name`) are kept;
//! - the password of a URL's userinfo (`postgres://app:hunter2@db`);
//! - keys with a published shape: AWS access key ids (`AKIA…`, `ASIA…`), GitHub tokens
//!   (`ghp_…`, `github_pat_…`), Slack (`xoxb-…`), Stripe (`sk_live_…`, `rk_test_…`,
//!   `whsec_…`), Google API keys (`AIza…`), GitLab (`glpat-…`), npm (`npm_…`), SendGrid
//!   (`SG.….…`), OpenAI/Anthropic-style `sk-…`, JSON Web Tokens, and PEM private key blocks.
//!
//! Not caught: a secret with no shape and no name (a bare password in prose), card numbers
//! written with other separators or split across fields, keys of services not listed above.
//!
//! One pass over the bytes, no allocation unless something is found: this runs for every
//! string attribute, body and name at ingest.

use crate::redact::{sensitive, REDACTED};

/// How far back from a `=` or `:` a key is looked for: longer "keys" are prose or data.
const MAX_KEY_LEN: usize = 96;
/// How far a quoted value is followed for its closing quote: past this it is taken as
/// unterminated, and the rest of the text is redacted (a secret is never half-kept).
const MAX_QUOTED_LEN: usize = 8192;
/// How far a URL's authority is followed for the `@` of its userinfo.
const MAX_AUTHORITY_LEN: usize = 512;
/// Bytes of a PEM header line looked at for `PRIVATE KEY`.
const MAX_PEM_HEADER: usize = 64;
/// Bytes of one word looked at for a key shape; a real key is far shorter.
const MAX_WORD_LEN: usize = 4096;

/// `text` with every secret found replaced by [`REDACTED`], and how many: `None` when there was
/// none (the common case: a scan, no allocation).
pub fn scrub(text: &str) -> Option<(String, usize)> {
    let b = text.as_bytes();
    let mut hits: Vec<(usize, usize)> = Vec::new();
    let mut runs = Runs::default();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let at_word_start = i == 0 || !is_word(b[i - 1]);
        let found = if c.is_ascii_digit() && at_word_start {
            match card_at(b, i) {
                Found::Secret(s, e) => Some((s, e)),
                Found::Skip(to) => {
                    i = to;
                    continue;
                }
            }
        } else if c.is_ascii_alphabetic() && at_word_start {
            // Dispatch on the first letter: most words start none of these, and this runs for
            // every word of every string at ingest.
            match c {
                b'g' | b'x' | b's' | b'r' | b'w' | b'n' | b'A' | b'e' | b'S' => {
                    shaped_key_at(b, i, &mut runs)
                }
                b'b' | b'B' => scheme_at(b, i),
                b'i' | b'I' => sql_at(b, i),
                _ => None,
            }
        } else if c == b'=' || c == b':' {
            userinfo_at(b, i).or_else(|| pair_at(b, i))
        } else if c == b'-' {
            pem_at(b, i)
        } else if c == b'\'' || c == b'"' {
            keyword_quote_at(b, i)
        } else {
            None
        };
        match found {
            // A secret that starts before the last one ended is already covered.
            Some((s, e)) if hits.last().is_none_or(|&(_, le)| s >= le) && e > s => {
                hits.push((s, e));
                i = e;
            }
            _ => i += 1,
        }
    }
    if hits.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for &(s, e) in &hits {
        out.push_str(&text[at..s]);
        out.push_str(REDACTED);
        at = e;
    }
    out.push_str(&text[at..]);
    Some((out, hits.len()))
}

/// Whether a JSON integer is a card number (a card sent as a number, not a string).
pub fn is_card_number(n: u64) -> bool {
    // Fewer than 13 digits is no card; the digits are written on the stack, since this runs
    // for every integer of every JSON payload.
    if n < 1_000_000_000_000 {
        return false;
    }
    let mut buf = [0u8; 20];
    let mut at = buf.len();
    let mut v = n;
    while v > 0 {
        at -= 1;
        buf[at] = b'0' + (v % 10) as u8;
        v /= 10;
    }
    let text = &buf[at..];
    matches!(card_at(text, 0), Found::Secret(0, e) if e == text.len())
}

/// Letters, digits and `_`: what continues a word (a card inside `id_4242…` is not a card).
fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

enum Found {
    Secret(usize, usize),
    /// Not a secret; go on from here (past the digits already looked at).
    Skip(usize),
}

/// A card number starting at `i`: digits, optionally in groups (the first of 4, the others
/// of 3 to 6) split by one space or dash each. Digits grouped on after a card (`4242… 123`,
/// a date before it, a quantity) do not hide it: each run of whole groups from the start is
/// tried, longest first, and when none is a card the scan goes on after the first group.
fn card_at(b: &[u8], i: usize) -> Found {
    /// At most this many groups are looked at (a card has at most 5).
    const MAX_GROUPS: usize = 8;
    let mut digits = [0u8; 19];
    let mut n = 0;
    // Each complete group: (digits in it, digits so far, byte end).
    let mut groups: [(usize, usize, usize); MAX_GROUPS] = [(0, 0, 0); MAX_GROUPS];
    let mut count = 0;
    let mut group = 0;
    let mut j = i;
    loop {
        match b.get(j) {
            Some(d) if d.is_ascii_digit() => {
                if n == digits.len() {
                    if count == 0 {
                        // Longer than any card, ungrouped: a number, skipped whole.
                        while b.get(j).is_some_and(u8::is_ascii_digit) {
                            j += 1;
                        }
                        return Found::Skip(j);
                    }
                    // A later group runs past 19 digits: only the groups before it count.
                    group = 0;
                    break;
                }
                digits[n] = d - b'0';
                n += 1;
                group += 1;
                j += 1;
            }
            Some(b' ' | b'-') if group > 0 && b.get(j + 1).is_some_and(u8::is_ascii_digit) => {
                groups[count] = (group, n, j);
                count += 1;
                group = 0;
                if count == MAX_GROUPS {
                    break;
                }
                j += 1;
            }
            _ => break,
        }
    }
    // The group the scan stopped in is complete when it ended at a non-digit.
    let whole_run_end = j;
    if group > 0 && count < MAX_GROUPS {
        groups[count] = (group, n, j);
        count += 1;
    }
    if count == 0 {
        return Found::Skip(j.max(i + 1));
    }
    let first_end = groups[0].2;
    for k in (1..=count).rev() {
        let (_, total, end) = groups[k - 1];
        let lens = || groups[..k].iter().map(|g| g.0);
        let grouping = k == 1
            || (groups[0].0 == 4
                && lens()
                    .skip(1)
                    .take(k.saturating_sub(2))
                    .all(|l| (3..=6).contains(&l))
                && (1..=6).contains(&groups[k - 1].0));
        // Inside a longer word (`id_4242…`, `4242…abc`) it is not a card.
        let after_ok = !(end == whole_run_end && b.get(end).is_some_and(|&c| is_word(c)));
        if grouping && after_ok && (13..=19).contains(&total) {
            let d = &digits[..total];
            if card_prefix(d) && luhn(d) {
                return Found::Secret(i, end);
            }
        }
    }
    Found::Skip(first_end)
}

/// A card network's prefix (Visa, Mastercard, American Express, Discover, Diners, JCB,
/// UnionPay, Maestro). Numbers starting with 1 (Unix times in ms or ns), 7, 8, 9 or 0 are not
/// cards here.
fn card_prefix(d: &[u8]) -> bool {
    let two = d[0] * 10 + d[1];
    let four = two as u16 * 100 + (d[2] * 10 + d[3]) as u16;
    match d[0] {
        2 => (2221..=2720).contains(&four),
        3 => matches!(two, 30 | 34 | 35 | 36 | 37 | 38 | 39),
        4..=6 => true,
        _ => false,
    }
}

fn luhn(d: &[u8]) -> bool {
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(k, &x)| {
            let x = x as u32;
            if k % 2 == 1 {
                let y = x * 2;
                if y > 9 {
                    y - 9
                } else {
                    y
                }
            } else {
                x
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Where runs of token bytes and the next digit end, remembered across one scan: word starts
/// inside one long run (`sk-sk-sk-…`) each asked for the rest of the run, which cost time
/// quadratic in the run's length. Positions are asked in increasing order within a run, so
/// the last answer holds for every position before it.
#[derive(Default)]
struct Runs {
    /// `(from, end)`: the token run containing `from` ends at `end`.
    token: Option<(usize, usize)>,
    /// `(from, at)`: the first digit at or after `from` is at `at` (`b.len()` when none).
    digit: Option<(usize, usize)>,
}

impl Runs {
    fn token_end(&mut self, b: &[u8], at: usize) -> usize {
        if let Some((from, end)) = self.token {
            if from <= at && at <= end {
                return end;
            }
        }
        let end = at
            + b.get(at..)
                .map_or(0, |r| r.iter().take_while(|&&c| is_token(c)).count());
        self.token = Some((at, end));
        end
    }

    fn next_digit(&mut self, b: &[u8], at: usize) -> usize {
        if let Some((from, found)) = self.digit {
            if from <= at && at <= found {
                return found;
            }
        }
        let found = at
            + b.get(at..)
                .map_or(0, |r| r.iter().take_while(|c| !c.is_ascii_digit()).count());
        self.digit = Some((at, found));
        found
    }
}

/// What may be in a key shape's body.
fn is_token(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-')
}

/// A key with a published shape starting at `i` (a word start).
fn shaped_key_at(b: &[u8], i: usize, runs: &mut Runs) -> Option<(usize, usize)> {
    let rest = &b[i..b.len().min(i + MAX_WORD_LEN)];
    // Token bytes from `at` (absolute), within this word's bound.
    let limit = i + rest.len();
    let tokens = |runs: &mut Runs, at: usize| runs.token_end(b, at).min(limit).saturating_sub(at);
    // (prefix, the least number of token bytes after it)
    const PREFIXES: &[(&[u8], usize)] = &[
        (b"ghp_", 30),
        (b"gho_", 30),
        (b"ghu_", 30),
        (b"ghs_", 30),
        (b"ghr_", 30),
        (b"github_pat_", 22),
        (b"xoxb-", 10),
        (b"xoxp-", 10),
        (b"xoxa-", 10),
        (b"xoxr-", 10),
        (b"xoxs-", 10),
        (b"sk_live_", 16),
        (b"sk_test_", 16),
        (b"rk_live_", 16),
        (b"rk_test_", 16),
        (b"whsec_", 16),
        (b"glpat-", 20),
        (b"npm_", 36),
        (b"AIza", 35),
    ];
    for (prefix, min) in PREFIXES {
        if rest.starts_with(prefix) {
            let len = tokens(runs, i + prefix.len());
            if len >= *min {
                return Some((i, i + prefix.len() + len));
            }
        }
    }
    // AWS access key ids: exactly 16 upper-case letters or digits after the prefix.
    if rest.starts_with(b"AKIA") || rest.starts_with(b"ASIA") {
        let len = rest[4..]
            .iter()
            .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            .count();
        if len == 16 && !rest.get(20).is_some_and(|&c| is_word(c)) {
            return Some((i, i + 20));
        }
    }
    // OpenAI- and Anthropic-style keys: long, and with a digit (so `sk-learn` is a word).
    if rest.starts_with(b"sk-") {
        let len = tokens(runs, i + 3);
        if len >= 32 && runs.next_digit(b, i + 3) < i + 3 + len {
            return Some((i, i + 3 + len));
        }
    }
    // A JSON Web Token: `eyJ` (base64 of `{"`) header and payload, then a signature.
    if rest.starts_with(b"eyJ") {
        let header = tokens(runs, i);
        if rest.get(header) == Some(&b'.') && rest[header + 1..].starts_with(b"eyJ") {
            let payload = tokens(runs, i + header + 1);
            let mut end = header + 1 + payload;
            if rest.get(end) == Some(&b'.') {
                end += 1 + tokens(runs, i + end + 1);
            }
            return Some((i, i + end));
        }
    }
    // SendGrid: `SG.` 22 characters `.` 43 characters.
    if rest.starts_with(b"SG.") {
        let a = tokens(runs, i + 3);
        if a >= 16 && rest.get(3 + a) == Some(&b'.') {
            let z = tokens(runs, i + 4 + a);
            if z >= 30 {
                return Some((i, i + 4 + a + z));
            }
        }
    }
    None
}

/// The credential after an HTTP authentication scheme written in text: `Bearer <token>` or
/// `Basic <base64 of user:password>`. The scheme word is kept.
fn scheme_at(b: &[u8], i: usize) -> Option<(usize, usize)> {
    let word = |w: &[u8]| b.len() > i + w.len() && b[i..i + w.len()].eq_ignore_ascii_case(w);
    let (bearer, at) = if word(b"bearer ") {
        (true, i + 7)
    } else if word(b"basic ") {
        (false, i + 6)
    } else {
        return None;
    };
    let cred = |c: u8| {
        c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~' | b'+' | b'/' | b'=')
    };
    let len = b[at..].iter().take_while(|&&c| cred(c)).count();
    let token = &b[at..at + len];
    let plausible = if bearer {
        len >= 16 && token.iter().any(u8::is_ascii_digit)
    } else {
        use base64::Engine as _;
        len >= 8
            && len % 4 == 0
            && base64::engine::general_purpose::STANDARD
                .decode(token)
                .is_ok_and(|d| d.contains(&b':'))
    };
    plausible.then_some((at, at + len))
}

/// `IDENTIFIED BY '…'` (SQL's other way of writing a password).
fn sql_at(b: &[u8], i: usize) -> Option<(usize, usize)> {
    const WORDS: &[u8] = b"identified by";
    let end = i + WORDS.len();
    if b.len() <= end || !b[i..end].eq_ignore_ascii_case(WORDS) {
        return None;
    }
    let at = end + spaces(&b[end..]);
    quoted(b, at)
}

/// The password of a URL's userinfo, at the `:` of `scheme://user:password@host`.
fn userinfo_at(b: &[u8], i: usize) -> Option<(usize, usize)> {
    if b[i] != b':' || !b[i + 1..].starts_with(b"//") {
        return None;
    }
    let start = i + 3;
    let authority = b[start..b.len().min(start + MAX_AUTHORITY_LEN)]
        .iter()
        .take_while(|&&c| {
            !matches!(
                c,
                b'/' | b'?' | b'#' | b' ' | b'\t' | b'\r' | b'\n' | b'"' | b'\''
            )
        })
        .count();
    let auth = &b[start..start + authority];
    let at = auth.iter().rposition(|&c| c == b'@')?;
    let colon = auth[..at].iter().position(|&c| c == b':')?;
    let (s, e) = (start + colon + 1, start + at);
    (e > s && &b[s..e] != REDACTED.as_bytes()).then_some((s, e))
}

/// Last words that make a secret-sounding key name a fact about the secret, not the secret:
/// `card_declined: insufficient funds` is an error message, `token_type=Bearer` is OAuth's
/// type field. Only free text is read this way; an attribute or JSON field named so is still
/// redacted by name.
const STATE_WORDS: &[&str] = &[
    "declined", "expired", "invalid", "missing", "required", "error", "failed", "status", "type",
    "brand", "count", "length", "present", "reset", "changed", "mismatch", "expires", "verified",
    "valid", "rejected",
];

/// Secret words that free-text keys glue to others or to digits (`PGPASSWORD`,
/// `new_password1`, `gpg_passphrase`), which the word-by-word names check does not split.
const GLUED_SECRET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "secret",
    "private_key",
    "privatekey",
];

/// Whether `key` holds one of [`GLUED_SECRET_WORDS`] anywhere, in any case.
fn glued_secret(key: &str) -> bool {
    // No allocation: this runs for the key of every `=` and `:` in every string.
    GLUED_SECRET_WORDS.iter().any(|w| {
        key.as_bytes()
            .windows(w.len())
            .any(|x| x.eq_ignore_ascii_case(w.as_bytes()))
    })
}

/// Whether `key`'s last word is one of [`STATE_WORDS`].
fn names_a_state(key: &str) -> bool {
    let last = key
        .rsplit(|c: char| !c.is_ascii_alphanumeric())
        .find(|w| !w.is_empty())
        .unwrap_or(key);
    // camelCase: the last hump (`cardDeclined` → `Declined`).
    let hump = last
        .char_indices()
        .rev()
        .find(|(_, c)| c.is_ascii_uppercase())
        .map_or(last, |(i, _)| &last[i..]);
    STATE_WORDS
        .iter()
        .any(|w| w.eq_ignore_ascii_case(last) || w.eq_ignore_ascii_case(hump))
}

/// What a key of a `key=value` pair is made of: `user.password`, `card[number]`, `x-api-key`.
fn is_key(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b'[' | b']')
}

fn spaces(b: &[u8]) -> usize {
    b.iter().take_while(|&&c| c == b' ' || c == b'\t').count()
}

/// The value of a sensitive `key=value` or `key: value` pair, at its `=` or `:`.
fn pair_at(b: &[u8], i: usize) -> Option<(usize, usize)> {
    // Back over spaces and the closing quote of a quoted key to the key itself.
    let mut k_end = i;
    while k_end > 0 && b[k_end - 1] == b' ' && i - k_end < 4 {
        k_end -= 1;
    }
    if k_end > 0 && matches!(b[k_end - 1], b'"' | b'\'') {
        k_end -= 1;
    }
    let mut k_start = k_end;
    while k_start > 0 && is_key(b[k_start - 1]) && k_end - k_start < MAX_KEY_LEN {
        k_start -= 1;
    }
    if k_start == k_end || (k_start > 0 && is_key(b[k_start - 1])) {
        return None;
    }
    // Keys are ASCII (is_key), so this is a valid str.
    let key = std::str::from_utf8(&b[k_start..k_end]).ok()?;
    if !(sensitive(key) || glued_secret(key)) || names_a_state(key) {
        return None;
    }
    let mut at = i + 1;
    at += spaces(&b[at..]);
    // `Authorization: Basic …` or `Cookie: a=1; b=2` in text: the whole line is the value.
    let header = b[i] == b':'
        && crate::redact::denied_headers()
            .iter()
            .any(|h| h.eq_ignore_ascii_case(key));
    if header {
        let len = b[at..]
            .iter()
            .take_while(|&&c| c != b'\r' && c != b'\n')
            .count();
        return (len > 0 && &b[at..at + len] != REDACTED.as_bytes()).then_some((at, at + len));
    }
    if let Some(found) = quoted(b, at) {
        return Some(found);
    }
    // `access_token: Bearer eyJ…`: the scheme word is kept, the credential after it is the value.
    if let Some(found) = scheme_at(b, at) {
        return Some(found);
    }
    let len = b[at..]
        .iter()
        .take_while(|&&c| {
            !c.is_ascii_whitespace()
                && !matches!(
                    c,
                    b'&' | b','
                        | b';'
                        | b'"'
                        | b'\''
                        | b')'
                        | b'}'
                        | b']'
                        | b'<'
                        | b'#'
                        | b'{'
                        | b'['
                )
        })
        .count();
    let value = &b[at..at + len];
    let placeholder = value == b"?"
        || value == b"%s"
        || value == REDACTED.as_bytes()
        || (value.len() > 1
            && matches!(value[0], b'$' | b':' | b'@')
            && value[1..].iter().all(|&c| is_word(c)));
    (len > 0 && !placeholder).then_some((at, at + len))
}

/// SQL's `PASSWORD 'x'`: a bare sensitive word, a space, then a quoted value, at the quote.
/// The space is required, so the closing quote of a JSON key (`"password":`) is not taken
/// for the opening of a value.
fn keyword_quote_at(b: &[u8], i: usize) -> Option<(usize, usize)> {
    let gap = b[..i]
        .iter()
        .rev()
        .take_while(|&&c| c == b' ' || c == b'\t')
        .count();
    if gap == 0 || gap > 4 {
        return None;
    }
    let k_end = i - gap;
    let k_start = k_end
        - b[..k_end]
            .iter()
            .rev()
            .take(MAX_KEY_LEN)
            .take_while(|&&c| is_word(c))
            .count();
    if k_start == k_end || (k_start > 0 && matches!(b[k_start - 1], b'"' | b'\'')) {
        return None;
    }
    let key = std::str::from_utf8(&b[k_start..k_end]).ok()?;
    if !sensitive(key) {
        return None;
    }
    quoted(b, i)
}

/// The inside of a quoted string starting at `at` (`'…'` or `"…"`, backslash escapes kept
/// inside); an empty string or one already redacted is not a secret.
fn quoted(b: &[u8], at: usize) -> Option<(usize, usize)> {
    let q = *b.get(at).filter(|&&c| c == b'"' || c == b'\'')?;
    let start = at + 1;
    let limit = b.len().min(start + MAX_QUOTED_LEN);
    let mut j = start;
    let mut closed = None;
    while j < limit {
        if b[j] == q {
            closed = Some(j);
            break;
        }
        j += if b[j] == b'\\' { 2 } else { 1 };
    }
    // Unterminated (or longer than the bound): the rest is taken as the secret.
    let end = closed.unwrap_or(b.len());
    let value = &b[start..end];
    (!value.is_empty() && value != REDACTED.as_bytes()).then_some((start, end))
}

/// A PEM private key block, `-----BEGIN … PRIVATE KEY-----` to its `-----END …-----` (or the
/// end of the text, when cut off).
fn pem_at(b: &[u8], i: usize) -> Option<(usize, usize)> {
    const BEGIN: &[u8] = b"-----BEGIN ";
    if !b[i..].starts_with(BEGIN) {
        return None;
    }
    // The header line is short (`-----BEGIN ENCRYPTED PRIVATE KEY-----`); looking further
    // made text of repeated `-----BEGIN ` cost quadratic time.
    let line = b[i..]
        .iter()
        .take(MAX_PEM_HEADER)
        .take_while(|&&c| c != b'\n')
        .count();
    let head = &b[i..i + line];
    if !head.windows(11).any(|w| w == b"PRIVATE KEY") {
        return None;
    }
    const END: &[u8] = b"-----END ";
    let end = b[i + line..]
        .windows(END.len())
        .position(|w| w == END)
        .map(|p| {
            let from = i + line + p + END.len();
            // Past the closing dashes of the END line.
            let label = b[from..].iter().take_while(|&&c| c != b'\n').count();
            from + label
        })
        .unwrap_or(b.len());
    Some((i, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> String {
        scrub(text)
            .map(|(t, _)| t)
            .unwrap_or_else(|| text.to_owned())
    }

    #[test]
    fn card_numbers_are_found_by_shape_and_checksum() {
        assert_eq!(s("charge 4242424242424242 ok"), "charge [REDACTED] ok");
        assert_eq!(s("card 4242 4242 4242 4242."), "card [REDACTED].");
        assert_eq!(s("amex 3782-822463-10005"), "amex [REDACTED]");
        assert_eq!(s("mc=5555555555554444"), "mc=[REDACTED]");
        assert_eq!(s("{\"n\":\"6011111111111117\"}"), "{\"n\":\"[REDACTED]\"}");
        for kept in [
            "at 1733144400123 ms",               // a Unix time in ms
            "t=1733144400123456789",             // and in ns
            "4242424242424241",                  // fails Luhn
            "order 42424242424242420000 placed", // longer than any card
            "id_4242424242424242",               // inside a word
            "4bf92f3577b34da6a3ce929d0e0e4736",  // hex
            "4242 4242 42 42424242",             // not card grouping
            "2026-12-02 21:55:03",
            "+1 415-555-2671",
        ] {
            assert_eq!(s(kept), kept);
        }
        assert!(is_card_number(4242424242424242));
        assert!(!is_card_number(1733144400123));
    }

    #[test]
    fn a_card_next_to_other_numbers_is_still_a_card() {
        for (text, want) in [
            ("charge 4242424242424242 123", "charge [REDACTED] 123"),
            (
                "card 4242424242424242 12/25 cvc 123",
                "card [REDACTED] 12/25 cvc 123",
            ),
            ("2026-12-02 4242424242424242", "2026-12-02 [REDACTED]"),
            ("qty 1 4242424242424242", "qty 1 [REDACTED]"),
            ("4242 4242 4242 4242 123", "[REDACTED] 123"),
            ("4242 4242 4242 4242 12345678", "[REDACTED] 12345678"),
        ] {
            assert_eq!(s(text), want, "{text}");
        }
    }

    #[test]
    fn repeated_triggers_are_not_secrets() {
        // Text built to make each word start rescan the rest (the time it takes is measured by
        // `cargo bench --bench stages`): none of it is a secret.
        for unit in ["-----BEGIN ", "sk-", "eyJ-", "5555 ", "Bearer "] {
            let text = unit.repeat(20_000 / unit.len());
            assert_eq!(scrub(&text), None, "{unit:?}");
        }
    }

    #[test]
    fn credentials_and_glued_names_after_a_key() {
        assert_eq!(
            s("access_token: Bearer 0123456789abcdefXYZ"),
            "access_token: Bearer [REDACTED]"
        );
        assert_eq!(s("PGPASSWORD=hunter2 psql"), "PGPASSWORD=[REDACTED] psql");
        assert_eq!(
            s("new_password1=a&new_password2=b"),
            "new_password1=[REDACTED]&new_password2=[REDACTED]"
        );
        assert_eq!(s("gpg_passphrase: x"), "gpg_passphrase: [REDACTED]");
    }

    #[test]
    fn a_fact_about_a_secret_is_not_a_secret() {
        for kept in [
            "card_declined: insufficient funds",
            "cardDeclined: insufficient funds",
            "token_type=Bearer&expires_in=3600",
            "password_reset: sent",
        ] {
            assert_eq!(s(kept), kept);
        }
        assert_eq!(s("card_number: 1234"), "card_number: [REDACTED]");
        assert_eq!(s("password=x"), "password=[REDACTED]");
    }

    #[test]
    fn credentials_after_a_scheme_are_redacted() {
        assert_eq!(
            s("sent Authorization Bearer abc123def456ghi789 to /pay"),
            "sent Authorization Bearer [REDACTED] to /pay"
        );
        assert_eq!(s("Basic YWRhOmh1bnRlcjI="), "Basic [REDACTED]");
        assert_eq!(
            s("Bearer authentication is required"),
            "Bearer authentication is required"
        );
        assert_eq!(s("Basic information"), "Basic information");
    }

    #[test]
    fn sensitive_pairs_lose_their_values() {
        assert_eq!(
            s("http://shop/?password=x&q=1"),
            "http://shop/?password=[REDACTED]&q=1"
        );
        assert_eq!(
            s("GET /cb?access_token=abc.def&state=2"),
            "GET /cb?access_token=[REDACTED]&state=2"
        );
        assert_eq!(
            s("user=ada&password=hunter2&remember=1"),
            "user=ada&password=[REDACTED]&remember=1"
        );
        assert_eq!(s("card[number]=4000&x=1"), "card[number]=[REDACTED]&x=1");
        assert_eq!(
            s("login failed, password: hunter2"),
            "login failed, password: [REDACTED]"
        );
        assert_eq!(
            s(r#"body {"user":"ada","password":"hun\"ter2"} cut"#),
            r#"body {"user":"ada","password":"[REDACTED]"} cut"#
        );
        assert_eq!(
            s("Authorization: Basic YWRhOmh1bnRlcjI=\r\nAccept: */*"),
            "Authorization: [REDACTED]\r\nAccept: */*"
        );
        assert_eq!(
            s("ALTER USER app WITH PASSWORD 'hunter2'"),
            "ALTER USER app WITH PASSWORD '[REDACTED]'"
        );
        assert_eq!(
            s("CREATE USER x IDENTIFIED BY 'hunter2';"),
            "CREATE USER x IDENTIFIED BY '[REDACTED]';"
        );
        assert_eq!(
            s("UPDATE users SET password = 'x1' WHERE id = 3"),
            "UPDATE users SET password = '[REDACTED]' WHERE id = 3"
        );
        for kept in [
            "SELECT * FROM users WHERE password = ? AND pin = $1",
            "a plain sentence with a password in it",
            "gen_ai.usage.output_tokens=12",
            "http://shop/cart?q=card",
            "password=",
        ] {
            assert_eq!(s(kept), kept);
        }
    }

    #[test]
    fn url_passwords_and_shaped_keys_are_redacted() {
        assert_eq!(
            s("connect postgres://app:hunter2@db:5432/shop"),
            "connect postgres://app:[REDACTED]@db:5432/shop"
        );
        assert_eq!(s("http://db:5432/x"), "http://db:5432/x");
        for key in [
            "AKIAIOSFODNN7EXAMPLE",
            "ghp_0123456789abcdefghijABCDEFGHIJ012345",
            "xoxb-123456789012-abcdefghij",
            "sk_live_0123456789abcdefABCD",
            "AIzaSyA-0123456789abcdefghijklmnopqrstu",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
            "sk-proj-0123456789abcdefghijklmnopqrstuvwxyz",
        ] {
            assert_eq!(
                s(&format!("key {key} used")),
                "key [REDACTED] used",
                "{key}"
            );
        }
        assert_eq!(s("pip install sk-learn"), "pip install sk-learn");
        let pem =
            "x\n-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nabc\n-----END RSA PRIVATE KEY-----\ny";
        assert_eq!(s(pem), "x\n[REDACTED]\ny");
        assert_eq!(
            s("-----BEGIN CERTIFICATE-----\nMII"),
            "-----BEGIN CERTIFICATE-----\nMII"
        );
    }

    #[test]
    fn scrubbing_is_idempotent_and_safe_on_any_text() {
        let once = s("password=x Bearer abc123def456ghi789 4242424242424242 postgres://a:b@h");
        assert_eq!(scrub(&once), None, "{once}");
        // Multi-byte text around and inside values, and cut-off input, never panic.
        for text in [
            "pässword='hé",
            "password=é€",
            "token:\"\\",
            "Bearer ",
            "-----BEGIN ",
            "://",
            "4",
            "password='\\é",
        ] {
            let _ = scrub(text);
        }
    }
}

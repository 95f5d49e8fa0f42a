//! Case-insensitive header lookup over whatever container the caller already has.

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;

/// The result of looking a header up: absent, present once, or repeated (which verification refuses,
/// since two values for a signed header means something rewrote the request).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderLookup<'a> {
    /// No entry has the name.
    Missing,
    /// Exactly one entry has the name: its value, byte for byte as the container holds it.
    One(&'a [u8]),
    /// More than one entry has the name, in the same casing or not.
    Repeated,
}

impl<'a> HeaderLookup<'a> {
    /// Folds the values found for one name.
    pub fn from_values(values: impl IntoIterator<Item = &'a [u8]>) -> HeaderLookup<'a> {
        let mut values = values.into_iter();
        match (values.next(), values.next()) {
            (None, _) => HeaderLookup::Missing,
            (Some(value), None) => HeaderLookup::One(value),
            (Some(_), Some(_)) => HeaderLookup::Repeated,
        }
    }
}

/// A header container. Implementations match `name` ASCII-case-insensitively.
///
/// Implemented for slices, arrays and `Vec`s of `(name, value)` pairs, `HashMap`, `BTreeMap` and (feature
/// `http`) `http::HeaderMap`. Names and values may be `&str`, `String`, `&[u8]` or `Vec<u8>`.
///
/// Not dyn-compatible ([`Headers::headers`] is generic over the number of names, so the verifier looks
/// its headers up in one pass); every entry point takes `&(impl Headers + ?Sized)` instead.
pub trait Headers {
    /// Looks one header up. The core passes canonical names (`Anchor-Signature`, `webhook-id`); an
    /// implementation must match them ASCII-case-insensitively, whatever casing its container stores.
    ///
    /// Returns [`HeaderLookup::Missing`] when no entry has the name, [`HeaderLookup::One`] with the value
    /// when exactly one has, and [`HeaderLookup::Repeated`] when more than one has, even in different
    /// casings: the values must not be joined or one of them picked, since verification refuses a repeated
    /// header (`malformed_header`).
    fn header(&self, name: &str) -> HeaderLookup<'_>;

    /// Looks several names up at once. The default asks [`Headers::header`] for each; containers that
    /// must scan (lists of pairs, maps with keys in any case) answer them all in one pass.
    fn headers<const N: usize>(&self, names: [&str; N]) -> [HeaderLookup<'_>; N] {
        names.map(|name| self.header(name))
    }
}

impl<T: Headers + ?Sized> Headers for &T {
    fn header(&self, name: &str) -> HeaderLookup<'_> {
        (**self).header(name)
    }

    fn headers<const N: usize>(&self, names: [&str; N]) -> [HeaderLookup<'_>; N] {
        (**self).headers(names)
    }
}

fn lookup<'a, K, V>(pairs: impl Iterator<Item = (&'a K, &'a V)>, name: &str) -> HeaderLookup<'a>
where
    K: AsRef<[u8]> + 'a,
    V: AsRef<[u8]> + 'a,
{
    let [found] = lookup_many(pairs, [name]);
    found
}

/// One pass over the pairs for every name.
fn lookup_many<'a, K, V, const N: usize>(
    pairs: impl Iterator<Item = (&'a K, &'a V)>,
    names: [&str; N],
) -> [HeaderLookup<'a>; N]
where
    K: AsRef<[u8]> + 'a,
    V: AsRef<[u8]> + 'a,
{
    let mut found = [HeaderLookup::Missing; N];
    // Names of equal length often differ only at the end (`Anchor-Timestamp`, `Anchor-Signature`):
    // comparing the last byte first skips most full comparisons.
    let ends = names.map(|name| name.as_bytes().last().map(u8::to_ascii_lowercase));
    for (key, value) in pairs {
        let key = key.as_ref();
        let key_end = key.last().map(u8::to_ascii_lowercase);
        for ((slot, name), end) in found.iter_mut().zip(names).zip(ends) {
            let name = name.as_bytes();
            if key.len() == name.len() && key_end == end && key.eq_ignore_ascii_case(name) {
                *slot = match *slot {
                    HeaderLookup::Missing => HeaderLookup::One(value.as_ref()),
                    _ => HeaderLookup::Repeated,
                };
            }
        }
    }
    found
}

impl<K: AsRef<[u8]>, V: AsRef<[u8]>> Headers for [(K, V)] {
    fn header(&self, name: &str) -> HeaderLookup<'_> {
        lookup(self.iter().map(|(k, v)| (k, v)), name)
    }

    fn headers<const N: usize>(&self, names: [&str; N]) -> [HeaderLookup<'_>; N] {
        lookup_many(self.iter().map(|(k, v)| (k, v)), names)
    }
}

impl<K: AsRef<[u8]>, V: AsRef<[u8]>, const M: usize> Headers for [(K, V); M] {
    fn header(&self, name: &str) -> HeaderLookup<'_> {
        self.as_slice().header(name)
    }

    fn headers<const N: usize>(&self, names: [&str; N]) -> [HeaderLookup<'_>; N] {
        self.as_slice().headers(names)
    }
}

impl<K: AsRef<[u8]>, V: AsRef<[u8]>> Headers for Vec<(K, V)> {
    fn header(&self, name: &str) -> HeaderLookup<'_> {
        self.as_slice().header(name)
    }

    fn headers<const N: usize>(&self, names: [&str; N]) -> [HeaderLookup<'_>; N] {
        self.as_slice().headers(names)
    }
}

impl<K: AsRef<[u8]>, V: AsRef<[u8]>, S: BuildHasher> Headers for HashMap<K, V, S> {
    fn header(&self, name: &str) -> HeaderLookup<'_> {
        // Keys may be in any case, so `Anchor-Signature` and `anchor-signature` are the same header twice.
        lookup(self.iter(), name)
    }

    fn headers<const N: usize>(&self, names: [&str; N]) -> [HeaderLookup<'_>; N] {
        lookup_many(self.iter(), names)
    }
}

impl<K: AsRef<[u8]>, V: AsRef<[u8]>> Headers for BTreeMap<K, V> {
    fn header(&self, name: &str) -> HeaderLookup<'_> {
        lookup(self.iter(), name)
    }

    fn headers<const N: usize>(&self, names: [&str; N]) -> [HeaderLookup<'_>; N] {
        lookup_many(self.iter(), names)
    }
}

/// CGI and WSGI environ variables read as headers: `Anchor-Signature` is `HTTP_ANCHOR_SIGNATURE`, and
/// `Content-Type` / `Content-Length` are `CONTENT_TYPE` / `CONTENT_LENGTH` (CGI gives those two no prefix).
/// Variables that are not headers (`REQUEST_METHOD`, `wsgi.input`, ...) are never matched.
#[derive(Clone, Copy, Debug)]
pub struct CgiHeaders<'a, K, V>(pub &'a [(K, V)]);

impl<K: AsRef<[u8]>, V: AsRef<[u8]>> Headers for CgiHeaders<'_, K, V> {
    fn header(&self, name: &str) -> HeaderLookup<'_> {
        HeaderLookup::from_values(
            self.0
                .iter()
                .filter(|(key, _)| is_cgi_name_of(key.as_ref(), name))
                .map(|(_, value)| value.as_ref()),
        )
    }
}

/// The CGI/WSGI environ variable that carries `header`: `Anchor-Signature` is `HTTP_ANCHOR_SIGNATURE`,
/// `Content-Type` is `CONTENT_TYPE` (the names [`CgiHeaders`] reads).
pub fn cgi_variable(header: &str) -> String {
    let prefix = cgi_prefix(header.as_bytes());
    let variable: String =
        header.chars().map(|c| if c == '-' { '_' } else { c.to_ascii_uppercase() }).collect();
    format!("{prefix}{variable}")
}

/// The spellings of a header name hosts usually hand over, each once: as given, lower case (HTTP/2, Node,
/// Starlette), Title-Case (`Anchor-Signature`: Werkzeug, Django, most HTTP/1.1 clients) and upper case.
/// Bindings that classify a name with one table lookup build their table from these; a name spelled any
/// other way still matches (case-insensitively, in the core), through their general path.
pub fn usual_spellings(header: &str) -> Vec<String> {
    let mut start_of_word = true;
    let title_case = header
        .chars()
        .map(|c| {
            let spelled = if start_of_word { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() };
            start_of_word = c == '-';
            spelled
        })
        .collect();
    let mut spellings: Vec<String> = Vec::with_capacity(4);
    for spelling in [header.to_owned(), header.to_ascii_lowercase(), title_case, header.to_ascii_uppercase()]
    {
        if !spellings.contains(&spelling) {
            spellings.push(spelling);
        }
    }
    spellings
}

/// What CGI puts before a header's variable name: `HTTP_`, except for `Content-Type` and `Content-Length`.
fn cgi_prefix(header: &[u8]) -> &'static str {
    let unprefixed =
        header.eq_ignore_ascii_case(b"content-type") || header.eq_ignore_ascii_case(b"content-length");
    if unprefixed {
        ""
    } else {
        "HTTP_"
    }
}

fn is_cgi_name_of(variable: &[u8], header: &str) -> bool {
    let header = header.as_bytes();
    let rest = variable.strip_prefix(cgi_prefix(header).as_bytes());
    rest.is_some_and(|rest| {
        rest.len() == header.len()
            && rest
                .iter()
                .zip(header)
                .all(|(&v, &h)| if h == b'-' { v == b'_' } else { v.eq_ignore_ascii_case(&h) })
    })
}

#[cfg(feature = "http")]
impl Headers for http::HeaderMap {
    fn header(&self, name: &str) -> HeaderLookup<'_> {
        HeaderLookup::from_values(self.get_all(name).iter().map(|value| value.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_match_any_case_and_report_repeats() {
        let pairs = [("Anchor-Signature", "a"), ("anchor-timestamp", "1"), ("ANCHOR-TIMESTAMP", "2")];
        assert_eq!(pairs.header("anchor-signature"), HeaderLookup::One(b"a"));
        assert_eq!(pairs.header("anchor-timestamp"), HeaderLookup::Repeated);
        assert_eq!(pairs.header("anchor-event"), HeaderLookup::Missing);
        let [signature, timestamp, event] =
            pairs.headers(["anchor-signature", "Anchor-Timestamp", "anchor-event"]);
        assert_eq!(
            (signature, timestamp, event),
            (HeaderLookup::One(b"a"), HeaderLookup::Repeated, HeaderLookup::Missing)
        );
    }

    #[test]
    fn hash_map_with_two_casings_is_repeated() {
        let mut map = HashMap::new();
        map.insert("Anchor-Signature".to_string(), "a".to_string());
        assert_eq!(map.header("anchor-signature"), HeaderLookup::One(b"a"));
        map.insert("anchor-signature".to_string(), "b".to_string());
        assert_eq!(map.header("anchor-signature"), HeaderLookup::Repeated);
    }

    #[test]
    fn cgi_variables_are_headers_and_nothing_else_is() {
        let environ = [
            ("REQUEST_METHOD", "POST"),
            ("HTTP_ANCHOR_SIGNATURE", "t=1,v1=ab"),
            ("CONTENT_TYPE", "application/json"),
            ("HTTP_CONTENT_TYPE", "text/plain"),
            ("ANCHOR_TIMESTAMP", "1"),
            ("wsgi.input", "<stream>"),
        ];
        let cgi = CgiHeaders(&environ);
        assert_eq!(cgi.header("Anchor-Signature"), HeaderLookup::One(b"t=1,v1=ab"));
        assert_eq!(cgi.header("content-type"), HeaderLookup::One(b"application/json"));
        assert_eq!(cgi.header("Anchor-Timestamp"), HeaderLookup::Missing);
        assert_eq!(cgi.header("Request-Method"), HeaderLookup::Missing);
    }

    #[test]
    fn usual_spellings_are_each_spelling_once() {
        assert_eq!(
            usual_spellings("Anchor-Signature"),
            ["Anchor-Signature", "anchor-signature", "ANCHOR-SIGNATURE"]
        );
        assert_eq!(usual_spellings("webhook-id"), ["webhook-id", "Webhook-Id", "WEBHOOK-ID"]);
        assert_eq!(
            usual_spellings("x-WEIRD-case"),
            ["x-WEIRD-case", "x-weird-case", "X-Weird-Case", "X-WEIRD-CASE"]
        );
    }

    #[test]
    fn cgi_variable_is_what_cgi_headers_reads() {
        for header in ["Anchor-Signature", "webhook-id", "Content-Type", "content-length"] {
            let variable = cgi_variable(header);
            let environ = [(variable.as_str(), "value")];
            assert_eq!(CgiHeaders(&environ).header(header), HeaderLookup::One(b"value"), "{variable}");
        }
        assert_eq!(cgi_variable("Anchor-Signature"), "HTTP_ANCHOR_SIGNATURE");
        assert_eq!(cgi_variable("content-type"), "CONTENT_TYPE");
    }

    #[cfg(feature = "http")]
    #[test]
    fn header_map_appended_values_are_repeated() {
        let mut map = http::HeaderMap::new();
        map.insert("anchor-signature", "a".parse().unwrap());
        assert_eq!(map.header("anchor-signature"), HeaderLookup::One(b"a"));
        map.append("Anchor-Signature", "b".parse().unwrap());
        assert_eq!(map.header("anchor-signature"), HeaderLookup::Repeated);
    }
}

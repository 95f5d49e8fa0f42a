//! Reading what a command works on: the raw body, delivery headers and URLs.
//!
//! This is only the CLI's own input format (`Name: value` lines). What a header value means, and whether
//! it is acceptable, is decided by the core.

use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};

use clap::Args;

use crate::output::Failure;

/// A header as given on the command line or in a file: the value's bytes are kept exactly (the core
/// refuses non-ASCII values itself).
pub(crate) type Header = (String, Vec<u8>);

/// Where the body comes from. Shared by every command that reads one.
#[derive(Args, Debug)]
pub(crate) struct BodyArgs {
    /// Read the body from FILE instead of stdin (`-` is stdin). Raw bytes, any encoding: never
    /// re-encoded or re-serialised.
    #[arg(long, value_name = "FILE")]
    pub(crate) body_file: Option<PathBuf>,
}

impl BodyArgs {
    /// The raw body bytes.
    pub(crate) fn read(&self) -> Result<Vec<u8>, Failure> {
        match &self.body_file {
            Some(path) if path.as_os_str() != "-" => read_file(path, "--body-file"),
            _ => read_stdin("the body"),
        }
    }

    /// Whether the body is read from stdin (no `--body-file`, or `--body-file -`).
    pub(crate) fn reads_stdin(&self) -> bool {
        self.body_file.as_ref().is_none_or(|path| path.as_os_str() == "-")
    }
}

/// Reads a whole file as bytes; an unreadable file is a usage error.
pub(crate) fn read_file(path: &Path, flag: &str) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|error| Failure::usage(format!("{flag} {}: {error}", path.display())))
}

/// Parses an `http://` or `https://` URL given to `flag`; anything else is a usage error.
pub(crate) fn http_url(flag: &str, text: &str) -> Result<reqwest::Url, Failure> {
    let expected = |problem: &dyn std::fmt::Display| {
        Failure::usage(format!("{flag} {text}: expected an http:// or https:// URL ({problem})"))
    };
    let url = reqwest::Url::parse(text).map_err(|error| expected(&error))?;
    match (url.scheme(), url.host_str()) {
        ("http" | "https", Some(_)) => Ok(url),
        ("http" | "https", None) => Err(expected(&"no host")),
        (scheme, _) => Err(expected(&format_args!("the scheme is `{scheme}`"))),
    }
}

/// Parses the `-H 'Name: value'` arguments, in order.
pub(crate) fn header_args(args: &[OsString]) -> Result<Vec<Header>, Failure> {
    args.iter()
        .enumerate()
        .map(|(index, arg)| {
            split_header(arg.as_encoded_bytes()).map_err(|problem| {
                Failure::usage(format!("-H argument #{}: {problem}; expected 'Name: value'", index + 1))
            })
        })
        .collect()
}

/// Parses a file of `Name: value` lines (`-` is stdin): a delivery's header block, or a whole captured
/// request. CRLF or LF line ends, and a leading UTF-8 byte order mark (a file saved on Windows) is
/// skipped. A file that starts with an HTTP request line (`POST /hooks HTTP/1.1`) is a capture: its
/// header block ends at the first blank line, and the body after it is not read here. In any other file
/// blank lines are skipped. Repeated names are kept repeated (the core decides what that means).
pub(crate) fn headers_file(path: &Path) -> Result<Vec<Header>, Failure> {
    let bytes =
        if path.as_os_str() == "-" { read_stdin("the headers")? } else { read_file(path, "--headers-file")? };
    parse_header_lines(&bytes).map_err(|(line, problem)| {
        Failure::usage(format!(
            "--headers-file {}: line {line}: {problem}; expected 'Name: value'",
            path.display()
        ))
    })
}

/// Reads stdin to its end (`what` names it in the error).
fn read_stdin(what: &str) -> Result<Vec<u8>, Failure> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .lock()
        .read_to_end(&mut bytes)
        .map_err(|error| Failure::usage(format!("cannot read {what} from stdin: {error}")))?;
    Ok(bytes)
}

/// The lines of a headers file; on error, the 1-based line number and the problem.
fn parse_header_lines(bytes: &[u8]) -> Result<Vec<Header>, (usize, &'static str)> {
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    let mut headers = Vec::new();
    let mut seen_content = false;
    let mut capture = false;
    for (index, line) in bytes.split(|&b| b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if trim_ows(line).is_empty() {
            if capture && !headers.is_empty() {
                break;
            }
            continue;
        }
        let first = !seen_content;
        seen_content = true;
        if first && is_request_line(line) {
            capture = true;
            continue;
        }
        headers.push(split_header(line).map_err(|problem| (index + 1, problem))?);
    }
    Ok(headers)
}

/// `METHOD TARGET HTTP/x.y`.
fn is_request_line(line: &[u8]) -> bool {
    let parts: Vec<&[u8]> = line.split(|&b| b == b' ').filter(|part| !part.is_empty()).collect();
    matches!(parts.as_slice(), [method, _, version]
        if method.iter().all(u8::is_ascii_uppercase) && version.starts_with(b"HTTP/"))
}

/// Splits `Name: value` at the first `:`. The name must be an HTTP token; the value is trimmed of the
/// spaces and tabs around it (HTTP's optional whitespace) and otherwise kept byte for byte.
fn split_header(line: &[u8]) -> Result<Header, &'static str> {
    let colon = line.iter().position(|&b| b == b':').ok_or("no ':' separates a name from a value")?;
    let (name, value) = (&line[..colon], &line[colon + 1..]);
    if name.is_empty() {
        return Err("the header name is empty");
    }
    if !name.iter().copied().all(is_token_byte) {
        return Err("the header name is not an HTTP token (no spaces or separators)");
    }
    let name = std::str::from_utf8(name).map_err(|_| "the header name is not ASCII")?;
    Ok((name.to_owned(), trim_ows(value).to_vec()))
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn trim_ows(bytes: &[u8]) -> &[u8] {
    let is_ows = |b: &u8| *b == b' ' || *b == b'\t';
    let start = bytes.iter().position(|b| !is_ows(b)).unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|b| !is_ows(b)).map_or(start, |i| i + 1);
    &bytes[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(name: &str, value: &[u8]) -> Header {
        (name.to_owned(), value.to_vec())
    }

    #[test]
    fn splits_at_the_first_colon_and_trims_ows_only() {
        assert_eq!(
            split_header(b"Anchor-Signature: \t t=1,v1=ab:cd  \t"),
            Ok(header("Anchor-Signature", b"t=1,v1=ab:cd"))
        );
        assert_eq!(split_header(b"X:"), Ok(header("X", b"")));
        assert_eq!(split_header(b"X: a  b"), Ok(header("X", b"a  b")));
        assert_eq!(split_header(b"X: \xff"), Ok(header("X", b"\xff")));
        assert!(split_header(b"no colon").is_err());
        assert!(split_header(b": value").is_err());
        assert!(split_header(b"Bad Name: value").is_err());
        assert!(split_header(b"{\"id\": 1}").is_err());
    }

    #[test]
    fn header_files_skip_blank_lines_and_a_leading_request_line() {
        let text = b"\r\nPOST /hooks?x=1 HTTP/1.1\r\nHost: example.com:443\r\nA: 1\r\n";
        assert_eq!(parse_header_lines(text), Ok(vec![header("Host", b"example.com:443"), header("A", b"1")]));
        // Without a request line, blank lines anywhere are skipped.
        let text = b"\r\nHost: example.com:443\r\nA: 1\r\n\r\na: 2\n\n";
        assert_eq!(
            parse_header_lines(text),
            Ok(vec![header("Host", b"example.com:443"), header("A", b"1"), header("a", b"2")])
        );
        // A request line anywhere else is an error, as is any other line without a colon.
        assert_eq!(
            parse_header_lines(b"A: 1\nPOST / HTTP/1.1\n"),
            Err((2, "no ':' separates a name from a value"))
        );
        assert_eq!(parse_header_lines(b""), Ok(vec![]));
    }

    #[test]
    fn a_capture_ends_its_headers_at_the_blank_line() {
        let capture =
            b"POST /hooks HTTP/1.1\r\nHost: h\r\nA: 1\r\n\r\n{\"id\": \"evt_1\",\r\n\"data\": {}}\r\n";
        assert_eq!(parse_header_lines(capture), Ok(vec![header("Host", b"h"), header("A", b"1")]));
        // A byte order mark before the first line is not part of a header name.
        assert_eq!(parse_header_lines("\u{feff}A: 1\r\n".as_bytes()), Ok(vec![header("A", b"1")]));
    }

    #[test]
    fn urls_must_be_http() {
        assert!(http_url("--url", "http://127.0.0.1:8787/webhooks").is_ok());
        assert!(http_url("--url", "https://example.com/hooks").is_ok());
        assert!(http_url("--url", "ftp://example.com/").is_err());
        assert!(http_url("--url", "localhost:8787").is_err());
        assert!(http_url("--url", "not a url").is_err());
    }

    #[test]
    fn request_lines() {
        assert!(is_request_line(b"POST /x HTTP/1.1"));
        assert!(is_request_line(b"POST http://h:80/x HTTP/2"));
        assert!(!is_request_line(b"Host: a b HTTP/1.1"));
        assert!(!is_request_line(b"POST /x"));
    }
}

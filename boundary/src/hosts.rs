//! The Host allow-list and the same-origin rule.

use std::{
    net::{IpAddr, Ipv6Addr, SocketAddr},
    sync::Arc,
};

use http::{HeaderMap, Uri, header};

/// Longest piece of a header value repeated in a refusal, so an answer never grows with what a
/// client sends.
const MAX_ECHO: usize = 100;

/// The only scheme our servers speak (TLS, if any, ends in a proxy in front).
const SCHEME: &str = "http";

/// The port a URL without one means for [`SCHEME`].
const DEFAULT_PORT: u16 = 80;

/// The host and port of a `Host` header, an HTTP/2 `:authority` or an origin.
///
/// Host names are lowercased and IP literals written in their canonical form (IPv6 in
/// brackets), so two spellings of one address compare equal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authority {
    /// Host name or IP literal.
    pub host: String,
    /// Port, when one is given.
    pub port: Option<u16>,
}

impl Authority {
    /// Parses `host` or `host:port`.
    ///
    /// Returns `None` for anything else: an empty host, user information, a path, characters
    /// no host name has, or a port that is not a number from 0 to 65535.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.to_ascii_lowercase();
        let (host, port) = if let Some(rest) = text.strip_prefix('[') {
            let (inner, after) = rest.split_once(']')?;
            let ip: Ipv6Addr = inner.parse().ok()?;
            let port = if after.is_empty() { None } else { Some(after.strip_prefix(':')?) };
            (format!("[{ip}]"), port)
        } else {
            let (host, port) = match text.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (text.as_str(), None),
            };
            let name_like =
                !host.is_empty() && host.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_');
            if !name_like {
                return None;
            }
            let host = host.parse::<IpAddr>().map_or_else(|_| host.to_owned(), |ip| ip.to_string());
            (host, port)
        };
        let port = match port {
            None => None,
            Some(digits) if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) => {
                Some(digits.parse().ok()?)
            }
            Some(_) => return None,
        };
        Some(Self { host, port })
    }

    /// The port this authority means when it names none.
    fn effective_port(&self) -> u16 {
        self.port.unwrap_or(DEFAULT_PORT)
    }
}

/// Why a request was refused at the boundary. The messages say what to change and never
/// contain a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Neither a `Host` header nor an `:authority` names the server.
    #[error("the request names no host; send a Host header")]
    NoHost,
    /// The host named is not one of this machine's allowed names.
    #[error(
        "host '{host}' is not allowed (protection against DNS rebinding); this server answers to {allowed}, \
         and more names can be allowed with --allow-host"
    )]
    ForeignHost {
        /// What the request named.
        host: String,
        /// The allowed names, for the message.
        allowed: String,
    },
    /// The request came from a page of another origin.
    #[error("origin '{origin}' is not this server's origin ({own}); cross-site requests are refused")]
    ForeignOrigin {
        /// What the request's `Origin` said.
        origin: String,
        /// The server's own origin as the request named it.
        own: String,
    },
    /// A name given to [`AllowedHosts::new`] is no host name.
    #[error("'{0}' is not a host name or IP address")]
    InvalidName(String),
}

/// A header value as text for a message, cut to [`MAX_ECHO`] characters.
fn echo(value: &[u8]) -> String {
    String::from_utf8_lossy(value).chars().take(MAX_ECHO).collect()
}

/// Host names (without port) a server answers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHosts(Arc<Vec<String>>);

impl AllowedHosts {
    /// Loopback names (`localhost`, `127.0.0.1`, `[::1]`), the address the server is bound to
    /// (unless it is a wildcard such as `0.0.0.0`, which names no host), and `extra`: names
    /// chosen on purpose, such as the machine's LAN name (a port given with one is ignored).
    ///
    /// # Errors
    /// [`Refusal::InvalidName`] for an `extra` entry that is no host name or IP address.
    pub fn new(bound: SocketAddr, extra: &[String]) -> Result<Self, Refusal> {
        let mut hosts: Vec<String> = ["localhost", "127.0.0.1", "[::1]"].iter().map(|h| (*h).to_owned()).collect();
        let ip = bound.ip();
        if !ip.is_unspecified() {
            hosts.push(match ip {
                IpAddr::V4(v4) => v4.to_string(),
                IpAddr::V6(v6) => format!("[{v6}]"),
            });
        }
        for name in extra {
            // A bare IPv6 address is accepted as well as its bracketed form.
            let parsed = match name.parse::<Ipv6Addr>() {
                Ok(ip) => Some(Authority { host: format!("[{ip}]"), port: None }),
                Err(_) => Authority::parse(name.trim()),
            };
            let parsed = parsed.ok_or_else(|| Refusal::InvalidName(name.clone()))?;
            hosts.push(parsed.host);
        }
        hosts.dedup();
        Ok(Self(Arc::new(hosts)))
    }

    /// The allowed names, loopback first.
    #[must_use]
    pub fn names(&self) -> &[String] {
        &self.0
    }

    /// Whether `authority` names an allowed host (any port).
    #[must_use]
    pub fn allows(&self, authority: &Authority) -> bool {
        self.0.contains(&authority.host)
    }

    fn check(&self, raw: &[u8]) -> Result<Authority, Refusal> {
        let parsed = std::str::from_utf8(raw).ok().and_then(Authority::parse);
        match parsed {
            Some(authority) if self.allows(&authority) => Ok(authority),
            _ => Err(Refusal::ForeignHost { host: echo(raw), allowed: self.0.join(", ") }),
        }
    }
}

/// The authority a request names, checked against `hosts`: its `Host` header and, for
/// HTTP/2, its `:authority` (both when both are present).
///
/// # Errors
/// [`Refusal::NoHost`] when the request names none, [`Refusal::ForeignHost`] when one is not
/// allowed or cannot be read.
pub fn request_authority(hosts: &AllowedHosts, headers: &HeaderMap, uri: &Uri) -> Result<Authority, Refusal> {
    let from_uri = uri.authority().map(|a| hosts.check(a.as_str().as_bytes())).transpose()?;
    let mut named = None;
    for value in headers.get_all(header::HOST) {
        named = Some(hosts.check(value.as_bytes())?);
    }
    named.or(from_uri).ok_or(Refusal::NoHost)
}

/// Checks that `origin` (an `Origin` header) is the origin of a page served by this server
/// at `own`: scheme `http`, the same host and the same port, the default port 80 standing for
/// a missing one. `null` (sandboxed frames, local files) is never this server's origin.
///
/// # Errors
/// [`Refusal::ForeignOrigin`] otherwise.
pub fn check_origin(origin: &[u8], own: &Authority) -> Result<(), Refusal> {
    let parsed = std::str::from_utf8(origin)
        .ok()
        .and_then(|text| text.split_once("://"))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case(SCHEME))
        .and_then(|(_, rest)| Authority::parse(rest));
    let same = parsed.is_some_and(|o| o.host == own.host && o.effective_port() == own.effective_port());
    if same {
        Ok(())
    } else {
        let port = own.port.map(|p| format!(":{p}")).unwrap_or_default();
        Err(Refusal::ForeignOrigin { origin: echo(origin), own: format!("{SCHEME}://{}{port}", own.host) })
    }
}

/// Both rules on one request: the authority it names is allowed, and every `Origin` it
/// carries is that authority's own. Returns the authority.
///
/// # Errors
/// The first rule broken.
pub fn check_request(hosts: &AllowedHosts, headers: &HeaderMap, uri: &Uri) -> Result<Authority, Refusal> {
    let own = request_authority(hosts, headers, uri)?;
    for origin in headers.get_all(header::ORIGIN) {
        check_origin(origin.as_bytes(), &own)?;
    }
    Ok(own)
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn hosts() -> AllowedHosts {
        AllowedHosts::new("127.0.0.1:50051".parse().unwrap(), &["Bot.LAN:8080".to_owned()]).unwrap()
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    fn request(pairs: &[(&'static str, &'static str)]) -> Result<Authority, Refusal> {
        check_request(&hosts(), &headers(pairs), &Uri::from_static("/x"))
    }

    #[test]
    fn authorities_are_parsed_strictly_and_normalised() {
        let parse = |t| Authority::parse(t);
        assert_eq!(parse("LocalHost:80"), Some(Authority { host: "localhost".into(), port: Some(80) }));
        assert_eq!(parse("[0:0:0:0:0:0:0:1]:5"), Some(Authority { host: "[::1]".into(), port: Some(5) }));
        assert_eq!(parse("127.0.0.1"), Some(Authority { host: "127.0.0.1".into(), port: None }));
        for bad in ["", ":80", "a:b", "a:", "a:99999", "user@localhost", "localhost/x", "[::1", "[nope]:1", "a b"] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn loopback_the_bound_address_and_extra_names_are_allowed() {
        let wildcard = AllowedHosts::new("0.0.0.0:1".parse().unwrap(), &["::2".to_owned()]).unwrap();
        assert_eq!(wildcard.names(), ["localhost", "127.0.0.1", "[::1]", "[::2]"]);
        let bound = AllowedHosts::new("192.168.1.5:1".parse().unwrap(), &[]).unwrap();
        assert!(bound.names().contains(&"192.168.1.5".to_owned()));
        assert_eq!(
            AllowedHosts::new("127.0.0.1:1".parse().unwrap(), &["a/b".to_owned()]),
            Err(Refusal::InvalidName("a/b".into()))
        );
        for host in ["localhost:50051", "127.0.0.1", "[::1]:9", "bot.lan", "BOT.lan:1"] {
            assert!(request(&[("host", host)]).is_ok(), "{host}");
        }
    }

    #[test]
    fn foreign_hosts_and_missing_hosts_are_refused() {
        for host in ["evil.example", "evil.example:50051", "localhost.evil.example", "127.0.0.1.evil", "bot.lan.x"] {
            assert!(matches!(request(&[("host", host)]), Err(Refusal::ForeignHost { .. })), "{host}");
        }
        assert_eq!(request(&[]), Err(Refusal::NoHost));
        // An HTTP/2 `:authority` counts, and so does every Host header.
        let h2 = check_request(&hosts(), &HeaderMap::new(), &Uri::from_static("http://evil.example:1/x"));
        assert!(matches!(h2, Err(Refusal::ForeignHost { .. })));
        assert!(request(&[("host", "localhost"), ("host", "evil.example")]).is_err());
    }

    #[test]
    fn only_the_exact_own_origin_passes() {
        let own = &[("host", "127.0.0.1:8080")];
        assert!(request(own).is_ok(), "no Origin: not a browser page, nothing to check");
        for same in ["http://127.0.0.1:8080", "HTTP://127.0.0.1:8080"] {
            assert!(request(&[own[0], ("origin", same)]).is_ok(), "{same}");
        }
        assert!(request(&[("host", "localhost"), ("origin", "http://localhost:80")]).is_ok());
        for foreign in [
            "http://evil.example",
            "http://127.0.0.1:9999",
            "http://127.0.0.1",
            "https://127.0.0.1:8080",
            "http://localhost:8080",
            "http://127.0.0.1:8080.evil.example",
            "http://127.0.0.1:80801",
            "null",
            "127.0.0.1:8080",
        ] {
            let refused = request(&[own[0], ("origin", foreign)]);
            assert!(matches!(refused, Err(Refusal::ForeignOrigin { .. })), "{foreign}: {refused:?}");
        }
    }

    #[test]
    fn refusals_say_what_to_do_and_echo_little() {
        let long: &'static str = Box::leak("a".repeat(500).into_boxed_str());
        let message = request(&[("host", long)]).unwrap_err().to_string();
        assert!(message.contains("--allow-host") && message.contains("localhost, 127.0.0.1, [::1]"), "{message}");
        assert!(message.len() < 400, "{message}");
    }
}

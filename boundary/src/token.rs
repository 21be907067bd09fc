//! The optional bearer token: where it comes from, when it is required, how it is checked and
//! sent.

use std::{fmt, net::SocketAddr, path::Path};

use subtle::ConstantTimeEq;
use tonic::{
    metadata::{AsciiMetadataValue, MetadataValue},
    service::Interceptor,
};

/// The environment variable holding the token, read by `tradingd`, the gateway and
/// `tradingctl` alike.
pub const TOKEN_ENV: &str = "TRADINGD_TOKEN";

/// Fewest characters a token may have.
const MIN_LEN: usize = 16;

/// The scheme of the `authorization` header.
const BEARER: &str = "Bearer ";

/// Why no usable token could be had.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Both the environment variable and a token file were given.
    #[error("both {TOKEN_ENV} and --token-file are set; give the token one way only")]
    TwoSources,
    /// The token file could not be read.
    #[error("cannot read the token file {path}: {source}")]
    Unreadable {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The token is too short or holds characters a header or cookie cannot carry.
    #[error(
        "the token from {from} is unusable: it needs at least {MIN_LEN} characters, each a letter, a digit or one \
         of - _ . ~ + / = (generate one with `openssl rand -hex 32`)"
    )]
    Malformed {
        /// Where it came from (the variable or the file), for the message.
        from: String,
    },
    /// The server binds beyond loopback and has no token.
    #[error(
        "{server} binds to {address}, beyond loopback, so it requires a token: set {TOKEN_ENV} or pass \
         --token-file PATH (or bind to 127.0.0.1)"
    )]
    Required {
        /// Which server, for the message.
        server: String,
        /// The address it binds to.
        address: SocketAddr,
    },
}

/// Why a request's credentials were refused. The messages never contain a token, not even
/// the one sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `authorization` header (and, for the gateway, no token cookie).
    #[error(
        "this server requires its token: send the header `authorization: Bearer <token>` (tradingctl and the \
         gateway read it from {TOKEN_ENV} or --token-file)"
    )]
    Missing,
    /// An `authorization` header that is not `Bearer <token>`.
    #[error("the authorization header must read `Bearer <token>`")]
    NotBearer,
    /// A bearer token that is not this server's.
    #[error("the bearer token is not this server's token")]
    Wrong,
}

/// A bearer token. It prints as a mask in `Debug` and `Display`; [`Token::expose`] is the one
/// way to the text.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(********)")
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("********")
    }
}

fn token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-_.~+/=".contains(c)
}

impl Token {
    /// A token from `text` (surrounding whitespace, such as a file's final newline, is
    /// dropped); `from` says where it came from, for the error.
    ///
    /// # Errors
    /// [`TokenError::Malformed`] when it is shorter than 16 characters or holds other
    /// characters than letters, digits and `- _ . ~ + / =` (which every header and cookie can
    /// carry as they are).
    pub fn new(text: &str, from: &str) -> Result<Self, TokenError> {
        let text = text.trim();
        if text.len() < MIN_LEN || !text.chars().all(token_char) {
            return Err(TokenError::Malformed { from: from.to_owned() });
        }
        Ok(Self(text.to_owned()))
    }

    /// The token given by `env` (the value of [`TOKEN_ENV`], if set) or by the file at
    /// `file`; `None` when neither is given.
    ///
    /// # Errors
    /// [`TokenError::TwoSources`] when both are given, [`TokenError::Unreadable`] for a file
    /// that cannot be read, [`TokenError::Malformed`] for an unusable token (an empty variable
    /// included: it is more likely a mistake than a wish for no token).
    pub fn load(env: Option<&str>, file: Option<&Path>) -> Result<Option<Self>, TokenError> {
        match (env, file) {
            (Some(_), Some(_)) => Err(TokenError::TwoSources),
            (Some(value), None) => Self::new(value, TOKEN_ENV).map(Some),
            (None, Some(path)) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|source| TokenError::Unreadable { path: path.display().to_string(), source })?;
                Self::new(&text, &path.display().to_string()).map(Some)
            }
            (None, None) => Ok(None),
        }
    }

    /// Like [`Self::load`], reading [`TOKEN_ENV`] from this process's environment.
    ///
    /// # Errors
    /// As [`Self::load`]; a variable that is not valid Unicode is malformed.
    pub fn from_env_or_file(file: Option<&Path>) -> Result<Option<Self>, TokenError> {
        match std::env::var(TOKEN_ENV) {
            Ok(value) => Self::load(Some(&value), file),
            Err(std::env::VarError::NotPresent) => Self::load(None, file),
            Err(std::env::VarError::NotUnicode(_)) => Err(TokenError::Malformed { from: TOKEN_ENV.to_owned() }),
        }
    }

    /// The token itself, to send it.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether `candidate` is this token, compared in constant time (only the length may
    /// show through timing).
    #[must_use]
    pub fn matches(&self, candidate: &[u8]) -> bool {
        self.0.as_bytes().ct_eq(candidate).into()
    }

    /// Checks the value of an `authorization` header.
    ///
    /// # Errors
    /// [`AuthError::Missing`] without one, [`AuthError::NotBearer`] when it is not
    /// `Bearer <token>`, [`AuthError::Wrong`] for another token.
    pub fn check_authorization(&self, header: Option<&[u8]>) -> Result<(), AuthError> {
        let header = header.ok_or(AuthError::Missing)?;
        let scheme_len = BEARER.len();
        let is_bearer = header.len() > scheme_len && header[..scheme_len].eq_ignore_ascii_case(BEARER.as_bytes());
        if !is_bearer {
            return Err(AuthError::NotBearer);
        }
        if self.matches(&header[scheme_len..]) { Ok(()) } else { Err(AuthError::Wrong) }
    }

    /// The `authorization` header value that carries this token.
    #[must_use]
    pub fn authorization(&self) -> String {
        format!("{BEARER}{}", self.0)
    }
}

/// Checks that a server bound to `address` may run with `token`: beyond loopback, a token is
/// required.
///
/// # Errors
/// [`TokenError::Required`] for a server bound beyond loopback without a token.
pub fn require_token(server: &str, address: SocketAddr, token: Option<&Token>) -> Result<(), TokenError> {
    if address.ip().is_loopback() || token.is_some() {
        Ok(())
    } else {
        Err(TokenError::Required { server: server.to_owned(), address })
    }
}

/// Whether group or others may read the file (Unix permissions), for a startup warning.
#[cfg(unix)]
#[must_use]
pub fn readable_by_others(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o044 != 0)
}

/// Permissions are not checked off Unix.
#[cfg(not(unix))]
#[must_use]
pub fn readable_by_others(_path: &Path) -> bool {
    false
}

/// Adds `authorization: Bearer <token>` to every outgoing gRPC request (nothing without a
/// token), for `tradingctl` and the gateway.
#[derive(Clone, Default)]
pub struct BearerInterceptor(Option<AsciiMetadataValue>);

impl fmt::Debug for BearerInterceptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("BearerInterceptor").field(&self.0.as_ref().map(|_| "********")).finish()
    }
}

impl BearerInterceptor {
    /// Sends `token`, or nothing.
    #[must_use]
    pub fn new(token: Option<&Token>) -> Self {
        // A token holds only characters a header can carry, so the conversion cannot fail.
        Self(token.and_then(|t| {
            let mut value: AsciiMetadataValue = MetadataValue::try_from(t.authorization()).ok()?;
            value.set_sensitive(true);
            Some(value)
        }))
    }
}

impl Interceptor for BearerInterceptor {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(value) = &self.0 {
            request.metadata_mut().insert("authorization", value.clone());
        }
        Ok(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "0123456789abcdef0123";

    #[test]
    fn tokens_come_from_one_place_and_must_be_usable() {
        assert!(Token::load(None, None).unwrap().is_none());
        assert_eq!(Token::load(Some(GOOD), None).unwrap().unwrap().expose(), GOOD);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        std::fs::write(&file, format!("{GOOD}\n")).unwrap();
        assert_eq!(Token::load(None, Some(&file)).unwrap().unwrap().expose(), GOOD, "the final newline is dropped");
        assert!(matches!(Token::load(Some(GOOD), Some(&file)), Err(TokenError::TwoSources)));
        let missing = dir.path().join("nope");
        assert!(matches!(Token::load(None, Some(&missing)), Err(TokenError::Unreadable { .. })));
        for bad in ["", "short", "0123456789abcdef 0123", "0123456789abcdef;0123", "0123456789abcdéf0123"] {
            assert!(matches!(Token::load(Some(bad), None), Err(TokenError::Malformed { .. })), "{bad:?}");
        }
    }

    #[test]
    fn a_token_never_prints() {
        let token = Token::new(GOOD, "test").unwrap();
        let shown = format!("{token} {token:?} {:?}", BearerInterceptor::new(Some(&token)));
        assert!(!shown.contains(GOOD), "{shown}");
        let error = Token::new(&GOOD[..10], "test").unwrap_err().to_string();
        assert!(!error.contains(&GOOD[..10]), "{error}");
    }

    #[test]
    fn authorization_headers_are_checked_exactly() {
        let token = Token::new(GOOD, "test").unwrap();
        assert_eq!(token.check_authorization(Some(token.authorization().as_bytes())), Ok(()));
        assert_eq!(token.check_authorization(Some(format!("bearer {GOOD}").as_bytes())), Ok(()));
        assert_eq!(token.check_authorization(None), Err(AuthError::Missing));
        for (header, error) in [
            (format!("Basic {GOOD}"), AuthError::NotBearer),
            ("Bearer ".to_owned(), AuthError::NotBearer),
            (GOOD.to_owned(), AuthError::NotBearer),
            (format!("Bearer {GOOD}x"), AuthError::Wrong),
            (format!("Bearer {}", &GOOD[1..]), AuthError::Wrong),
            (format!("Bearer  {GOOD}"), AuthError::Wrong),
        ] {
            assert_eq!(token.check_authorization(Some(header.as_bytes())), Err(error), "{header:?}");
        }
    }

    #[test]
    fn beyond_loopback_a_token_is_required() {
        let token = Token::new(GOOD, "test").unwrap();
        let loopback: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let wildcard: SocketAddr = "0.0.0.0:1".parse().unwrap();
        assert!(require_token("tradingd", loopback, None).is_ok());
        assert!(require_token("tradingd", "[::1]:1".parse().unwrap(), None).is_ok());
        assert!(require_token("tradingd", wildcard, Some(&token)).is_ok());
        let refused = require_token("tradingd", wildcard, None).unwrap_err().to_string();
        assert!(refused.contains("0.0.0.0:1") && refused.contains(TOKEN_ENV), "{refused}");
    }

    #[test]
    fn the_interceptor_sends_the_token_only_when_there_is_one() {
        let token = Token::new(GOOD, "test").unwrap();
        let sent = BearerInterceptor::new(Some(&token)).call(tonic::Request::new(())).unwrap();
        assert_eq!(sent.metadata().get("authorization").unwrap(), &format!("Bearer {GOOD}"));
        let none = BearerInterceptor::new(None).call(tonic::Request::new(())).unwrap();
        assert!(none.metadata().get("authorization").is_none());
    }
}

//! The daemon's own boundary, on every request of every protocol it speaks (gRPC over HTTP/2,
//! gRPC-Web over HTTP/1.1): the rules of the `boundary` crate, answered as gRPC statuses.
//!
//! * The `Host` (or `:authority`) must be allowed: a web page that DNS rebinding pointed at
//!   this port still names its own domain, and is refused with `PERMISSION_DENIED`.
//! * A request carrying an `Origin` must come from the daemon's own origin (scheme, host and
//!   port exactly), else `PERMISSION_DENIED`. Native gRPC clients send no `Origin`.
//! * With a token, every request must carry `authorization: Bearer <token>`, else
//!   `UNAUTHENTICATED`.
//!
//! The layer sits inside `tonic_web::GrpcWebLayer`, so a gRPC-Web request is checked with its
//! headers as the browser sent them and its refusal reaches the browser as gRPC-Web. No CORS
//! header is ever sent, so no other origin's page may read an answer.

use std::{
    sync::Arc,
    task::{Context, Poll},
};

use boundary::{AllowedHosts, Token};
use futures::future::{Either, Ready, ready};
use tonic::{Status, body::Body};
use tower::{Layer, Service};

/// What a request must satisfy.
#[derive(Debug)]
struct Rules {
    /// Names the daemon answers to.
    hosts: AllowedHosts,
    /// The token every request must carry, if one is set.
    token: Option<Token>,
}

impl Rules {
    fn check<B>(&self, request: &http::Request<B>) -> Result<(), Status> {
        boundary::check_request(&self.hosts, request.headers(), request.uri())
            .map_err(|refusal| Status::permission_denied(refusal.to_string()))?;
        if let Some(token) = &self.token {
            let header = request.headers().get(http::header::AUTHORIZATION).map(http::HeaderValue::as_bytes);
            token.check_authorization(header).map_err(|e| Status::unauthenticated(e.to_string()))?;
        }
        Ok(())
    }
}

/// Applies [`Guard`] to the daemon's services.
#[derive(Debug, Clone)]
pub(crate) struct GuardLayer(Arc<Rules>);

impl GuardLayer {
    /// Rules for a daemon answering to `hosts`, requiring `token` when given.
    pub(crate) fn new(hosts: AllowedHosts, token: Option<Token>) -> Self {
        Self(Arc::new(Rules { hosts, token }))
    }
}

impl<S> Layer<S> for GuardLayer {
    type Service = Guard<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Guard { inner, rules: Arc::clone(&self.0) }
    }
}

/// Refuses a request that breaks the rules before any service sees it.
#[derive(Debug, Clone)]
pub(crate) struct Guard<S> {
    inner: S,
    rules: Arc<Rules>,
}

impl<S, B> Service<http::Request<B>> for Guard<S>
where
    S: Service<http::Request<B>, Response = http::Response<Body>>,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = Either<S::Future, Ready<Result<Self::Response, Self::Error>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        match self.rules.check(&request) {
            Ok(()) => Either::Left(self.inner.call(request)),
            Err(status) => {
                tracing::warn!(path = request.uri().path(), code = ?status.code(), reason = status.message(), "request refused at the boundary");
                Either::Right(ready(Ok(status.into_http())))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "guard-test-token-0123456789";

    fn rules(token: bool) -> Rules {
        let hosts = AllowedHosts::new("127.0.0.1:50051".parse().unwrap(), &[]).unwrap();
        Rules { hosts, token: token.then(|| Token::new(TOKEN, "test").unwrap()) }
    }

    fn request(headers: &[(&str, &str)]) -> http::Request<()> {
        let mut builder = http::Request::builder().uri("/tradingbot.v1.BotService/ListBots");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(()).unwrap()
    }

    #[test]
    fn host_and_origin_refusals_are_permission_denied_and_token_refusals_unauthenticated() {
        let open = rules(false);
        assert!(open.check(&request(&[("host", "127.0.0.1:50051")])).is_ok());
        let foreign = open.check(&request(&[("host", "evil.example:50051")])).unwrap_err();
        assert_eq!(foreign.code(), tonic::Code::PermissionDenied);
        let origin = [("host", "127.0.0.1:50051"), ("origin", "http://127.0.0.1:3000")];
        assert_eq!(open.check(&request(&origin)).unwrap_err().code(), tonic::Code::PermissionDenied);

        let closed = rules(true);
        let missing = closed.check(&request(&[("host", "localhost:50051")])).unwrap_err();
        assert_eq!(missing.code(), tonic::Code::Unauthenticated);
        let bearer = format!("Bearer {TOKEN}");
        assert!(closed.check(&request(&[("host", "localhost:50051"), ("authorization", &bearer)])).is_ok());
        // The host is checked before the token: a rebinding page learns nothing about it.
        let rebinding = closed.check(&request(&[("host", "evil.example"), ("authorization", &bearer)])).unwrap_err();
        assert_eq!(rebinding.code(), tonic::Code::PermissionDenied);
    }
}

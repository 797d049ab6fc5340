//! OpenID tokens: how Kontor proves "I am @anna:server" to a third party (the identity
//! server for contact discovery) without handing it the Matrix access token.

use std::fmt;

use matrix_sdk::ruma::api::client::account::request_openid_token;

use crate::{Error, Kontor, Result};

/// A short-lived token the homeserver issued for a third party to verify through
/// federation (`/_matrix/federation/v1/openid/userinfo`).
///
/// Kept free of kontor-contacts types so core does not depend on the contact book; the
/// fields are exactly the JSON body an identity server's `/account/register` expects.
#[derive(Clone, PartialEq, Eq)]
pub struct OpenIdToken {
    /// The token itself (secret: never logged).
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// The server name the third party verifies the token with.
    pub matrix_server_name: String,
    /// Lifetime in seconds.
    pub expires_in: u64,
}

impl fmt::Debug for OpenIdToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenIdToken")
            .field("access_token", &"<redacted>")
            .field("matrix_server_name", &self.matrix_server_name)
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

impl Kontor {
    /// Asks the homeserver for an OpenID token for this account.
    pub async fn openid_token(&self) -> Result<OpenIdToken> {
        let user = self.client.user_id().ok_or(Error::NotLoggedIn)?.to_owned();
        let resp = self
            .client
            .send(request_openid_token::v3::Request::new(user))
            .await?;
        Ok(OpenIdToken {
            access_token: resp.access_token,
            token_type: resp.token_type.to_string(),
            matrix_server_name: resp.matrix_server_name.to_string(),
            expires_in: resp.expires_in.as_secs(),
        })
    }
}

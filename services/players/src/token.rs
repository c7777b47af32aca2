//! Session tokens: 256 random bits the client holds as 64 hex digits, of which the database only
//! ever sees a SHA-256 hash — a leaked sessions table cannot be replayed.

use rand::RngCore;
use sha2::{Digest, Sha256};

/// Random bytes in a token (256 bits; ASVS asks for at least 128).
const TOKEN_BYTES: usize = 32;
/// Length of a token as sent on the wire (hex).
pub const TOKEN_CHARS: usize = TOKEN_BYTES * 2;

/// A freshly drawn session token. Deliberately not `Debug`-printable in full: it is a credential.
pub struct SessionToken(String);

impl SessionToken {
    /// Draws a new token from the thread-local CSPRNG (ChaCha seeded by the operating system).
    #[must_use]
    pub fn generate() -> SessionToken {
        let mut bytes = [0_u8; TOKEN_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        SessionToken(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
    }

    /// The token as the client receives it.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The hash stored in the database.
    #[must_use]
    pub fn hash(&self) -> Vec<u8> {
        hash_token_text(&self.0)
    }

    /// The token text, for handing to the client.
    #[must_use]
    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("SessionToken(<redacted>)")
    }
}

/// The stored hash of a token a client presented, or `None` when it cannot be one of ours
/// (wrong length or not lowercase hex) — such a token is refused without a database round trip.
#[must_use]
pub fn hash_presented_token(token: &str) -> Option<Vec<u8>> {
    let well_formed =
        token.len() == TOKEN_CHARS && token.bytes().all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte));
    well_formed.then(|| hash_token_text(token))
}

fn hash_token_text(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_64_hex_digits_and_never_repeat() {
        let first = SessionToken::generate();
        let second = SessionToken::generate();
        assert_eq!(first.as_str().len(), TOKEN_CHARS);
        assert!(first.as_str().bytes().all(|byte| byte.is_ascii_hexdigit()));
        assert_ne!(first.as_str(), second.as_str());
        assert!(!format!("{first:?}").contains(first.as_str()), "Debug must not print the token");
    }

    #[test]
    fn a_presented_token_hashes_to_what_was_stored_and_malformed_ones_are_refused() {
        let token = SessionToken::generate();
        assert_eq!(hash_presented_token(token.as_str()), Some(token.hash()));
        assert_eq!(token.hash().len(), 32);
        assert_eq!(hash_presented_token(""), None);
        assert_eq!(hash_presented_token(&token.as_str().to_uppercase()), None);
        assert_eq!(hash_presented_token(&format!("{}0", token.as_str())), None);
        assert_eq!(hash_presented_token(&"g".repeat(TOKEN_CHARS)), None);
    }
}

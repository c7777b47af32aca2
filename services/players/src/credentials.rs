//! The rules an account's username and password must follow, checked before anything touches
//! the database or the password hasher.

use crate::error::PlayersError;

/// Shortest username.
pub const USERNAME_MIN_CHARS: usize = 3;
/// Longest username (the `players_username_format` constraint says the same).
pub const USERNAME_MAX_CHARS: usize = 20;
/// Shortest password (ASVS 2.1.1 asks for at least 8).
pub const PASSWORD_MIN_CHARS: usize = 8;
/// Longest password: long enough for passphrases, short enough that hashing stays bounded work.
pub const PASSWORD_MAX_CHARS: usize = 128;

/// Checks `username` matches `^[a-zA-Z0-9_]{3,20}$`.
pub fn validate_username(username: &str) -> Result<(), PlayersError> {
    let allowed_characters = username.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'_');
    // All-ASCII once the characters pass, so the byte length is the character count.
    let allowed_length = (USERNAME_MIN_CHARS..=USERNAME_MAX_CHARS).contains(&username.len());
    if allowed_characters && allowed_length { Ok(()) } else { Err(PlayersError::InvalidUsername) }
}

/// Checks `password` is 8 to 128 characters (Unicode scalar values, so passphrases in any script count fairly).
pub fn validate_password(password: &str) -> Result<(), PlayersError> {
    // Bound the byte length first so counting characters of a huge input is never the work.
    if password.len() > PASSWORD_MAX_CHARS * 4 {
        return Err(PlayersError::InvalidPassword);
    }
    let characters = password.chars().count();
    if (PASSWORD_MIN_CHARS..=PASSWORD_MAX_CHARS).contains(&characters) {
        Ok(())
    } else {
        Err(PlayersError::InvalidPassword)
    }
}

/// The key accounts are compared under: usernames are unique ignoring ASCII case.
#[must_use]
pub fn username_key(username: &str) -> String {
    username.to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_follow_the_documented_pattern() {
        for good in ["abc", "A_1", "pilot_2024", &"z".repeat(20)] {
            assert!(validate_username(good).is_ok(), "{good:?}");
        }
        for bad in ["", "ab", &"a".repeat(21), "has space", "dash-ed", "émile", "trailing\n", "nul\0byte"] {
            assert!(matches!(validate_username(bad), Err(PlayersError::InvalidUsername)), "{bad:?}");
        }
    }

    #[test]
    fn passwords_are_8_to_128_characters_counted_as_characters_not_bytes() {
        assert!(validate_password("12345678").is_ok());
        assert!(validate_password(&"é".repeat(128)).is_ok(), "128 two-byte characters are 128 characters");
        for bad in ["", "1234567", &"x".repeat(129), &"é".repeat(129)] {
            assert!(matches!(validate_password(bad), Err(PlayersError::InvalidPassword)), "{} chars", bad.len());
        }
    }
}

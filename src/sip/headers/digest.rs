//! The Digest `response` computation (RFC 7616 §3.4.1, RFC 2617 §3.2.2, RFC 8760), using the
//! `md-5` and `sha2` crates. Re-exported from [`super::auth`].

use crate::sip::lex;
use md5::{Digest, Md5 as Md5Hash};
use sha2::Sha256 as Sha256Hash;

/// Lower-case hexadecimal, as Digest uses (RFC 7616 §3.4 "lowercase hex").
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

/// Digest algorithms siptest can compute (RFC 7616 §3.2, RFC 8760 §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DigestAlgorithm {
    Md5,
    Md5Sess,
    Sha256,
    Sha256Sess,
}

impl DigestAlgorithm {
    /// From an `algorithm=` value, case-insensitively; `None` for algorithms not supported here
    /// (for example SHA-512-256, RFC 7616 §3.2).
    pub fn from_name(name: &str) -> Option<Self> {
        let n = lex::trim(name);
        [Self::Md5, Self::Md5Sess, Self::Sha256, Self::Sha256Sess]
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(n))
    }

    /// The name as written in `algorithm=`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Md5 => "MD5",
            Self::Md5Sess => "MD5-sess",
            Self::Sha256 => "SHA-256",
            Self::Sha256Sess => "SHA-256-sess",
        }
    }

    fn is_sess(self) -> bool {
        matches!(self, Self::Md5Sess | Self::Sha256Sess)
    }

    /// H(data) as lower-case hex (RFC 7616 §3.4).
    fn h(self, data: &str) -> String {
        match self {
            Self::Md5 | Self::Md5Sess => hex(&Md5Hash::digest(data.as_bytes())),
            Self::Sha256 | Self::Sha256Sess => hex(&Sha256Hash::digest(data.as_bytes())),
        }
    }
}

/// The `response` value for Digest (RFC 7616 §3.4.1, RFC 2617 §3.2.2.1). `qop` is
/// `Some((cnonce, nc))` for `qop=auth`, `None` for the RFC 2069 form without qop. For the
/// `-sess` algorithms without qop the cnonce is taken as empty. `qop=auth-int` is not supported.
#[allow(clippy::too_many_arguments)]
pub fn digest_response(
    algorithm: DigestAlgorithm,
    username: &str,
    realm: &str,
    password: &str,
    method: &str,
    uri: &str,
    nonce: &str,
    qop: Option<(&str, &str)>,
) -> String {
    let h = |d: &str| algorithm.h(d);
    // RFC 7616 §3.4.2: A1 = unq(username) ":" unq(realm) ":" passwd
    let mut ha1 = h(&format!("{username}:{realm}:{password}"));
    if algorithm.is_sess() {
        // RFC 7616 §3.4.2: for -sess, A1 = H(...) ":" unq(nonce) ":" unq(cnonce)
        let cnonce = qop.map_or("", |(cnonce, _)| cnonce);
        ha1 = h(&format!("{ha1}:{nonce}:{cnonce}"));
    }
    // RFC 7616 §3.4.3: A2 = Method ":" request-uri (qop=auth or none)
    let ha2 = h(&format!("{method}:{uri}"));
    match qop {
        // RFC 7616 §3.4.1: response = KD(H(A1), nonce:nc:cnonce:qop:H(A2))
        Some((cnonce, nc)) => h(&format!("{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")),
        // RFC 2617 §3.2.2.1: without qop, KD(H(A1), nonce:H(A2))
        None => h(&format!("{ha1}:{nonce}:{ha2}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1321_and_fips180_sanity() {
        // RFC 1321 §A.5 and FIPS 180-2 §B.1 "abc" examples.
        assert_eq!(
            hex(&Md5Hash::digest(b"abc")),
            "900150983cd24fb0d6963f7d28e17f72"
        );
        assert_eq!(
            hex(&Sha256Hash::digest(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}

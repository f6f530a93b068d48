//! WWW-Authenticate / Proxy-Authenticate challenges and Authorization / Proxy-Authorization
//! credentials (RFC 3261 §20.7, §20.27, §20.28, §20.44, §22.4, §25.1; RFC 7616; RFC 8760), and
//! the Digest response computation (RFC 7616 §3.4.1, RFC 2617 §3.2.2).

use super::common::{excerpt, non_empty, offset_in, quoted_string_len, Cursor};
pub use super::digest::{digest_response, DigestAlgorithm};
use super::{HeaderError, HeaderErrorKind};
use crate::sip::lex;

/// One `name=value` auth-param (RFC 3261 §25.1 auth-param / digest-cln / dig-resp).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthParam {
    pub name: String,
    /// The value with quotes and escapes removed.
    pub value: String,
    /// Whether the value was a quoted-string (some Digest parameters must be, others must not).
    pub quoted: bool,
}

/// A WWW-Authenticate or Proxy-Authenticate value (RFC 3261 §20.44, §20.27).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    /// `Digest`, or any other scheme as written.
    pub scheme: String,
    pub params: Vec<AuthParam>,
}

/// An Authorization or Proxy-Authorization value (RFC 3261 §20.7, §20.28).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    /// `Digest`, or any other scheme as written (RFC 4475 §3.3.7 regaut01).
    pub scheme: String,
    pub params: Vec<AuthParam>,
}

fn get<'a>(params: &'a [AuthParam], name: &str) -> Option<&'a str> {
    // RFC 7616 §3.3: parameter names are case-insensitive.
    params
        .iter()
        .find(|p| p.name.eq_ignore_ascii_case(name))
        .map(|p| p.value.as_str())
}

fn first_duplicate(params: &[AuthParam]) -> Option<&str> {
    params.iter().enumerate().find_map(|(i, p)| {
        params[..i]
            .iter()
            .any(|q| q.name.eq_ignore_ascii_case(&p.name))
            .then_some(p.name.as_str())
    })
}

impl Challenge {
    /// True for the Digest scheme (compared case-insensitively, RFC 7235 §2.1).
    pub fn is_digest(&self) -> bool {
        self.scheme.eq_ignore_ascii_case("Digest")
    }
    /// Any parameter's unquoted value by name (case-insensitive).
    pub fn param(&self, name: &str) -> Option<&str> {
        get(&self.params, name)
    }
    pub fn realm(&self) -> Option<&str> {
        self.param("realm")
    }
    pub fn nonce(&self) -> Option<&str> {
        self.param("nonce")
    }
    pub fn opaque(&self) -> Option<&str> {
        self.param("opaque")
    }
    pub fn domain(&self) -> Option<&str> {
        self.param("domain")
    }
    pub fn algorithm(&self) -> Option<&str> {
        self.param("algorithm")
    }
    /// The algorithm to use: MD5 when absent (RFC 2617 §3.2.1), `None` when not supported here.
    pub fn digest_algorithm(&self) -> Option<DigestAlgorithm> {
        self.algorithm()
            .map_or(Some(DigestAlgorithm::Md5), DigestAlgorithm::from_name)
    }
    /// The qop options offered (`qop="auth,auth-int"`, RFC 7616 §3.3), trimmed, empty ones dropped.
    pub fn qop_options(&self) -> Vec<&str> {
        self.param("qop")
            .map(|q| {
                q.split(',')
                    .map(lex::trim)
                    .filter(|o| !o.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }
    /// `stale=true` (case-insensitive); any other value or none is false (RFC 2617 §3.2.1).
    pub fn stale(&self) -> bool {
        self.param("stale")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }
    /// The first parameter name that appears twice (RFC 7616 §3.3: each at most once).
    pub fn duplicate_param(&self) -> Option<&str> {
        first_duplicate(&self.params)
    }
}

impl Credentials {
    /// True for the Digest scheme (compared case-insensitively, RFC 7235 §2.1).
    pub fn is_digest(&self) -> bool {
        self.scheme.eq_ignore_ascii_case("Digest")
    }
    /// Any parameter's unquoted value by name (case-insensitive).
    pub fn param(&self, name: &str) -> Option<&str> {
        get(&self.params, name)
    }
    pub fn username(&self) -> Option<&str> {
        self.param("username")
    }
    pub fn realm(&self) -> Option<&str> {
        self.param("realm")
    }
    pub fn nonce(&self) -> Option<&str> {
        self.param("nonce")
    }
    pub fn uri(&self) -> Option<&str> {
        self.param("uri")
    }
    pub fn response(&self) -> Option<&str> {
        self.param("response")
    }
    pub fn algorithm(&self) -> Option<&str> {
        self.param("algorithm")
    }
    pub fn cnonce(&self) -> Option<&str> {
        self.param("cnonce")
    }
    pub fn nc(&self) -> Option<&str> {
        self.param("nc")
    }
    pub fn qop(&self) -> Option<&str> {
        self.param("qop")
    }
    pub fn opaque(&self) -> Option<&str> {
        self.param("opaque")
    }
    /// `nc` as a number when it is exactly 8 hex digits (RFC 3261 §25.1 nonce-count = 8LHEX).
    pub fn nc_value(&self) -> Option<u32> {
        let nc = self.nc()?;
        if nc.len() != 8 || !nc.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        u32::from_str_radix(nc, 16).ok()
    }
    /// The first parameter name that appears twice (RFC 7616 §3.4: each at most once).
    pub fn duplicate_param(&self) -> Option<&str> {
        first_duplicate(&self.params)
    }
}

/// Parses a challenge (RFC 3261 §25.1): `("Digest" LWS digest-cln *(COMMA digest-cln)) /
/// other-challenge`, other-challenge = `auth-scheme LWS auth-param *(COMMA auth-param)`.
pub fn parse_challenge(s: &str) -> Result<Challenge, HeaderError> {
    let (scheme, params) = parse_scheme_params(s)?;
    Ok(Challenge { scheme, params })
}

/// Parses credentials (RFC 3261 §25.1): `("Digest" LWS digest-response) / other-response`.
/// An unknown scheme with auth-params parses (RFC 4475 §3.3.7 regaut01).
pub fn parse_credentials(s: &str) -> Result<Credentials, HeaderError> {
    let (scheme, params) = parse_scheme_params(s)?;
    Ok(Credentials { scheme, params })
}

fn parse_scheme_params(s: &str) -> Result<(String, Vec<AuthParam>), HeaderError> {
    non_empty(s, "authentication")?;
    let mut c = Cursor::new(s);
    c.skip_ws();
    // RFC 3261 §25.1: auth-scheme = token
    let scheme = c.token();
    if scheme.is_empty() {
        return Err(c.expected("an authentication scheme (token)"));
    }
    // RFC 3261 §25.1: the scheme is followed by LWS and at least one parameter.
    if c.skip_ws() == 0 || c.at_end() {
        return Err(c.expected("white space and auth-params after the scheme"));
    }
    let rest = c.rest();
    let (parts, problem) = lex::split_commas(rest.as_bytes());
    if let Some(lex::SplitProblem::UnterminatedQuote(at)) = problem {
        return Err(HeaderError::syntax(
            c.pos() + at,
            "unterminated quoted string",
        ));
    }
    let mut params = Vec::with_capacity(parts.len());
    for r in parts {
        let at = c.pos() + r.start;
        let elem = rest.get(r).unwrap_or("");
        if elem.is_empty() {
            return Err(HeaderError::new(
                HeaderErrorKind::Empty,
                at,
                "empty auth-param between commas",
            ));
        }
        params.push(parse_auth_param(elem).map_err(|e| e.shifted(at))?);
    }
    Ok((scheme.to_string(), params))
}

/// `auth-param-name EQUAL ( token / quoted-string )` (RFC 3261 §25.1 auth-param).
fn parse_auth_param(elem: &str) -> Result<AuthParam, HeaderError> {
    let Some(eq) = elem.find('=') else {
        return Err(HeaderError::syntax(
            0,
            format!("expected name=value, found `{}`", excerpt(elem)),
        ));
    };
    let name = lex::trim(&elem[..eq]);
    if !lex::is_token(name.as_bytes()) {
        return Err(HeaderError::syntax(
            0,
            format!("auth-param name `{}` is not a token", excerpt(name)),
        ));
    }
    let raw = lex::trim(&elem[eq + 1..]);
    let at = offset_in(elem, raw);
    let quoted = raw.starts_with('"');
    let ok = if quoted {
        quoted_string_len(raw) == Some(raw.len())
    } else {
        lex::is_token(raw.as_bytes())
    };
    if !ok {
        return Err(HeaderError::syntax(
            at,
            format!("value of `{name}` must be a token or a quoted string"),
        ));
    }
    Ok(AuthParam {
        name: name.to_string(),
        value: lex::unquote(raw).into_owned(),
        quoted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::headers::test_support::garbage;

    #[test]
    fn rfc3261_20_44_www_authenticate() {
        let c = parse_challenge(
            r#"Digest realm="atlanta.com", domain="sip:boxesbybob.com", qop="auth, auth-int", nonce="f84f1cec41e6cbe5aea9c8e88d359", opaque="", stale=FALSE, algorithm=MD5"#,
        )
        .unwrap();
        assert!(c.is_digest());
        assert_eq!(c.realm(), Some("atlanta.com"));
        assert_eq!(c.nonce(), Some("f84f1cec41e6cbe5aea9c8e88d359"));
        assert_eq!(c.opaque(), Some(""));
        assert_eq!(c.qop_options(), vec!["auth", "auth-int"]);
        assert!(!c.stale());
        assert_eq!(c.digest_algorithm(), Some(DigestAlgorithm::Md5));
        assert_eq!(c.duplicate_param(), None);
        let c = parse_challenge(r#"Digest realm="x", nonce="y", stale=TRUE"#).unwrap();
        assert!(c.stale());
    }

    #[test]
    fn rfc3261_20_7_authorization() {
        let c = parse_credentials(
            r#"Digest username="bob", realm="biloxi.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="sip:bob@biloxi.com", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41""#,
        )
        .unwrap();
        assert_eq!(c.username(), Some("bob"));
        assert_eq!(c.uri(), Some("sip:bob@biloxi.com"));
        assert_eq!(c.qop(), Some("auth"));
        assert_eq!(c.nc_value(), Some(1));
        assert_eq!(c.cnonce(), Some("0a4f113b"));
        assert!(
            c.params
                .iter()
                .find(|p| p.name == "username")
                .unwrap()
                .quoted
        );
        assert!(!c.params.iter().find(|p| p.name == "qop").unwrap().quoted);
    }

    #[test]
    fn rfc4475_regaut01_unknown_scheme() {
        // RFC 4475 §3.3.7.
        let c = parse_credentials("NoOneKnowsThisScheme opaque-data=here").unwrap();
        assert_eq!(c.scheme, "NoOneKnowsThisScheme");
        assert!(!c.is_digest());
        assert_eq!(c.param("opaque-data"), Some("here"));
    }

    #[test]
    fn quoted_commas_and_escapes() {
        let c = parse_challenge(r#"Digest realm="a, b \"c\"", nonce=x"#).unwrap();
        assert_eq!(c.realm(), Some(r#"a, b "c""#));
        let d = parse_challenge(r#"Digest realm="a", REALM="b""#).unwrap();
        assert_eq!(d.duplicate_param(), Some("REALM"));
    }

    #[test]
    fn rfc3261_25_1_malformed() {
        for bad in [
            "",
            "Digest",
            "Digest ",
            "=x",
            "Digest realm",
            "Digest realm=",
            "Digest realm=\"open",
            "Digest realm=a b",
            "Digest realm=\"a\" x",
            "Digest realm=a,,nonce=b",
            "Digest realm=a,",
            "Digest na me=a",
            "Digest realm=a/b",
        ] {
            assert!(parse_credentials(bad).is_err(), "{bad}");
        }
        let e = parse_credentials("Digest realm=a, nonce=b c").unwrap_err();
        assert_eq!(e.offset, 22);
    }

    #[test]
    fn rfc2617_3_5_md5_vector() {
        let r = digest_response(
            DigestAlgorithm::Md5,
            "Mufasa",
            "testrealm@host.com",
            "Circle Of Life",
            "GET",
            "/dir/index.html",
            "dcd98b7102dd2f0e8b11d0f600bfb0c093",
            Some(("0a4f113b", "00000001")),
        );
        assert_eq!(r, "6629fae49393a05397450978507c4ef1");
    }

    #[test]
    fn rfc7616_3_9_1_md5_and_sha256_vectors() {
        let args = (
            "Mufasa",
            "http-auth@example.org",
            "Circle of Life",
            "GET",
            "/dir/index.html",
            "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
            Some(("f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", "00000001")),
        );
        let run = |a| digest_response(a, args.0, args.1, args.2, args.3, args.4, args.5, args.6);
        assert_eq!(
            run(DigestAlgorithm::Md5),
            "8ca523f5e9506fed4657c9700eebdbec"
        );
        assert_eq!(
            run(DigestAlgorithm::Sha256),
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
        );
    }

    #[test]
    fn algorithm_names() {
        assert_eq!(
            DigestAlgorithm::from_name("md5-SESS"),
            Some(DigestAlgorithm::Md5Sess)
        );
        assert_eq!(
            DigestAlgorithm::from_name("SHA-256"),
            Some(DigestAlgorithm::Sha256)
        );
        assert_eq!(DigestAlgorithm::from_name("SHA-512-256"), None);
        let c = parse_challenge("Digest realm=r, algorithm=AKAv1-MD5").unwrap();
        assert_eq!(c.digest_algorithm(), None);
    }

    #[test]
    fn garbage_never_panics() {
        for g in garbage() {
            let _ = parse_challenge(&g);
            let _ = parse_credentials(&g);
            if let Ok(c) = parse_credentials(&format!("Digest {g}")) {
                let _ = (c.nc_value(), c.duplicate_param(), c.username());
            }
            if let Ok(c) = parse_challenge(&format!("Digest realm={g}")) {
                let _ = (c.qop_options(), c.stale(), c.digest_algorithm());
            }
        }
    }
}

//! Building `auth` of a send step: digest credentials answering the agent's latest 401/407
//! (RFC 3261 §22.2, RFC 7616, RFC 8760).

use super::doc::AuthDoc;
use super::load::LoadErrorKind as K;
use super::located::Located;
use super::model::{Auth, DigestChoice};
use super::steps::StepBuilder;
use super::suggest::did_you_mean;

/// The algorithms `auth.algorithm` takes.
pub const AUTH_ALGORITHMS: &[&str] = &["MD5", "SHA-256"];

impl StepBuilder<'_> {
    pub(crate) fn send_auth(
        &mut self,
        a: Located<AuthDoc>,
        from: &Located<String>,
    ) -> Option<Auth> {
        let at = a.with(());
        let doc = a.value;
        let (Some(user), Some(password)) = (doc.user, doc.password) else {
            let msg = "`auth` needs `user` and `password`, e.g. \
                       `auth: { user: alice, password: secret }`";
            self.errs.at(&at, K::MissingKey, msg);
            return None;
        };
        self.check_template(&user, false);
        self.check_template(&password, false);
        let algorithm = match doc.algorithm {
            None => None,
            Some(alg) => match alg.to_ascii_uppercase().as_str() {
                "MD5" => Some(DigestChoice::Md5),
                "SHA-256" => Some(DigestChoice::Sha256),
                _ => {
                    let hint = did_you_mean(&alg, AUTH_ALGORITHMS.iter().copied());
                    let msg = format!(
                        "expected a digest algorithm, MD5 or SHA-256 (RFC 8760), found `{}`{hint}",
                        alg.value
                    );
                    self.errs.at(&alg, K::InvalidValue, msg);
                    None
                }
            },
        };
        if !self.was_challenged(&from.value) {
            let msg = format!(
                "`auth` answers a challenge, but no earlier step expects a 401 or 407 at `{}` \
                 (RFC 3261 §22.2: send the request once, `- expect: 401`, then send it again \
                 with `auth`)",
                from.value
            );
            self.errs.at(&at, K::Conflict, msg);
        }
        Some(Auth {
            user,
            password,
            algorithm,
        })
    }
}

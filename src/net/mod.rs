//! Networking at the edge: a SIP endpoint that hosts client and server transactions over UDP
//! or TCP on real sockets, with seeded impairments and a trace of everything on the wire.
//!
//! The layering follows quinn and str0m (see `../shared/STYLE.md`):
//! - [`impair`]: loss, delay, jitter, duplication, reordering and drop rules, sans-IO and
//!   deterministic for a seed; [`impair_spec`] parses the `--impair` option.
//! - [`core`]: [`EndpointCore`], the transaction table, timer queue, impairers, trace and
//!   bounded event queue, driven by `(now, input)` and drained with `poll_*`. Unit-tested with a
//!   simulated clock.
//! - [`endpoint`]: [`Endpoint`], the tokio shell that only moves bytes between sockets and the
//!   core, and time into it.

pub mod core;
pub mod endpoint;
pub mod impair;
pub mod impair_spec;
mod rng;
mod tcp;
pub mod via;

#[cfg(test)]
mod impair_tests;

pub use self::core::{
    destination, CoreConfig, EndpointCore, EndpointEvent, EndpointStats, Limits, SendError,
    Transmit, TxId,
};
pub use endpoint::{Endpoint, EndpointConfig};
pub use impair::{Delivery, DropRule, ImpairStats, Impairer, Impairment, Match};
pub use impair_spec::{parse_impair, ImpairSpec, ImpairSpecError};
pub use rng::Pcg32;

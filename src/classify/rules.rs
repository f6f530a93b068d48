//! The sequence- and spec-level rules the classifier names (the transaction-level ones are
//! the checker's `tx.*`). `docs/classification.md` explains each with a worked example.

crate::declare_rules! {
    // --- sequence level: the feature is realised with another call flow ---
    HOLD_ANSWER_DIRECTION = ("seq.hold.answer-direction", Sequence, Error, "RFC 3264 §6.1",
        "a hold offer (sendonly or inactive stream) is answered with a direction that still sends to the holder (sendrecv or sendonly)");
    HOLD_STYLE = ("seq.hold.style", Sequence, Error, "RFC 3264 §8.4",
        "the target holds the call in another style than the scenario asks for (e.g. c=0.0.0.0 with sendrecv instead of a=sendonly)");
    UNHOLD_OFFERLESS = ("seq.unhold.offerless", Sequence, Error, "RFC 3261 §14.2",
        "a re-INVITE without an offer is rejected instead of answered with an offer in the 2xx");
    LATE_OFFER_REJECTED = ("seq.offer.late-offer-rejected", Sequence, Error, "RFC 3261 §13.2.1",
        "an INVITE without an offer is rejected instead of answered with an offer in the 2xx (or a reliable provisional)");
    REINVITE_491 = ("seq.reinvite.491", Sequence, Error, "RFC 3261 §14.2",
        "491 Request Pending to a re-INVITE while the target had no re-INVITE of its own pending in that dialog");
    TRANSFER_NOTIFY_MISSING = ("seq.transfer.notify-missing", Sequence, Error, "RFC 3515 §2.4.4",
        "a REFER accepted with a 2xx (and no Refer-Sub: false) is followed by no NOTIFY of the refer event");
    TRANSFER_ORDER = ("seq.transfer.order", Sequence, Error, "RFC 3515 §2.4.4",
        "the first NOTIFY of a REFER's implicit subscription is sent before the 2xx to the REFER");
    TRANSFER_BYE_BEFORE_NOTIFY = ("seq.transfer.bye-before-notify", Sequence, Error, "RFC 5589 §6.1",
        "the transferee hangs up the transferor's call before the NOTIFY that reports the transfer's outcome");
    FLOW_MISSING = ("seq.flow.missing", Sequence, Error, "RFC 3261 §8",
        "a message the flow needs (the scenario's step, or the golden transcript) never came");
    FLOW_UNEXPECTED = ("seq.flow.unexpected", Sequence, Error, "RFC 3261 §8",
        "another message came where the flow has a given one (or one the scenario forbids came): an extra message or another call flow");
    FLOW_REORDERED = ("seq.flow.reordered", Sequence, Error, "RFC 3261 §8",
        "the messages of the flow came in another order than the golden transcript's");
    FLOW_CONTENT = ("seq.flow.content", Sequence, Error, "RFC 3261 §8",
        "the expected message came, but with other content (headers, SDP, body) than the flow needs");
    // --- spec level: what is advertised against what is delivered ---
    ALLOW_NOT_IMPLEMENTED = ("spec.allow.not-implemented", Spec, Error, "RFC 3261 §20.5",
        "501 Not Implemented to a method the target lists in Allow");
    ALLOW_NOT_ALLOWED = ("spec.allow.not-allowed", Spec, Error, "RFC 3261 §20.5",
        "405 Method Not Allowed to a method the target lists in Allow");
    SUPPORTED_420 = ("spec.supported.420", Spec, Error, "RFC 3261 §20.37",
        "420 Bad Extension naming an option tag the target lists in Supported");
    ALLOW_EVENTS_489 = ("spec.allow-events.489", Spec, Error, "RFC 6665 §8.2.2",
        "489 Bad Event to a SUBSCRIBE for a package the target lists in Allow-Events");
    ACCEPT_415 = ("spec.accept.415", Spec, Error, "RFC 3261 §20.1",
        "415 Unsupported Media Type to a body type the target lists in Accept");
    SDP_488_OWN_CODEC = ("spec.sdp.488-to-own-codec", Spec, Error, "RFC 3264 §6.1",
        "488 Not Acceptable Here to an offer with a codec the target's own SDP lists");
    AUTH_ALGORITHM = ("spec.auth.algorithm", Spec, Error, "RFC 8760 §2.4",
        "the digest challenge lacks the algorithm the request needs (SHA-256 or MD5), or credentials with an algorithm the target offered are refused");
    TIMER_IGNORED = ("spec.supported.timer-ignored", Spec, Error, "RFC 4028 §9",
        "a 2xx to a request with Session-Expires leaves Session-Expires out although the target lists timer in Supported");
    NEEDS_REFUSED = ("spec.needs.refused", Spec, Warning, "RFC 3261 §8.2.1",
        "405/501/420/489 to a capability the scenario needs (target.needs) and the target does not advertise: the run is inconclusive");
}

/// The rule with this id among the classifier's.
pub fn by_id(id: &str) -> Option<&'static crate::rule::Rule> {
    RULES.iter().copied().find(|r| r.id == id)
}

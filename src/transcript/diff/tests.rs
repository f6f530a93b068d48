//! Unit tests of the aligned diff (`super`).
use super::*;

fn t(lines: &[&str]) -> Transcript {
    let mut text = String::from("# siptest transcript 1\n# optional: 180-183\n");
    for (i, l) in lines.iter().enumerate() {
        text.push_str(&format!("{} {l}\n", i + 1));
    }
    Transcript::parse(&text).unwrap()
}

const INVITE: &str =
    "+0.000 alice > target INVITE call=<call-1> from=<tag-A> to=- via=<branch-1> cseq=<cseq-1>";
const R180: &str = "+0.001 target > alice 180/INVITE call=<call-1> from=<tag-A> to=<tag-B> via=<branch-1> cseq=<cseq-1>";
const R100: &str =
    "+0.001 target > alice 100/INVITE call=<call-1> from=<tag-A> to=- via=<branch-1> cseq=<cseq-1>";
const R200: &str = "+0.002 target > alice 200/INVITE call=<call-1> from=<tag-A> to=<tag-B> via=<branch-1> cseq=<cseq-1> sdp.m1=audio,sendrecv,c=addr";
const ACK: &str =
    "+0.003 alice > target ACK call=<call-1> from=<tag-A> to=<tag-B> via=<branch-2> cseq=<cseq-1>";

#[test]
fn equal_transcripts_have_no_difference() {
    let g = t(&[INVITE, R180, R200, ACK]);
    assert!(align(&g, &g).is_empty());
}

#[test]
fn hundred_and_optional_provisionals_are_tolerated() {
    let g = t(&[INVITE, R180, R200, ACK]);
    let a = t(&[INVITE, R100, R200, ACK]);
    let al = align_with(&g, &a, &Tolerance::default());
    assert!(al.is_equal(), "{:?}", al.differences);
    assert_eq!(al.tolerated.len(), 2);
    let a183 = t(&[INVITE, &R180.replace("180/", "183/"), R200, ACK]);
    assert!(align(&g, &a183).is_empty());
}

#[test]
fn relations_are_compared_not_names() {
    let g = t(&[INVITE, R180, R200, ACK]);
    // Another tag in the 2xx than in the 180.
    let a = t(&[INVITE, R180, &R200.replace("to=<tag-B>", "to=<tag-C>"), ACK]);
    let ds = align(&g, &a);
    assert_eq!(ds.len(), 1, "{ds:?}");
    assert_eq!(
        (ds[0].kind, ds[0].golden, ds[0].actual),
        (DiffKind::Changed, Some(2), Some(2))
    );
    assert_eq!(ds[0].changes[0].field, "to");
    // Every alias renamed consistently: no difference.
    let renamed: Vec<String> = [INVITE, R180, R200, ACK]
        .iter()
        .map(|l| {
            l.replace("<tag-A>", "<tag-X>")
                .replace("<branch-", "<branch-9")
        })
        .collect();
    let refs: Vec<&str> = renamed.iter().map(String::as_str).collect();
    assert!(align(&g, &t(&refs)).is_empty());
}

#[test]
fn missing_extra_reordered_and_sdp_changes() {
    let g = t(&[INVITE, R180, R200, ACK]);
    let a = t(&[INVITE, R180, ACK, R200]);
    let ds = align(&g, &a);
    assert_eq!(ds.len(), 1, "{ds:?}");
    assert_eq!(ds[0].kind, DiffKind::Reordered);
    let a = t(&[INVITE, R180, R200]);
    let ds = align(&g, &a);
    assert_eq!((ds[0].kind, ds[0].golden), (DiffKind::Missing, Some(3)));
    let a = t(&[INVITE, R180, &R200.replace("sendrecv", "sendonly"), ACK]);
    let ds = align(&g, &a);
    assert_eq!(ds[0].changes[0].field, "sdp.m1");
    let a = t(&[INVITE, R180, &R200.replace("200/", "488/"), ACK]);
    let ds = align(&g, &a);
    assert_eq!(ds[0].changes[0].field, "status");
}

#[test]
fn messages_of_other_parties_may_come_in_either_order() {
    let bye = "+0.004 target > alice BYE call=<call-1> from=<tag-B> to=<tag-A> via=<branch-4> cseq=<cseq-3>";
    let ack = "+0.004 carol > target ACK call=<call-2> from=<tag-C> to=<tag-D> via=<branch-5> cseq=<cseq-4>";
    let g = t(&[INVITE, R180, R200, ACK, bye, ack]);
    let a = t(&[INVITE, R180, R200, ACK, ack, bye]);
    let al = align_with(&g, &a, &Tolerance::default());
    assert!(al.is_equal(), "{:?}", al.differences);
    assert_eq!(al.tolerated.len(), 1);
}

#[test]
fn timing_and_counts_within_bounds() {
    let g = t(&[INVITE, R180, R200, ACK]);
    let a = t(&[
        INVITE,
        R180,
        &R200
            .replace("+0.002", "+0.300")
            .replace("200/INVITE", "200/INVITE x3"),
        &ACK.replace("+0.003", "+0.301"),
    ]);
    assert!(align(&g, &a).is_empty());
    let a = t(&[
        INVITE,
        R180,
        &R200
            .replace("+0.002", "+3.000")
            .replace("200/INVITE", "200/INVITE x9"),
        &ACK.replace("+0.003", "+3.001"),
    ]);
    let ds = align(&g, &a);
    assert_eq!(ds.len(), 1, "{ds:?}");
    let fields: Vec<&str> = ds[0].changes.iter().map(|c| c.field.as_str()).collect();
    assert_eq!(fields, ["time", "count"]);
    assert!(align_with(&g, &a, &Tolerance::lenient())
        .differences
        .iter()
        .all(|d| d.changes.iter().all(|c| c.field != "time")));
}

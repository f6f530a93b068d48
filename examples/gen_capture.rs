//! Writes a large synthetic SIP capture with siptest's own pcap writer, for
//! `ci/bench-capture.sh`:
//!
//! ```sh
//! cargo run --release --example gen_capture -- OUT.pcap [CALLS]
//! ```
//!
//! Each call is INVITE (SDP) / 100 / 180 / 200 (SDP) / ACK / BYE / 200, one in four first
//! challenged with 407 (and ACKed, then re-sent with credentials), one in eight preceded by a
//! REGISTER / 401 / REGISTER / 200 exchange; one in three calls goes over TCP (with handshakes,
//! segments as the writer cuts them), the others over UDP. 200 calls run interleaved at a time.
//! Prints the number of messages written.

use siptest::pcap::{PcapOptions, PcapWriter};
use siptest::trace::Transport;
use std::io::BufWriter;
use std::net::SocketAddr;
use std::time::Duration;

const SDP: &str = "v=0\r\no=- 2890844526 2890844526 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\n\
t=0 0\r\nm=audio {port} RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=ptime:20\r\na=sendrecv\r\n";

struct Call {
    n: u64,
    caller: SocketAddr,
    callee: SocketAddr,
    transport: Transport,
}

impl Call {
    fn id(&self) -> String {
        format!(
            "{:016x}-{}@bench.example.com",
            self.n.wrapping_mul(0x9e37_79b9_7f4a_7c15),
            self.n
        )
    }

    fn request(
        &self,
        method: &str,
        cseq: u32,
        branch: u32,
        body: Option<String>,
        auth: bool,
    ) -> Vec<u8> {
        let t = self.transport.as_str().to_ascii_uppercase();
        let (body, ct) = match body {
            Some(b) => (b, "Content-Type: application/sdp\r\n"),
            None => (String::new(), ""),
        };
        let auth = if auth {
            format!(
                "Proxy-Authorization: Digest username=\"u{n}\", realm=\"bench.example.com\", \
                 nonce=\"{n:08x}ab34\", uri=\"sip:bob{n}@{callee}\", response=\"{n:032x}\", algorithm=MD5\r\n",
                n = self.n,
                callee = self.callee
            )
        } else {
            String::new()
        };
        format!(
            "{method} sip:bob{n}@{callee} SIP/2.0\r\n\
             Via: SIP/2.0/{t} {caller};branch=z9hG4bK{n:x}.{branch};rport\r\n\
             Max-Forwards: 70\r\n\
             From: \"Alice {n}\" <sip:alice{n}@bench.example.com>;tag=a{n:x}\r\n\
             To: <sip:bob{n}@bench.example.com>{totag}\r\n\
             Call-ID: {id}\r\n\
             CSeq: {cseq} {cmethod}\r\n\
             Contact: <sip:alice{n}@{caller};transport={lt}>\r\n\
             User-Agent: siptest-bench/1.0\r\n\
             {auth}{ct}Content-Length: {len}\r\n\r\n{body}",
            n = self.n,
            callee = self.callee,
            caller = self.caller,
            totag = if method == "ACK" || method == "BYE" {
                format!(";tag=b{:x}", self.n)
            } else {
                String::new()
            },
            id = self.id(),
            cmethod = method,
            lt = self.transport.as_str(),
            len = body.len(),
        )
        .into_bytes()
    }

    fn response(
        &self,
        code: u16,
        reason: &str,
        method: &str,
        cseq: u32,
        branch: u32,
        body: Option<String>,
    ) -> Vec<u8> {
        let t = self.transport.as_str().to_ascii_uppercase();
        let (body, ct) = match body {
            Some(b) => (b, "Content-Type: application/sdp\r\n"),
            None => (String::new(), ""),
        };
        let totag = if code > 100 {
            format!(";tag=b{:x}", self.n)
        } else {
            String::new()
        };
        let extra = if code == 407 {
            "Proxy-Authenticate: Digest realm=\"bench.example.com\", nonce=\"abcdef0123456789\", algorithm=MD5, qop=\"auth\"\r\n".to_string()
        } else if code == 200 || code == 180 {
            format!(
                "Contact: <sip:bob{}@{};transport={}>\r\n",
                self.n,
                self.callee,
                self.transport.as_str()
            )
        } else {
            String::new()
        };
        format!(
            "SIP/2.0 {code} {reason}\r\n\
             Via: SIP/2.0/{t} {caller};branch=z9hG4bK{n:x}.{branch};rport={port};received={ip}\r\n\
             From: \"Alice {n}\" <sip:alice{n}@bench.example.com>;tag=a{n:x}\r\n\
             To: <sip:bob{n}@bench.example.com>{totag}\r\n\
             Call-ID: {id}\r\n\
             CSeq: {cseq} {method}\r\n\
             Server: bench-uas/2.1\r\n\
             {extra}{ct}Content-Length: {len}\r\n\r\n{body}",
            n = self.n,
            caller = self.caller,
            port = self.caller.port(),
            ip = self.caller.ip(),
            id = self.id(),
            len = body.len(),
        )
        .into_bytes()
    }

    /// The call's messages: (time offset in ms, from caller, bytes).
    fn messages(&self) -> Vec<(u64, bool, Vec<u8>)> {
        let sdp = |a: SocketAddr| {
            Some(
                SDP.replace("{ip}", &a.ip().to_string())
                    .replace("{port}", &(10_000 + self.n % 20_000).to_string()),
            )
        };
        let mut out = Vec::new();
        let mut t = 0;
        let mut cseq = 1;
        if self.n % 8 == 0 {
            out.push((t, true, self.request("REGISTER", cseq, 90, None, false)));
            out.push((
                t + 20,
                false,
                self.response(401, "Unauthorized", "REGISTER", cseq, 90, None),
            ));
            cseq += 1;
            out.push((t + 40, true, self.request("REGISTER", cseq, 91, None, true)));
            out.push((
                t + 60,
                false,
                self.response(200, "OK", "REGISTER", cseq, 91, None),
            ));
            t += 100;
            cseq += 1;
        }
        let auth = self.n % 4 == 1;
        if auth {
            out.push((
                t,
                true,
                self.request("INVITE", cseq, 1, sdp(self.caller), false),
            ));
            out.push((
                t + 15,
                false,
                self.response(
                    407,
                    "Proxy Authentication Required",
                    "INVITE",
                    cseq,
                    1,
                    None,
                ),
            ));
            out.push((t + 30, true, self.request("ACK", cseq, 1, None, false)));
            t += 50;
            cseq += 1;
        }
        out.push((
            t,
            true,
            self.request("INVITE", cseq, 2, sdp(self.caller), auth),
        ));
        out.push((
            t + 10,
            false,
            self.response(100, "Trying", "INVITE", cseq, 2, None),
        ));
        out.push((
            t + 300,
            false,
            self.response(180, "Ringing", "INVITE", cseq, 2, None),
        ));
        out.push((
            t + 2500,
            false,
            self.response(200, "OK", "INVITE", cseq, 2, sdp(self.callee)),
        ));
        out.push((t + 2520, true, self.request("ACK", cseq, 3, None, false)));
        out.push((
            t + 9000,
            true,
            self.request("BYE", cseq + 1, 4, None, false),
        ));
        out.push((
            t + 9030,
            false,
            self.response(200, "OK", "BYE", cseq + 1, 4, None),
        ));
        out
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).expect("usage: gen_capture OUT.pcap [CALLS]");
    let calls: u64 = args
        .get(2)
        .map_or(50_000, |s| s.parse().expect("a number of calls"));
    let file = BufWriter::with_capacity(
        1 << 20,
        std::fs::File::create(path).expect("create the output"),
    );
    let opts = PcapOptions {
        epoch_offset: Duration::from_secs(1_700_000_000),
        ..PcapOptions::default()
    };
    let mut w = PcapWriter::new(file, opts).expect("write the header");
    let proxy: SocketAddr = "192.0.2.10:5060".parse().unwrap();
    let mut written = 0u64;
    const BATCH: u64 = 200;
    for batch in 0..calls.div_ceil(BATCH) {
        let mut events = Vec::new();
        for n in batch * BATCH..((batch + 1) * BATCH).min(calls) {
            let transport = if n % 3 == 0 {
                Transport::Tcp
            } else {
                Transport::Udp
            };
            let port = if transport == Transport::Tcp {
                20_000 + (n % 40_000) as u16
            } else {
                5060
            };
            let caller =
                SocketAddr::new([10, (n >> 16) as u8, (n >> 8) as u8, n as u8].into(), port);
            let call = Call {
                n,
                caller,
                callee: proxy,
                transport,
            };
            // Calls of a batch start 25 ms apart; batches follow each other.
            let start = batch * 15_000 + (n % BATCH) * 25;
            for (t, forward, bytes) in call.messages() {
                let (src, dst) = if forward {
                    (caller, proxy)
                } else {
                    (proxy, caller)
                };
                events.push((start + t, src, dst, transport, bytes));
            }
        }
        events.sort_by_key(|e| e.0);
        for (t, src, dst, transport, bytes) in events {
            w.write_message(Duration::from_millis(t), src, dst, transport, &bytes)
                .expect("write");
            written += 1;
        }
    }
    w.finish().expect("flush");
    println!("{written}");
}

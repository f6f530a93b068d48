//! Hostile inputs shared by the header parsers' no-panic tests.

/// Hostile inputs every parser must survive without panicking.
pub const GARBAGE: &[&str] = &[
    "",
    " ",
    "\t",
    ";",
    ";;",
    ",",
    ",,,",
    "=",
    "==",
    "\"",
    "\"\"",
    "\"\\",
    "\\",
    "(",
    ")",
    "((((",
    "))))",
    "/",
    "//",
    ":",
    "::",
    "[",
    "]",
    "[::1",
    "@",
    "@@",
    "<",
    ">",
    "<<>>",
    "\u{0}",
    "\u{7f}",
    "é",
    "日本語",
    "\u{1F600}",
    "a\u{0}b",
    "SIP/",
    "SIP/2.0/",
    "1 ",
    " 1",
    "-1",
    "+1",
    "1e9",
    "0x10",
    "99999999999999999999999999999999999999",
    "1.2.3",
    "a;b=\"unterminated",
    "a;=b",
    "a;b=",
    "x y z",
    "\r\n",
    "\r\n ",
    "Digest ,,,",
    "Digest a=\"b",
    "text/",
    "/plain",
    "*/*;q=",
    "Mon, 32 Foo 99999 99:99:99 GMT",
    "Mon,",
    "1 2 3 4 5 6 7 8 9",
    "é;é=é",
    "a;b;c;d;e;f;g",
    "\"\\\u{e9}\"",
    "(\\",
];

/// GARBAGE plus a few hundred pseudo-random strings over a SIP-flavoured alphabet.
pub fn garbage() -> Vec<String> {
    const ALPHA: &[&str] = &[
        "a", "Z", "0", "9", " ", "\t", ";", ",", "=", "\"", "\\", "(", ")", "/", ":", "[", "]",
        "@", "<", ">", ".", "-", "é", "日", "z9hG4bK", "SIP", "2.0", "GMT", "Digest", "\u{0}", "%",
        "*", "?", "{", "}", "'", "\r\n",
    ];
    let mut out: Vec<String> = GARBAGE.iter().map(|s| s.to_string()).collect();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..300 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let len = (x % 24) as usize;
        let mut s = String::new();
        let mut y = x;
        for _ in 0..len {
            y = y
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            s.push_str(ALPHA[((y >> 33) % ALPHA.len() as u64) as usize]);
        }
        out.push(s);
    }
    out
}

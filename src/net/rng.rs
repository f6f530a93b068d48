//! A small seeded generator for the network impairments: PCG-XSH-RR 64/32 (O'Neill, "PCG: A
//! Family of Simple Fast Space-Efficient Statistically Good Algorithms", 2014), seeded through
//! SplitMix64 so that neighbouring seeds (7, 8) give unrelated streams.
//!
//! It is written here rather than taken from `rand` because the sequence is part of siptest's
//! observable behaviour: a test that asserts "seed 7 drops messages 3 and 11" must keep passing
//! whatever version of a dependency is resolved. Not for cryptography.

/// A deterministic pseudo-random generator.
#[derive(Clone, Debug)]
pub struct Pcg32 {
    state: u64,
    inc: u64,
}

const MULTIPLIER: u64 = 6364136223846793005;

/// One step of SplitMix64 (Steele, Lea and Flood, 2014): spreads a seed over 64 bits.
fn splitmix64(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Pcg32 {
    /// A generator whose whole output is fixed by `seed`.
    pub fn new(seed: u64) -> Self {
        let mut s = seed;
        let init_state = splitmix64(&mut s);
        // The increment must be odd.
        let inc = splitmix64(&mut s) | 1;
        let mut rng = Pcg32 { state: 0, inc };
        rng.next_u32();
        rng.state = rng.state.wrapping_add(init_state);
        rng.next_u32();
        rng
    }

    pub fn next_u32(&mut self) -> u32 {
        let old = self.state;
        self.state = old.wrapping_mul(MULTIPLIER).wrapping_add(self.inc);
        let xorshifted = (((old >> 18) ^ old) >> 27) as u32;
        let rot = (old >> 59) as u32;
        xorshifted.rotate_right(rot)
    }

    pub fn next_u64(&mut self) -> u64 {
        (u64::from(self.next_u32()) << 32) | u64::from(self.next_u32())
    }

    /// A uniform float in [0, 1) with 53 bits of precision.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// True with probability `p` (values outside [0, 1] are clamped). Always draws one number,
    /// so that the sequence of draws does not depend on `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        let x = self.next_f64();
        x < p.clamp(0.0, 1.0)
    }

    /// A uniform integer in `[0, n]` (inclusive); `n == 0` still draws once.
    pub fn up_to(&mut self, n: u64) -> u64 {
        let x = self.next_u64();
        if n == u64::MAX {
            x
        } else {
            // The modulo bias is below 2^-40 for the spans used here (jitter in nanoseconds).
            x % (n + 1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_other_seed_other_stream() {
        let a: Vec<u32> = {
            let mut r = Pcg32::new(7);
            (0..8).map(|_| r.next_u32()).collect()
        };
        let b: Vec<u32> = {
            let mut r = Pcg32::new(7);
            (0..8).map(|_| r.next_u32()).collect()
        };
        let c: Vec<u32> = {
            let mut r = Pcg32::new(8);
            (0..8).map(|_| r.next_u32()).collect()
        };
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn floats_are_in_range_and_roughly_uniform() {
        let mut r = Pcg32::new(1);
        let n = 100_000;
        let mut below_half = 0;
        for _ in 0..n {
            let x = r.next_f64();
            assert!((0.0..1.0).contains(&x));
            if x < 0.5 {
                below_half += 1;
            }
        }
        assert!((49_000..51_000).contains(&below_half), "{below_half}");
        assert!((0..1000).all(|_| r.up_to(3) <= 3));
    }
}

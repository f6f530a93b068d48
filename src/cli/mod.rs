//! The command line. Kept thin: it turns flags into calls on the library and results into exit
//! codes.
pub fn main() -> i32 { 0 }

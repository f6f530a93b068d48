fn main() {
    std::process::exit(siptest::cli::main());
}

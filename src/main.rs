fn main() -> std::process::ExitCode {
    ssot_gardener::cli::main()
}

// mimalloc: the process allocates hundreds of thousands of small strings (facts) and one
// buffer per file; glibc's allocator spent a tenth of a warm run growing its arenas.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    ssot_gardener::cli::main()
}

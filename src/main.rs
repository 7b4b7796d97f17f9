// mimalloc: the process allocates hundreds of thousands of small strings (facts) and one
// buffer per file; glibc's allocator spent a tenth of a warm run growing its arenas.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    // Transparent huge pages off for this process, as mimalloc's `allow_thp=0` does: its
    // arenas ask for them, so each fresh 2 MiB region was faulted in and zeroed whole, and
    // under memory fragmentation the kernel compacted memory to find them (system time of a
    // cold monorepo check 0.4 s to 1.9 s from run to run, peak RSS 215-235 MiB; without
    // them 0.5 s and 180-190 MiB).
    #[cfg(target_os = "linux")]
    // SAFETY: `prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0)` takes no pointers; it only sets a flag of
    // this process's memory map, and a failure (an old kernel) changes nothing.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
    ssot_gardener::cli::main()
}

//! Which Rust files the collector's fast path reads, where it gives up on the others, and
//! whether its facts equal the syn path's (the registry sweep in `tests/it/rust_collect.rs`
//! asserts the last; this prints what to widen next).
//!
//!     cargo run --release --example rust_fast_coverage -- ~/.cargo/registry/src
//!
//! Prints, per line of `src/rust/collect/fast.rs` that gave up, the files and bytes it cost
//! (largest first, with an example file), then the share of files and bytes read fast, the
//! files whose facts differ (`SHOW=1` prints the first differing line of each), and both
//! paths' times on one thread. `LIST=1` prints every file it gave up on, with its syn-path
//! time.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ssot_gardener::rust;

fn main() {
    let mut files = Vec::new();
    for dir in std::env::args().skip(1) {
        rust_files(Path::new(&dir), &mut files);
    }
    let show = std::env::var_os("SHOW").is_some();
    let list = std::env::var_os("LIST").is_some();
    let mut bails: BTreeMap<u32, (usize, usize, String)> = BTreeMap::new();
    let (mut fast_files, mut fast_bytes, mut bytes, mut differ) = (0, 0, 0, 0);
    let (mut fast_time, mut slow_time) = (Duration::ZERO, Duration::ZERO);
    for path in &files {
        let Ok(text) = std::fs::read(path) else {
            continue;
        };
        bytes += text.len();
        if let Some(line) = rust::fast_bail(&text) {
            if list {
                let started = Instant::now();
                let _ = rust::collect_slow(&text);
                let cost = started.elapsed();
                println!(
                    "fast.rs:{line} {} KB, syn path {:.2} ms: {}",
                    text.len() / 1024,
                    cost.as_secs_f64() * 1e3,
                    path.display()
                );
            }
            let entry = bails
                .entry(line)
                .or_insert_with(|| (0, 0, path.display().to_string()));
            entry.0 += 1;
            entry.1 += text.len();
            continue;
        }
        fast_files += 1;
        fast_bytes += text.len();
        let started = Instant::now();
        let fast = rust::collect(&text);
        fast_time += started.elapsed();
        let started = Instant::now();
        let slow = rust::collect_slow(&text);
        slow_time += started.elapsed();
        if fast != slow {
            differ += 1;
            println!("DIFFERS {}", path.display());
            if show {
                let (fast, slow) = (format!("{fast:#?}"), format!("{slow:#?}"));
                if let Some((a, b)) = fast.lines().zip(slow.lines()).find(|(a, b)| a != b) {
                    println!("  fast {a}\n  slow {b}");
                }
            }
        }
    }
    let mut bails: Vec<_> = bails.into_iter().collect();
    bails.sort_by_key(|(_, (_, bytes, _))| std::cmp::Reverse(*bytes));
    for (line, (count, size, example)) in bails.iter().take(25) {
        println!(
            "gave up at fast.rs:{line}: {count} files, {} KB, e.g. {example}",
            size / 1024
        );
    }
    let share = |part: usize, whole: usize| 100.0 * part as f64 / whole.max(1) as f64;
    println!(
        "{} files: {fast_files} read fast ({:.1}% of the files, {:.1}% of the bytes), {differ} \
         differ; over those, fast {:.0} ms, syn path {:.0} ms",
        files.len(),
        share(fast_files, files.len()),
        share(fast_bytes, bytes),
        fast_time.as_secs_f64() * 1e3,
        slow_time.as_secs_f64() * 1e3,
    );
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

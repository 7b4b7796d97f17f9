//! The fact cache: per-file facts (never verdicts: resolution is cross-file and always redone)
//! in `.ssot_cache/facts.bin` under the repository root, keyed by each file's content hash,
//! plus `facts.delta` with the entries written since (same format), folded into the base
//! when it grows.
//!
//! Each file is one blob: a header whose key is a hash of the tool version, the collector's
//! own source and the settings; an index of `(content hash, offset, length, checksum)` (the
//! checksum is seeded with the content hash, so an entry filed under another key fails it);
//! then the postcard-encoded facts. Anything that does not check out (another key, a short file,
//! an index pointing outside the file, a checksum or decoding failure) is ignored and the
//! facts are collected afresh: the cache is never trusted, only used. Writes go to a
//! temporary file in the same directory, then a rename, so a reader sees the old cache or
//! the new one, never half of one.
//!
//! Beside them, `files.bin` maps each path to what the file system said about it when it was
//! last read (size, modification and change times in nanoseconds, inode: a [`Stamp`]) and
//! its content hash, as git's index does: a file whose stamp is unchanged is not read at all.
//! A stamp is recorded only when the file's times are older than the start of the run that
//! read it by more than [`RACY_WINDOW_NS`], so a file rewritten in the same clock tick as it
//! was read (same size, same second on a coarse file system) is hashed again, not trusted.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use xxhash_rust::xxh3::xxh3_64;

use crate::config::Settings;
use crate::facts::FileFacts;
use crate::walk::SourceFile;

pub const DIRECTORY: &str = ".ssot_cache";
const FILE: &str = "facts.bin";
const DELTA: &str = "facts.delta";
const MAGIC: &[u8; 8] = b"SSOTFCT3";
const HEADER: usize = 8 + 8 + 4;
const ENTRY: usize = 8 + 8 + 4 + 8;

/// What makes facts of the same bytes differ: the collector's code and the tool version.
/// Hashing the sources at compile time means a development build that changes the collector
/// never reads facts an older one wrote.
const COLLECTOR: u64 = {
    let sources: [&[u8]; 9] = [
        include_bytes!("facts.rs"),
        include_bytes!("python/collect.rs"),
        include_bytes!("python/lexer.rs"),
        include_bytes!("rust/collect.rs"),
        include_bytes!("rust/collect/fast.rs"),
        include_bytes!("rust/lexical.rs"),
        include_bytes!("rust/prepare.rs"),
        include_bytes!("walk.rs"),
        env!("CARGO_PKG_VERSION").as_bytes(),
    ];
    let mut hash = 0u64;
    let mut i = 0;
    while i < sources.len() {
        hash = hash.rotate_left(5) ^ xxhash_rust::const_xxh3::xxh3_64(sources[i]);
        i += 1;
    }
    hash
};

/// The cache key of a repository's settings: what could change the facts of a file.
pub fn key(settings: &Settings) -> u64 {
    let mut text = String::new();
    for root in &settings.python_roots {
        text.push_str(&root.to_string_lossy());
        text.push('\0');
    }
    text.push('\u{1}');
    for root in &settings.rust_roots {
        text.push_str(&root.to_string_lossy());
        text.push('\0');
    }
    COLLECTOR ^ xxh3_64(text.as_bytes())
}

const STAMPS: &str = "files.bin";
const STAMPS_MAGIC: &[u8; 8] = b"SSOTSTM1";

/// How much older than the run that read it a file must be for its stamp to be trusted next
/// time: more than the coarsest timestamp granularity in use (FAT's two seconds).
pub const RACY_WINDOW_NS: i64 = 3_000_000_000;

/// What the file system says about a file: enough to tell, without reading it, that it has
/// not changed since it was read (any write changes the change time; a rename or a copy
/// changes the inode).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Stamp {
    pub len: u64,
    /// Modification time, nanoseconds since the epoch.
    pub modified: i64,
    /// Status change time (Unix `ctime`), nanoseconds since the epoch; 0 where unknown.
    pub changed: i64,
    pub inode: u64,
}

impl Stamp {
    pub fn of(metadata: &std::fs::Metadata) -> Stamp {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let nanos = |seconds: i64, nanos: i64| seconds.saturating_mul(1_000_000_000) + nanos;
            Stamp {
                len: metadata.len(),
                modified: nanos(metadata.mtime(), metadata.mtime_nsec()),
                changed: nanos(metadata.ctime(), metadata.ctime_nsec()),
                inode: metadata.ino(),
            }
        }
        #[cfg(not(unix))]
        {
            let modified = metadata
                .modified()
                .ok()
                .and_then(|time| time.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |since| {
                    i64::try_from(since.as_nanos()).unwrap_or(i64::MAX)
                });
            Stamp {
                len: metadata.len(),
                modified,
                changed: 0,
                inode: 0,
            }
        }
    }

    /// Whether a file with this stamp, read by a run that started at `started` (nanoseconds
    /// since the epoch), may be recognised by its stamp next time: it had not been touched
    /// for [`RACY_WINDOW_NS`] when the run began.
    pub fn settled(&self, started: i64) -> bool {
        let limit = started.saturating_sub(RACY_WINDOW_NS);
        self.modified < limit && self.changed < limit
    }
}

/// The stamp index: `(path, stamp, content hash)` sorted by path, after a header with the
/// cache key and a checksum of the rest.
#[derive(Default)]
struct Stamps {
    bytes: Vec<u8>,
    by_path: HashMap<String, (Stamp, u64)>,
}

impl Stamps {
    fn read(path: &Path, key: u64) -> Stamps {
        let Ok(bytes) = std::fs::read(path) else {
            return Stamps::default();
        };
        match decode_stamps(&bytes, key) {
            Some(entries) => Stamps {
                by_path: entries
                    .into_iter()
                    .map(|(path, stamp, hash)| (path, (stamp, hash)))
                    .collect(),
                bytes,
            },
            None => Stamps::default(),
        }
    }
}

fn decode_stamps(bytes: &[u8], key: u64) -> Option<Vec<(String, Stamp, u64)>> {
    let header = bytes.get(..24)?;
    if &header[..8] != STAMPS_MAGIC || u64::from_le_bytes(header[8..16].try_into().ok()?) != key {
        return None;
    }
    let checksum = u64::from_le_bytes(header[16..24].try_into().ok()?);
    let body = &bytes[24..];
    if xxh3_64(body) != checksum {
        return None;
    }
    postcard::from_bytes(body).ok()
}

fn encode_stamps(key: u64, entries: &[(&str, Stamp, u64)]) -> Option<Vec<u8>> {
    let body = postcard::to_stdvec(entries).ok()?;
    let mut out = Vec::with_capacity(24 + body.len());
    out.extend_from_slice(STAMPS_MAGIC);
    out.extend_from_slice(&key.to_le_bytes());
    out.extend_from_slice(&xxh3_64(&body).to_le_bytes());
    out.extend_from_slice(&body);
    Some(out)
}

/// One cache file: its bytes and where each entry is.
#[derive(Default)]
struct Segment {
    bytes: Vec<u8>,
    /// content hash -> (offset, length, checksum)
    index: HashMap<u64, (usize, usize, u64)>,
}

impl Segment {
    /// An absent, foreign or damaged file reads as empty.
    fn read(path: &Path, key: u64) -> Segment {
        match std::fs::read(path) {
            Ok(bytes) => match parse_index(&bytes, key) {
                Some(index) => Segment { bytes, index },
                None => Segment::default(),
            },
            Err(_) => Segment::default(),
        }
    }

    fn blob(&self, hash: u64) -> Option<&[u8]> {
        let &(offset, length, checksum) = self.index.get(&hash)?;
        let blob = self.bytes.get(offset..offset.checked_add(length)?)?;
        (entry_checksum(hash, blob) == checksum).then_some(blob)
    }
}

/// A loaded cache: the base file, and a small delta file with the entries written since, so
/// one changed file does not rewrite the whole cache. The delta is folded into the base when
/// it grows past an eighth of it, or when a quarter of the base is stale.
#[derive(Default)]
pub struct Store {
    directory: PathBuf,
    key: u64,
    base: Segment,
    delta: Segment,
    stamps: Stamps,
    /// A listed entry failed its checksum or did not decode.
    damaged: std::sync::atomic::AtomicBool,
}

impl Store {
    /// Reads the cache of `root`; an absent, foreign or damaged cache loads empty.
    pub fn load(root: &Path, key: u64) -> Store {
        let directory = root.join(DIRECTORY);
        if !usable(&directory) {
            return Store {
                directory,
                key,
                ..Store::default()
            };
        }
        let base = Segment::read(&directory.join(FILE), key);
        // A delta means nothing without its base.
        let delta = if base.index.is_empty() {
            Segment::default()
        } else {
            Segment::read(&directory.join(DELTA), key)
        };
        let stamps = if base.index.is_empty() {
            Stamps::default()
        } else {
            Stamps::read(&directory.join(STAMPS), key)
        };
        Store {
            directory,
            key,
            base,
            delta,
            stamps,
            damaged: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// The content hash recorded for `path` when its stamp is `stamp` and its facts are in
    /// the cache: the file need not be read.
    pub fn known(&self, path: &str, stamp: &Stamp) -> Option<u64> {
        let (known, hash) = self.stamps.by_path.get(path)?;
        // The blob is checked here (its checksum, not its decoding): a damaged one makes the
        // file read and collected, and the cache repaired by this run's save.
        (known == stamp && self.blob(*hash).is_some()).then_some(*hash)
    }

    /// The cached facts of a file with this content hash, if present and intact.
    pub fn get(&self, hash: u64) -> Option<FileFacts> {
        let facts = self
            .blob(hash)
            .and_then(|blob| postcard::from_bytes(blob).ok());
        if facts.is_none() && self.has(hash) {
            self.damaged
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
        facts
    }

    /// Whether the index lists `hash` (its blob is checked when read).
    fn has(&self, hash: u64) -> bool {
        self.delta.index.contains_key(&hash) || self.base.index.contains_key(&hash)
    }

    fn blob(&self, hash: u64) -> Option<&[u8]> {
        self.delta.blob(hash).or_else(|| self.base.blob(hash))
    }

    /// Writes the facts of `files` that the cache lacks: into the delta, or, when that has
    /// grown too big (or there is no base yet), a new base holding only `files` (entries of
    /// deleted or changed files are dropped then); then the stamps of the files, for a run
    /// that started at `started` (nanoseconds since the epoch). Failing to write is not an
    /// error: the next run reads and collects again.
    pub fn save(&self, files: &[SourceFile], started: i64) {
        self.save_facts(files);
        let unchanged = files.len() == self.stamps.by_path.len()
            && files.iter().all(|file| {
                file.stamp.is_some_and(|stamp| {
                    self.stamps.by_path.get(&file.path) == Some(&(stamp, file.hash))
                })
            });
        if unchanged {
            return;
        }
        // The stamps of the files read settled: the next run reads none of them.
        let entries: Vec<(&str, Stamp, u64)> = files
            .iter()
            .filter_map(|file| {
                let stamp = file.stamp?;
                stamp
                    .settled(started)
                    .then_some((file.path.as_str(), stamp, file.hash))
            })
            .collect();
        if let Some(bytes) = encode_stamps(self.key, &entries)
            && bytes != self.stamps.bytes
        {
            let _ = write_atomically(&self.directory.join(STAMPS), &bytes);
        }
    }

    fn save_facts(&self, files: &[SourceFile]) {
        let mut hashes: Vec<u64> = files.iter().map(|file| file.hash).collect();
        hashes.sort_unstable();
        hashes.dedup();
        // Every blob this run read checked out (`get` says when one did not).
        let damaged = self.damaged.load(std::sync::atomic::Ordering::Relaxed);
        if !damaged && hashes.iter().all(|&hash| self.has(hash)) {
            return;
        }
        // Files whose facts are still in the cache bring none of their own.
        let by_hash: HashMap<u64, &SourceFile> = files
            .iter()
            .filter(|file| !file.is_pending())
            .map(|file| (file.hash, file))
            .collect();
        let outside_base: Vec<u64> = hashes
            .iter()
            .copied()
            .filter(|&hash| self.base.blob(hash).is_none())
            .collect();
        let in_base = hashes.len() - outside_base.len();
        let stale = self.base.index.len().saturating_sub(in_base);
        let fold = self.base.index.is_empty()
            || outside_base.len() * 8 > in_base
            || stale * 4 > self.base.index.len();
        let (wanted, file) = if fold {
            (hashes, FILE)
        } else {
            (outside_base, DELTA)
        };
        let Some(bytes) = self.encode(&wanted, &by_hash) else {
            return;
        };
        if write_atomically(&self.directory.join(file), &bytes).is_ok() && fold {
            // The new base holds everything; an old delta would only be stale entries.
            let _ = std::fs::remove_file(self.directory.join(DELTA));
        }
    }

    /// A cache file holding the facts of `hashes`: copied when cached, encoded otherwise.
    fn encode(&self, hashes: &[u64], by_hash: &HashMap<u64, &SourceFile>) -> Option<Vec<u8>> {
        let mut blobs: Vec<u8> = Vec::new();
        let mut entries = Vec::with_capacity(hashes.len());
        for &hash in hashes {
            let start = blobs.len();
            match (self.blob(hash), by_hash.get(&hash)) {
                (Some(blob), _) => blobs.extend_from_slice(blob),
                (None, Some(file)) => {
                    blobs = postcard::to_extend(&file.facts, std::mem::take(&mut blobs)).ok()?;
                }
                (None, None) => continue,
            }
            let length = blobs.len() - start;
            entries.push((hash, start, length, entry_checksum(hash, &blobs[start..])));
        }
        let base = HEADER + entries.len() * ENTRY;
        let mut out = Vec::with_capacity(base + blobs.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.key.to_le_bytes());
        out.extend_from_slice(&(entries.len() as u32).to_le_bytes());
        for (hash, start, length, checksum) in entries {
            out.extend_from_slice(&hash.to_le_bytes());
            out.extend_from_slice(&((base + start) as u64).to_le_bytes());
            out.extend_from_slice(&(length as u32).to_le_bytes());
            out.extend_from_slice(&checksum.to_le_bytes());
        }
        out.extend_from_slice(&blobs);
        Some(out)
    }
}

/// An entry's checksum covers the content hash it is filed under as well as its data: entries
/// whose keys were swapped (each blob intact) fail it, so no file is given another file's
/// facts.
fn entry_checksum(hash: u64, blob: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64_with_seed(blob, hash)
}

fn parse_index(bytes: &[u8], key: u64) -> Option<HashMap<u64, (usize, usize, u64)>> {
    let header = bytes.get(..HEADER)?;
    if &header[..8] != MAGIC || u64::from_le_bytes(header[8..16].try_into().ok()?) != key {
        return None;
    }
    let count = u32::from_le_bytes(header[16..20].try_into().ok()?) as usize;
    let entries = bytes.get(HEADER..HEADER.checked_add(count.checked_mul(ENTRY)?)?)?;
    let mut index = HashMap::with_capacity(count);
    for entry in entries.chunks_exact(ENTRY) {
        let hash = u64::from_le_bytes(entry[0..8].try_into().ok()?);
        let offset = usize::try_from(u64::from_le_bytes(entry[8..16].try_into().ok()?)).ok()?;
        let length = u32::from_le_bytes(entry[16..20].try_into().ok()?) as usize;
        let checksum = u64::from_le_bytes(entry[20..28].try_into().ok()?);
        if offset.checked_add(length)? > bytes.len() {
            return None;
        }
        index.insert(hash, (offset, length, checksum));
    }
    Some(index)
}

/// Whether `directory` may be the cache: absent, or a directory of its own. A repository is
/// untrusted input: a `.ssot_cache` that is a symlink (or anything else) could point reads
/// and writes outside the repository, so it is neither read nor written.
fn usable(directory: &Path) -> bool {
    match std::fs::symlink_metadata(directory) {
        Ok(metadata) => metadata.file_type().is_dir(),
        Err(error) => error.kind() == std::io::ErrorKind::NotFound,
    }
}

/// Writes `bytes` to a new file at `path`, never through a symlink (nor over anything that
/// exists: a dangling link planted there is left as it is).
fn create_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .and_then(|mut file| file.write_all(bytes))
}

/// Creates the cache directory (with its `.gitignore` and `CACHEDIR.TAG`) and replaces
/// `path` by a rename from a temporary file beside it. Nothing is written through a symlink:
/// a cache directory that is one is refused, the marker files are created only where nothing
/// is, and the temporary file is created new.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let directory = path.parent().unwrap_or(Path::new("."));
    if !usable(directory) {
        return Err(std::io::Error::other(
            "the cache directory is not a directory of its own",
        ));
    }
    if let Err(error) = std::fs::create_dir(directory)
        && error.kind() != std::io::ErrorKind::AlreadyExists
    {
        return Err(error);
    }
    let absent = |path: &Path| std::fs::symlink_metadata(path).is_err();
    let gitignore = directory.join(".gitignore");
    if absent(&gitignore) {
        create_new(
            &gitignore,
            b"# Created by ssot-gardener: the whole directory is a cache.\n*\n",
        )?;
    }
    let tag = directory.join("CACHEDIR.TAG");
    if absent(&tag) {
        create_new(
            &tag,
            b"Signature: 8a477f597d28d172789f06886806bc55\n# This file is a cache directory tag created by ssot-gardener.\n# For information about cache directory tags see https://bford.info/cachedir/\n",
        )?;
    }
    let temporary = directory.join(format!("{name}.{}.tmp", std::process::id()));
    // A temporary left by an earlier process with this pid (it was killed) is ours to replace;
    // a symlink there is removed, never followed.
    if std::fs::symlink_metadata(&temporary).is_ok() {
        std::fs::remove_file(&temporary)?;
    }
    // No fsync: a torn file fails its checksums and is collected again.
    let written = create_new(&temporary, bytes);
    match written.and_then(|()| std::fs::rename(&temporary, path)) {
        Ok(()) => Ok(()),
        Err(error) => {
            let _ = std::fs::remove_file(&temporary);
            Err(error)
        }
    }
}

const OUTPUT: &str = "output.bin";
const OUTPUT_MAGIC: &[u8; 8] = b"SSOTOUT1";
/// How many `check` results are kept (one per command line: formats, paths, selections).
const OUTPUTS: usize = 4;

/// What a `check` printed and returned.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Output {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub code: u8,
}

/// `check` results by the hash of everything they depend on (`inputs`: the binary, the
/// command line, the settings, every file's path and content hash, the non-source files, the
/// skipped files, the manifests, the baseline): an unchanged repository checked the same way
/// again prints the same bytes without resolving, building concepts or running rules. Stored
/// in `.ssot_cache/output.bin` under the cache key, with a checksum; anything that does not
/// check out is a miss.
pub fn output(root: &Path, key: u64, inputs: u64) -> Option<Output> {
    if !usable(&root.join(DIRECTORY)) {
        return None;
    }
    read_outputs(&root.join(DIRECTORY).join(OUTPUT), key)?
        .into_iter()
        .find(|(at, _)| *at == inputs)
        .map(|(_, output)| output)
}

/// Records `output` as the result for `inputs` (the most recent [`OUTPUTS`] are kept).
/// Failing to write is not an error.
pub fn save_output(root: &Path, key: u64, inputs: u64, output: &Output) {
    let path = root.join(DIRECTORY).join(OUTPUT);
    let mut entries = read_outputs(&path, key).unwrap_or_default();
    entries.retain(|(at, _)| *at != inputs);
    entries.insert(0, (inputs, output.clone()));
    entries.truncate(OUTPUTS);
    let Ok(body) = postcard::to_stdvec(&entries) else {
        return;
    };
    let mut bytes = Vec::with_capacity(24 + body.len());
    bytes.extend_from_slice(OUTPUT_MAGIC);
    bytes.extend_from_slice(&key.to_le_bytes());
    bytes.extend_from_slice(&xxh3_64(&body).to_le_bytes());
    bytes.extend_from_slice(&body);
    let _ = write_atomically(&path, &bytes);
}

fn read_outputs(path: &Path, key: u64) -> Option<Vec<(u64, Output)>> {
    decode_outputs(&std::fs::read(path).ok()?, key)
}

fn decode_outputs(bytes: &[u8], key: u64) -> Option<Vec<(u64, Output)>> {
    let header = bytes.get(..24)?;
    if &header[..8] != OUTPUT_MAGIC || u64::from_le_bytes(header[8..16].try_into().ok()?) != key {
        return None;
    }
    let body = &bytes[24..];
    if xxh3_64(body) != u64::from_le_bytes(header[16..24].try_into().ok()?) {
        return None;
    }
    postcard::from_bytes(body).ok()
}

/// Every decoder of the cache's files run on `bytes` as if they were each of them (the key
/// read from the bytes, so the header check passes), with the facts of every entry of the
/// index that checks out: for the fuzzer (`fuzz/fuzz_targets/cache.rs`).
#[doc(hidden)]
pub fn decode_untrusted(bytes: &[u8]) -> Vec<FileFacts> {
    let key = bytes
        .get(8..16)
        .and_then(|key| key.try_into().ok())
        .map_or(0, u64::from_le_bytes);
    let _ = decode_stamps(bytes, key);
    let _ = decode_outputs(bytes, key);
    let Some(index) = parse_index(bytes, key) else {
        return Vec::new();
    };
    let segment = Segment {
        bytes: bytes.to_vec(),
        index,
    };
    let mut hashes: Vec<u64> = segment.index.keys().copied().collect();
    hashes.sort_unstable();
    hashes
        .into_iter()
        .filter_map(|hash| segment.blob(hash))
        .filter_map(|blob| postcard::from_bytes(blob).ok())
        .collect()
}

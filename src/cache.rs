//! The fact cache: per-file facts (never verdicts: resolution is cross-file and always redone)
//! in `.ssot_cache/facts.bin` under the repository root, keyed by each file's content hash,
//! plus `facts.delta` with the entries written since (same format), folded into the base
//! when it grows.
//!
//! Each file is one blob: a header whose key is a hash of the tool version, the collector's
//! own source and the settings; an index of `(content hash, offset, length, checksum)`; then
//! the postcard-encoded facts. Anything that does not check out (another key, a short file,
//! an index pointing outside the file, a checksum or decoding failure) is ignored and the
//! facts are collected afresh: the cache is never trusted, only used. Writes go to a
//! temporary file in the same directory, then a rename, so a reader sees the old cache or
//! the new one, never half of one.

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
const MAGIC: &[u8; 8] = b"SSOTFCT1";
const HEADER: usize = 8 + 8 + 4;
const ENTRY: usize = 8 + 8 + 4 + 8;

/// What makes facts of the same bytes differ: the collector's code and the tool version.
/// Hashing the sources at compile time means a development build that changes the collector
/// never reads facts an older one wrote.
const COLLECTOR: u64 = {
    let sources: [&[u8]; 8] = [
        include_bytes!("facts.rs"),
        include_bytes!("python/collect.rs"),
        include_bytes!("python/lexer.rs"),
        include_bytes!("rust/collect.rs"),
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
        (xxh3_64(blob) == checksum).then_some(blob)
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
}

impl Store {
    /// Reads the cache of `root`; an absent, foreign or damaged cache loads empty.
    pub fn load(root: &Path, key: u64) -> Store {
        let directory = root.join(DIRECTORY);
        let base = Segment::read(&directory.join(FILE), key);
        // A delta means nothing without its base.
        let delta = if base.index.is_empty() {
            Segment::default()
        } else {
            Segment::read(&directory.join(DELTA), key)
        };
        Store {
            directory,
            key,
            base,
            delta,
        }
    }

    /// The cached facts of a file with this content hash, if present and intact.
    pub fn get(&self, hash: u64) -> Option<FileFacts> {
        let blob = self.blob(hash)?;
        postcard::from_bytes(blob).ok()
    }

    fn blob(&self, hash: u64) -> Option<&[u8]> {
        self.delta.blob(hash).or_else(|| self.base.blob(hash))
    }

    /// Writes the facts of `files` that the cache lacks: into the delta, or, when that has
    /// grown too big (or there is no base yet), a new base holding only `files` (entries of
    /// deleted or changed files are dropped then). Failing to write is not an error: the
    /// next run collects again.
    pub fn save(&self, files: &[SourceFile]) {
        let mut hashes: Vec<u64> = files.iter().map(|file| file.hash).collect();
        hashes.sort_unstable();
        hashes.dedup();
        if hashes.iter().all(|&hash| self.blob(hash).is_some()) {
            return;
        }
        let by_hash: HashMap<u64, &SourceFile> =
            files.iter().map(|file| (file.hash, file)).collect();
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
            match self.blob(hash) {
                Some(blob) => blobs.extend_from_slice(blob),
                None => {
                    blobs = postcard::to_extend(&by_hash[&hash].facts, std::mem::take(&mut blobs))
                        .ok()?;
                }
            }
            let length = blobs.len() - start;
            entries.push((hash, start, length, xxh3_64(&blobs[start..])));
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

/// Creates the cache directory (with its `.gitignore` and `CACHEDIR.TAG`) and replaces
/// `path` by a rename from a temporary file beside it.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let directory = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(directory)?;
    let gitignore = directory.join(".gitignore");
    if !gitignore.exists() {
        std::fs::write(
            &gitignore,
            "# Created by ssot-gardener: the whole directory is a cache.\n*\n",
        )?;
    }
    let tag = directory.join("CACHEDIR.TAG");
    if !tag.exists() {
        std::fs::write(
            &tag,
            "Signature: 8a477f597d28d172789f06886806bc55\n# This file is a cache directory tag created by ssot-gardener.\n# For information about cache directory tags see https://bford.info/cachedir/\n",
        )?;
    }
    let temporary = directory.join(format!("{name}.{}.tmp", std::process::id()));
    // No fsync: a torn file fails its checksums and is collected again.
    let written = std::fs::File::create(&temporary).and_then(|mut file| file.write_all(bytes));
    match written.and_then(|()| std::fs::rename(&temporary, path)) {
        Ok(()) => Ok(()),
        Err(error) => {
            let _ = std::fs::remove_file(&temporary);
            Err(error)
        }
    }
}

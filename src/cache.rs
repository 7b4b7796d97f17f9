//! The fact cache: per-file facts (never verdicts: resolution is cross-file and always redone)
//! in `.ssot_cache/facts.bin` under the repository root, keyed by each file's content hash.
//!
//! The file is one blob: a header whose key is a hash of the tool version, the collector's
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
const MAGIC: &[u8; 8] = b"SSOTFCT1";
const HEADER: usize = 8 + 8 + 4;
const ENTRY: usize = 8 + 8 + 4 + 8;

/// What makes facts of the same bytes differ: the collector's code and the tool version.
/// Hashing the sources at compile time means a development build that changes the collector
/// never reads facts an older one wrote.
const COLLECTOR: u64 = {
    let sources: [&[u8]; 4] = [
        include_bytes!("facts.rs"),
        include_bytes!("python/collect.rs"),
        include_bytes!("python/lexer.rs"),
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

/// A loaded cache: the raw file and where each entry's bytes are.
#[derive(Default)]
pub struct Store {
    path: PathBuf,
    key: u64,
    bytes: Vec<u8>,
    /// content hash -> (offset, length, checksum)
    index: HashMap<u64, (usize, usize, u64)>,
}

impl Store {
    /// Reads the cache of `root`; an absent, foreign or damaged cache loads empty.
    pub fn load(root: &Path, key: u64) -> Store {
        let path = root.join(DIRECTORY).join(FILE);
        let mut store = Store {
            path,
            key,
            ..Store::default()
        };
        if let Ok(bytes) = std::fs::read(&store.path)
            && let Some(index) = parse_index(&bytes, key)
        {
            store.bytes = bytes;
            store.index = index;
        }
        store
    }

    /// The cached facts of a file with this content hash, if present and intact.
    pub fn get(&self, hash: u64) -> Option<FileFacts> {
        let blob = self.blob(hash)?;
        postcard::from_bytes(blob).ok()
    }

    fn blob(&self, hash: u64) -> Option<&[u8]> {
        let &(offset, length, checksum) = self.index.get(&hash)?;
        let blob = self.bytes.get(offset..offset.checked_add(length)?)?;
        (xxh3_64(blob) == checksum).then_some(blob)
    }

    /// Writes the facts of `files` (only those: entries of deleted or changed files are
    /// dropped) when they differ from what was loaded. Failing to write is not an error: the
    /// next run collects again.
    pub fn save(&self, files: &[SourceFile]) {
        let mut hashes: Vec<u64> = files.iter().map(|file| file.hash).collect();
        hashes.sort_unstable();
        hashes.dedup();
        let unchanged = hashes.len() == self.index.len()
            && hashes.iter().all(|hash| self.blob(*hash).is_some());
        if unchanged {
            return;
        }
        let by_hash: HashMap<u64, &SourceFile> =
            files.iter().map(|file| (file.hash, file)).collect();
        let mut blobs: Vec<u8> = Vec::new();
        let mut entries = Vec::with_capacity(hashes.len());
        for hash in hashes {
            let start = blobs.len();
            match self.blob(hash) {
                Some(blob) => blobs.extend_from_slice(blob),
                None => {
                    match postcard::to_extend(&by_hash[&hash].facts, std::mem::take(&mut blobs)) {
                        Ok(extended) => blobs = extended,
                        Err(_) => return,
                    }
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
        let _ = write_atomically(&self.path, &out);
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
    let temporary = directory.join(format!("{FILE}.{}.tmp", std::process::id()));
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

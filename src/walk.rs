//! The repository walk: parallel, `.gitignore`-aware, deterministic.
//!
//! Files are read and their facts collected on the walker's threads, then everything is
//! sorted by path, so the result is the same with one thread or many. A file that cannot be
//! read is skipped with a reason; symlinks are followed only when they stay inside the root,
//! and loops are reported, never followed round.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use ignore::{WalkBuilder, WalkState};

use crate::cache::{self, Stamp, Store};
use crate::config::Settings;
use crate::facts::FileFacts;
use crate::python;

/// Files larger than this are skipped: spans are 32-bit, and no real source file comes close.
pub const MAX_FILE_SIZE: u64 = 1 << 30;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Language {
    Python,
    Rust,
}

impl Language {
    fn of(path: &Path) -> Option<Language> {
        match path.extension()?.to_str()? {
            "py" => Some(Language::Python),
            "rs" => Some(Language::Rust),
            _ => None,
        }
    }

    /// The content hash of a source file: xxh3, seeded per language, so the fact cache
    /// never hands a Python file's facts to a Rust file with the same bytes.
    pub fn hash(self, text: &[u8]) -> u64 {
        match self {
            Language::Python => xxhash_rust::xxh3::xxh3_64(text),
            Language::Rust => xxhash_rust::xxh3::xxh3_64_with_seed(text, 0x5275_7374),
        }
    }

    /// Collects the facts of a file of this language (kept for the whole run: without spare
    /// capacity).
    pub fn collect(self, text: &[u8]) -> FileFacts {
        let mut facts = match self {
            Language::Python => python::collect(text),
            Language::Rust => crate::rust::collect(text),
        };
        facts.shrink_to_fit();
        facts
    }
}

/// A source file with its facts. Its text is not kept after collection: [`SourceFile::text`]
/// reads it again the first time a rule, a renderer or a fix asks (few files do), and checks
/// that the bytes are the ones the facts were read from.
#[derive(Debug)]
pub struct SourceFile {
    /// Relative to the repository root, `/`-separated.
    pub path: String,
    pub language: Language,
    /// [`Language::hash`] of the text.
    pub hash: u64,
    /// The text's length in bytes.
    pub len: u64,
    pub facts: FileFacts,
    /// What the file system said about the file when it was read; `None` for a text that
    /// is not the file's on disk (a fix).
    pub stamp: Option<Stamp>,
    /// The facts came from the cache (an untrusted input): `fix` checks them against the
    /// text before it edits the file.
    pub from_cache: bool,
    /// Known by its stamp: `facts` are still in the cache, read by [`Walk::load_facts`].
    pending: bool,
    text: OnceLock<Box<[u8]>>,
    /// Where the text is read from when it is not loaded; `None` when it was given.
    location: Option<PathBuf>,
    /// The file on disk no longer holds the bytes the facts were read from.
    changed: AtomicBool,
}

impl SourceFile {
    /// A file whose text is given (a fixed text, a test): kept in memory.
    pub fn new(path: String, language: Language, text: Vec<u8>, facts: FileFacts) -> SourceFile {
        let file = SourceFile {
            path,
            language,
            hash: language.hash(&text),
            len: text.len() as u64,
            facts,
            stamp: None,
            from_cache: false,
            pending: false,
            text: OnceLock::new(),
            location: None,
            changed: AtomicBool::new(false),
        };
        let _ = file.text.set(text.into_boxed_slice());
        file
    }

    /// Where the file is on disk, as the walker found it (a name that is not UTF-8 kept as it
    /// is; [`SourceFile::path`] is its lossy display); `None` for a file made in memory.
    pub fn location(&self) -> Option<&Path> {
        self.location.as_deref()
    }

    /// A file on disk at `location` whose text hashed to `hash` when its facts were read: the
    /// text is read again on demand.
    pub fn on_disk(
        path: String,
        language: Language,
        hash: u64,
        stamp: Stamp,
        facts: FileFacts,
        location: PathBuf,
    ) -> SourceFile {
        SourceFile {
            path,
            language,
            hash,
            len: stamp.len,
            facts,
            stamp: Some(stamp),
            from_cache: false,
            pending: false,
            text: OnceLock::new(),
            location: Some(location),
            changed: AtomicBool::new(false),
        }
    }

    /// The bytes the facts were read from. Read from disk the first time; should the file
    /// have changed since (or be unreadable now), the text is `len` spaces, so no span of the
    /// facts falls outside it, and [`SourceFile::changed_on_disk`] says so: nothing is shown
    /// from or written over bytes the facts do not describe.
    pub fn text(&self) -> &[u8] {
        self.text.get_or_init(|| match self.read_verified() {
            Some(text) => text.into_boxed_slice(),
            None => {
                self.changed.store(true, Ordering::Relaxed);
                vec![b' '; usize::try_from(self.len).unwrap_or(0)].into_boxed_slice()
            }
        })
    }

    /// The file's bytes on disk, when they are still the ones the facts were read from.
    fn read_verified(&self) -> Option<Vec<u8>> {
        let text = std::fs::read(self.location.as_deref()?).ok()?;
        (self.language.hash(&text) == self.hash).then_some(text)
    }

    /// The text, as [`SourceFile::text`] gives it, without keeping it when it was not loaded:
    /// for a pass that looks at each file once (rendering findings, a rule's scan).
    pub fn read(&self) -> std::borrow::Cow<'_, [u8]> {
        if let Some(text) = self.text.get() {
            return std::borrow::Cow::Borrowed(text);
        }
        match self.read_verified() {
            Some(text) => std::borrow::Cow::Owned(text),
            // Changed or unreadable: the blanks, kept, and the flag set.
            None => std::borrow::Cow::Borrowed(self.text()),
        }
    }

    /// Whether the facts are still in the cache (see [`Walk::load_facts`]).
    pub fn is_pending(&self) -> bool {
        self.pending
    }

    /// Whether the file changed on disk after its facts were read (known once its text was
    /// asked for).
    pub fn changed_on_disk(&self) -> bool {
        self.changed.load(Ordering::Relaxed)
    }

    /// Replaces the text (a fix) and its facts; returns the old text.
    pub fn replace(&mut self, text: Vec<u8>, facts: FileFacts) -> Vec<u8> {
        // The old text is handed back, not copied (a big file's text is worth not copying).
        self.text();
        let old = self.text.take().map(Vec::from).unwrap_or_default();
        self.hash = self.language.hash(&text);
        self.len = text.len() as u64;
        self.facts = facts;
        self.stamp = None;
        self.from_cache = false;
        self.text = OnceLock::from(text.into_boxed_slice());
        old
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Skipped {
    /// Relative to the repository root, `/`-separated.
    pub path: String,
    pub reason: String,
}

/// Everything the walk found, sorted by path.
#[derive(Debug, Default)]
pub struct Walk {
    pub files: Vec<SourceFile>,
    /// Every other (non-source) file, for rules that look at names only (stale backups).
    pub other_files: Vec<String>,
    pub skipped: Vec<Skipped>,
    /// Every `Cargo.toml` under a Rust root, with its bytes (sorted by path): the Rust
    /// resolver reads workspaces and crates out of them.
    pub manifests: Vec<(String, Vec<u8>)>,
    /// When the walk began, in nanoseconds since the epoch (see [`Stamp::settled`]).
    pub started: i64,
    /// How many source files were read: the others were known by their stamps.
    pub read: usize,
}

#[derive(Default)]
struct Found {
    files: Vec<SourceFile>,
    other_files: Vec<String>,
    skipped: Vec<Skipped>,
    manifests: Vec<(String, Vec<u8>)>,
    read: usize,
}

impl Walk {
    /// Whether some file's facts are still in the cache (see [`Walk::load_facts`]).
    pub fn has_pending(&self) -> bool {
        self.files.iter().any(|file| file.pending)
    }

    /// Decodes the facts of the files the walk knew by their stamps, on all cores. One whose
    /// cached facts do not decode or do not fit the file is read and collected.
    pub fn load_facts(&mut self, cache: Option<&Store>) {
        use rayon::prelude::*;
        self.files
            .par_iter_mut()
            .filter(|file| file.pending)
            .for_each(|file| {
                file.pending = false;
                let cached = cache
                    .and_then(|cache| cache.get(file.hash))
                    .filter(|facts| facts.fits(file.len));
                match cached {
                    Some(facts) => file.facts = facts,
                    None => {
                        let text = file.text().to_vec();
                        file.facts = file.language.collect(&text);
                        file.from_cache = false;
                    }
                }
            });
    }
}

impl Walk {
    /// Gives the source file at `path` (relative to the root, `/`-separated) the text `text`
    /// instead of its bytes on disk: an editor's buffer, or standard input. The text is
    /// collected now and kept in memory (never written); a file the walk did not find is
    /// added in path order. Returns its index, or `None` when `path` is no source file this
    /// walk reads (another extension, a `.rs` file outside every Rust root, an excluded path).
    pub fn overlay(&mut self, settings: &Settings, path: &str, text: Vec<u8>) -> Option<usize> {
        let language = source_language(settings, path)?;
        let facts = language.collect(&text);
        let file = SourceFile::new(path.to_string(), language, text, facts);
        Some(
            match self.files.binary_search_by(|f| f.path.as_str().cmp(path)) {
                Ok(index) => {
                    self.files[index] = file;
                    index
                }
                Err(index) => {
                    self.files.insert(index, file);
                    self.other_files.retain(|other| other != path);
                    index
                }
            },
        )
    }

    /// Forgets the source file at `path` (deleted, or a buffer closed that was never saved).
    pub fn remove(&mut self, path: &str) {
        if let Ok(index) = self.files.binary_search_by(|f| f.path.as_str().cmp(path)) {
            self.files.remove(index);
        }
    }
}

/// The language the walk reads the file at root-relative `path` as, if any: the extension,
/// Rust only under a `rust-roots` directory, nothing under an excluded path.
pub fn source_language(settings: &Settings, path: &str) -> Option<Language> {
    let language = Language::of(Path::new(path))?;
    let mut prefix = String::new();
    for component in path.split('/') {
        if !prefix.is_empty() {
            prefix.push('/');
        }
        prefix.push_str(component);
        let is_dir = prefix.len() < path.len();
        if settings.exclude_set.is_match(&prefix)
            || (is_dir && settings.exclude_set.is_match(format!("{prefix}/_")))
            || (is_dir && (component == ".git" || component == cache::DIRECTORY))
        {
            return None;
        }
    }
    if language == Language::Rust {
        let inside = settings.rust_roots.iter().any(|root| {
            let root = relative_path(Path::new(""), root);
            root == "." || crate::graph::under(path, &root)
        });
        if !inside {
            return None;
        }
    }
    Some(language)
}

/// Walks `settings.root` with `threads` threads (0: one per core), taking the facts of files
/// whose content is in `cache` from there; files known by their stamps are left pending
/// ([`Walk::load_facts`] reads their facts).
pub fn walk(settings: &Settings, threads: usize, cache: Option<&Store>) -> Walk {
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_nanos()).unwrap_or(i64::MAX)
        });
    let root = settings.root.clone();
    let canonical_root = std::fs::canonicalize(&root).unwrap_or_else(|_| root.clone());
    let found = Arc::new(Mutex::new(Found::default()));

    let mut builder = WalkBuilder::new(&root);
    builder
        .hidden(false)
        .git_global(false)
        .require_git(false)
        .follow_links(true)
        .threads(threads);
    {
        let found = Arc::clone(&found);
        let root = root.clone();
        let exclude = settings.exclude_set.clone();
        builder.filter_entry(move |entry| {
            if entry.depth() == 0 {
                return true;
            }
            let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
            if is_dir && (entry.file_name() == ".git" || entry.file_name() == cache::DIRECTORY) {
                return false;
            }
            let relative = relative_path(&root, entry.path());
            if exclude.is_match(&relative) || (is_dir && exclude.is_match(format!("{relative}/_")))
            {
                return false;
            }
            if entry.path_is_symlink() {
                let inside = std::fs::canonicalize(entry.path())
                    .is_ok_and(|target| target.starts_with(&canonical_root));
                if !inside {
                    let reason = match std::fs::canonicalize(entry.path()) {
                        Ok(_) => "symlink points outside the repository".to_string(),
                        Err(error) => format!("cannot follow symlink: {error}"),
                    };
                    lock(&found).skipped.push(Skipped {
                        path: relative,
                        reason,
                    });
                    return false;
                }
            }
            true
        });
    }

    let rust_roots: Vec<String> = settings
        .rust_roots
        .iter()
        .map(|root| relative_path(Path::new(""), root))
        .map(|root| if root == "." { String::new() } else { root })
        .collect();
    let rust_roots = &rust_roots;
    builder.build_parallel().run(|| {
        let found = Arc::clone(&found);
        let root = root.clone();
        Box::new(move |result| {
            match result {
                Ok(entry) => match entry.file_type() {
                    Some(kind) if kind.is_file() => {
                        visit_file(&root, entry.path(), &found, cache, rust_roots)
                    }
                    Some(kind) if kind.is_dir() => {}
                    // A FIFO, socket or device named like a source file: never opened (reading
                    // a FIFO blocks), but said, so the file is not silently missing.
                    _ if Language::of(entry.path()).is_some() => {
                        lock(&found).skipped.push(Skipped {
                            path: relative_path(&root, entry.path()),
                            reason: "not a regular file".to_string(),
                        });
                    }
                    _ => {}
                },
                Err(error) => {
                    let path = error_path(&error);
                    let mut reason = error_reason(&error);
                    // `broken.py -> nowhere.py` fails with "No such file or directory", which
                    // reads as a lie next to an `ls` that shows the file.
                    if path.as_deref().is_some_and(|path| {
                        std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
                    }) && !matches!(error_leaf(&error), ignore::Error::Loop { .. })
                    {
                        reason = format!("cannot follow symlink: {reason}");
                    }
                    lock(&found).skipped.push(Skipped {
                        path: path
                            .map(|path| relative_path(&root, &path))
                            .unwrap_or_default(),
                        reason,
                    });
                }
            }
            WalkState::Continue
        })
    });

    let found = std::mem::take(&mut *lock(&found));
    let mut walk = Walk {
        files: found.files,
        other_files: found.other_files,
        skipped: found.skipped,
        manifests: found.manifests,
        started,
        read: found.read,
    };
    walk.files.sort_by(|a, b| a.path.cmp(&b.path));
    walk.manifests.sort();
    walk.other_files.sort();
    walk.skipped.sort();
    walk.skipped.dedup();
    walk
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic on another walker thread must not hide what was found.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn visit_file(
    root: &Path,
    path: &Path,
    found: &Mutex<Found>,
    cache: Option<&Store>,
    rust_roots: &[String],
) {
    let relative = relative_path(root, path);
    let in_rust_root = || {
        rust_roots
            .iter()
            .any(|rust_root| crate::graph::under(&relative, rust_root))
    };
    // Rust is read only under `rust-roots`: a Python project's vendored crates are not its
    // code.
    let language =
        Language::of(path).filter(|&language| language != Language::Rust || in_rust_root());
    let Some(language) = language else {
        // Cargo manifests, and rustfmt's configuration (how a fix lays out `use` items).
        let kept = path.file_name().is_some_and(|name| {
            name == "Cargo.toml" || crate::rust::workspace::is_rustfmt_config(name)
        });
        if kept && in_rust_root() {
            match read_source(path) {
                Ok(text) => lock(found).manifests.push((relative.clone(), text)),
                Err(reason) => lock(found).skipped.push(Skipped {
                    path: relative.clone(),
                    reason,
                }),
            }
        }
        lock(found).other_files.push(relative);
        return;
    };
    // With a cache, a file is stat'ed first: unchanged since a run recorded it, it is
    // neither read nor hashed, and its facts are decoded only when they are needed
    // (`Walk::load_facts`). Without one it is opened at once and stat'ed through the handle.
    let stamp = match cache {
        Some(cache) => match source_metadata(path) {
            Ok(metadata) => {
                let stamp = Stamp::of(&metadata);
                if let Some(hash) = cache.known(&relative, &stamp) {
                    let mut file = SourceFile::on_disk(
                        relative,
                        language,
                        hash,
                        stamp,
                        FileFacts::default(),
                        path.to_path_buf(),
                    );
                    file.from_cache = true;
                    file.pending = true;
                    lock(found).files.push(file);
                    return;
                }
                Some(stamp)
            }
            Err(reason) => {
                lock(found).skipped.push(Skipped {
                    path: relative,
                    reason,
                });
                return;
            }
        },
        None => None,
    };
    READ_BUFFER.with_borrow_mut(|text| match read_into(path, text) {
        Ok(metadata) => {
            // The stamp taken before the read describes these bytes only if the length
            // agrees; otherwise the file is being written, and no stamp is recorded.
            let stamp = stamp.unwrap_or_else(|| Stamp::of(&metadata));
            let agrees = stamp.len == text.len() as u64;
            let text = text.as_slice();
            let hash = language.hash(text);
            let cached = cache
                .and_then(|cache| cache.get(hash))
                .filter(|facts| facts.fits(text.len() as u64));
            let from_cache = cached.is_some();
            let facts = cached.unwrap_or_else(|| language.collect(text));
            let stamp = Stamp {
                len: text.len() as u64,
                ..stamp
            };
            let mut file =
                SourceFile::on_disk(relative, language, hash, stamp, facts, path.to_path_buf());
            if !agrees {
                file.stamp = None;
            }
            file.from_cache = from_cache;
            let mut found = lock(found);
            found.files.push(file);
            found.read += 1;
        }
        Err(reason) => lock(found).skipped.push(Skipped {
            path: relative,
            reason,
        }),
    });
}

thread_local! {
    /// Each walker thread reads every file into the same buffer: no file's text outlives its
    /// collection, and a buffer whose pages are already mapped costs no page faults.
    static READ_BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Reads the source file at `path` whole into `buffer` (replacing what it held) and returns
/// the metadata of the handle it read, checked as [`source_metadata`] checks it.
fn read_into(path: &Path, buffer: &mut Vec<u8>) -> Result<std::fs::Metadata, String> {
    use std::io::Read;
    let cannot = |error: std::io::Error| format!("cannot read: {error}");
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    // A FIFO put where the walk saw a regular file must not block the open; a regular file
    // reads the same either way.
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    let mut file = options.open(path).map_err(cannot)?;
    let metadata = file.metadata().map_err(cannot)?;
    check_metadata(&metadata)?;
    // Room for one byte more than the size, so the read that finds the end needs no growth;
    // a plain loop, as `File::read_to_end` asks the size again (fstat and lseek) and reads a
    // file of unknown size in growing steps.
    let mut filled = 0;
    if buffer.capacity() > 1 << 24 {
        // A buffer grown for one large file is not kept for the rest.
        *buffer = Vec::new();
    }
    buffer.clear();
    buffer.resize(metadata.len() as usize + 1, 0);
    loop {
        if filled == buffer.len() {
            // The file grew since it was stat'ed.
            if filled as u64 > MAX_FILE_SIZE {
                return Err(format!(
                    "file is too large (over {MAX_FILE_SIZE} bytes, the limit)"
                ));
            }
            buffer.resize(filled * 2, 0);
        }
        match file.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(read) => filled += read,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(error) => return Err(cannot(error)),
        }
    }
    buffer.truncate(filled);
    Ok(metadata)
}

fn source_metadata(path: &Path) -> Result<std::fs::Metadata, String> {
    let metadata = std::fs::metadata(path).map_err(|error| format!("cannot read: {error}"))?;
    check_metadata(&metadata)?;
    Ok(metadata)
}

/// A source file must be a regular file within [`MAX_FILE_SIZE`].
fn check_metadata(metadata: &std::fs::Metadata) -> Result<(), String> {
    if !metadata.is_file() {
        return Err("not a regular file".to_string());
    }
    if metadata.len() > MAX_FILE_SIZE {
        return Err(format!(
            "file is too large ({} bytes; the limit is {MAX_FILE_SIZE})",
            metadata.len()
        ));
    }
    Ok(())
}

fn read_source(path: &Path) -> Result<Vec<u8>, String> {
    source_metadata(path)?;
    std::fs::read(path).map_err(|error| format!("cannot read: {error}"))
}

/// `path` relative to `root`, with `/` separators.
pub fn relative_path(root: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(root).unwrap_or(path);
    let mut out = String::new();
    for component in relative.components() {
        if !out.is_empty() {
            out.push('/');
        }
        out.push_str(&component.as_os_str().to_string_lossy());
    }
    out
}

fn error_path(error: &ignore::Error) -> Option<PathBuf> {
    match error {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        ignore::Error::Loop { child, .. } => Some(child.clone()),
        ignore::Error::Partial(errors) => errors.first().and_then(error_path),
        _ => None,
    }
}

/// The error inside the path, depth and line-number wrappers.
fn error_leaf(error: &ignore::Error) -> &ignore::Error {
    match error {
        ignore::Error::WithPath { err, .. }
        | ignore::Error::WithDepth { err, .. }
        | ignore::Error::WithLineNumber { err, .. } => error_leaf(err),
        other => other,
    }
}

fn error_reason(error: &ignore::Error) -> String {
    match error {
        ignore::Error::WithPath { err, .. }
        | ignore::Error::WithDepth { err, .. }
        | ignore::Error::WithLineNumber { err, .. } => error_reason(err),
        ignore::Error::Loop { .. } => "symlink loop: not followed".to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walked(settings: &Settings, store: &Store) -> Walk {
        let walk = walk(settings, 1, Some(store));
        assert!(walk.skipped.is_empty(), "{:?}", walk.skipped);
        walk
    }

    /// A warm run reads no file whose stamp is unchanged and settled; a changed file, or one
    /// written too close to the run that recorded it, is read again.
    #[test]
    fn unchanged_files_are_known_by_their_stamps() {
        let dir = std::env::temp_dir().join(format!("ssot-stamps-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temporary directory");
        std::fs::write(dir.join("a.py"), "import os\n").expect("write");
        std::fs::write(dir.join("b.py"), "import re\n").expect("write");
        let settings = Settings::defaults(dir.clone());
        let key = cache::key(&settings);

        // Recorded by a run that started just now: the files are too fresh to be trusted.
        let first = walked(&settings, &Store::load(&dir, key));
        assert_eq!(first.read, 2);
        Store::load(&dir, key).save(&first.files, first.started);
        let second = walked(&settings, &Store::load(&dir, key));
        assert_eq!(second.read, 2, "stamps of fresh files are not recorded");

        // Recorded by a run that started well after the files were written.
        let later = second.started + 2 * cache::RACY_WINDOW_NS;
        Store::load(&dir, key).save(&second.files, later);
        let store = Store::load(&dir, key);
        let mut third = walked(&settings, &store);
        assert_eq!(third.read, 0, "both files known by their stamps");
        assert!(third.has_pending());
        third.load_facts(Some(&store));
        assert!(!third.has_pending());
        assert_eq!(third.files[0].facts, first.files[0].facts);
        assert_eq!(third.files[0].text(), b"import os\n");

        // The same length, other bytes: the change time moved, so it is read.
        std::fs::write(dir.join("a.py"), "import io\n").expect("rewrite");
        let fourth = walked(&settings, &Store::load(&dir, key));
        assert_eq!(fourth.read, 1);
        assert_eq!(fourth.files[0].facts.imports[0].names[0].name, "io");
        let _ = std::fs::remove_dir_all(dir);
    }

    /// A file edited after its facts were read: its text is blanks of the old length (no span
    /// can fall outside it), and it says it changed.
    #[test]
    fn a_file_changed_after_collection_is_not_shown_or_trusted() {
        let dir = std::env::temp_dir().join(format!("ssot-walk-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temporary directory");
        let location = dir.join("m.py");
        let text = b"import os\n".to_vec();
        std::fs::write(&location, &text).expect("write");
        let facts = Language::Python.collect(&text);
        let hash = Language::Python.hash(&text);
        let recorded = || {
            let stamp = Stamp {
                len: text.len() as u64,
                ..Stamp::default()
            };
            SourceFile::on_disk(
                "m.py".into(),
                Language::Python,
                hash,
                stamp,
                facts.clone(),
                location.clone(),
            )
        };
        let same = recorded();
        assert_eq!(same.text(), &text[..]);
        assert!(!same.changed_on_disk());
        std::fs::write(&location, b"import sys, re\n").expect("rewrite");
        let changed = recorded();
        assert_eq!(changed.text(), &b"          "[..]);
        assert!(changed.changed_on_disk());
        // Once read, the text stays what it was, whatever the disk does.
        assert_eq!(same.text(), &text[..]);
        let _ = std::fs::remove_dir_all(dir);
    }
}

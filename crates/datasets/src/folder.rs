//! Image folders (Keras' `image_dataset_from_directory`, torchvision's `ImageFolder`): one
//! subfolder per class of PNG, JPEG, BMP or PGM files, decoded once, in parallel, into a
//! packed cache file ([`crate::cache`]) that later runs memory-map like an IDX file.
//!
//! - **Layout.** `root/<class>/...` (files at any depth below the class folder), or
//!   `root/train/<class>/...` with `root/test/<class>/...` (or `root/val/...`). Class names
//!   are the class folders' names in sorted order; names starting with `.` are ignored, and
//!   so are files directly in `root`.
//! - **Split.** Without `train/` and `test/` (or `val/`), a seeded split per class:
//!   [`FolderOptions::test_split`] of each class (default 0.2, rounded) goes to the test part.
//! - **Shape.** Every image is resized (triangle filter) to [`FolderOptions::image_size`]
//!   (default: the first image's size) and converted to [`FolderOptions::channels`] channels
//!   (default: 1 when the first image is grey, else 3).
//! - **Bad files.** A file that is not a decodable image is reported by path: by default the
//!   set is refused with the list of bad files ([`DatasetError::BadImages`]); with
//!   [`FolderOptions::skip_bad`] they are left out and counted.
//! - **Cache.** `root/.neurite-cache/images-<options>.bin`, or, when the folder cannot be
//!   written, the same name under the user cache dir (`~/.cache/neurite/folders/<folder>/` on
//!   Linux). It is rebuilt only when the fingerprint (relative path, size and modification
//!   time of every file, and the options) changes; it is written atomically.
//!
//! ```no_run
//! use neurite_datasets::folder::{open_folder, FolderOptions};
//! # fn main() -> Result<(), neurite_datasets::DatasetError> {
//! let opened = open_folder("photos/".as_ref(), &FolderOptions::default(), &|_, _| {})?;
//! println!("{} classes, {} train images", opened.data.num_classes(), opened.data.train.len());
//! # Ok(()) }
//! ```

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::UNIX_EPOCH;

use image::imageops::FilterType;
use image::DynamicImage;
use rand::seq::SliceRandom;
use rayon::prelude::*;

use crate::augment::mix;
use crate::cache::{encode_cache_header, image_sets, open_cache, write_atomically, MAX_CLASSES, MAX_SIDE};
use crate::dataset::Dataset;
use crate::error::{DatasetError, Result};
use crate::info::DatasetInfo;

/// The folder inside an image folder that holds its caches.
pub const CACHE_DIR_NAME: &str = ".neurite-cache";
/// The share of each class that goes to the test part when the folder has no `test/`.
pub const DEFAULT_TEST_SPLIT: f64 = 0.2;

/// How a folder is read.
#[derive(Debug, Clone, PartialEq)]
pub struct FolderOptions {
    /// `(height, width)` of every image; `None`: the first image's size.
    pub image_size: Option<(usize, usize)>,
    /// 1 (grey) or 3 (RGB); `None`: 1 when the first image is grey, else 3.
    pub channels: Option<usize>,
    /// Share of each class held out as the test part when there is no `test/` folder
    /// (strictly between 0 and 1; default [`DEFAULT_TEST_SPLIT`]).
    pub test_split: f64,
    /// Seed of that split.
    pub seed: u64,
    /// Leave out undecodable files (counted in [`OpenedFolder::skipped`]) instead of refusing.
    pub skip_bad: bool,
    /// Where to keep the cache; `None`: inside the folder, else the user cache dir.
    pub cache_dir: Option<PathBuf>,
}

impl Default for FolderOptions {
    fn default() -> Self {
        FolderOptions {
            image_size: None,
            channels: None,
            test_split: DEFAULT_TEST_SPLIT,
            seed: 0,
            skip_bad: false,
            cache_dir: None,
        }
    }
}

/// An opened image folder.
#[derive(Debug, Clone)]
pub struct OpenedFolder {
    /// The train and test parts, memory-mapped from the cache.
    pub data: Dataset,
    /// The cache file read.
    pub cache: PathBuf,
    /// Whether the cache was (re)built by this call rather than reused.
    pub rebuilt: bool,
    /// Files left out as undecodable (only with [`FolderOptions::skip_bad`]; empty when the
    /// cache was reused).
    pub skipped: Vec<PathBuf>,
}

/// One image file of the folder.
#[derive(Debug, Clone)]
struct Entry {
    /// Path relative to the folder (for the fingerprint and messages).
    rel: PathBuf,
    label: usize,
    size: u64,
    mtime_ns: u128,
}

/// The scanned folder: class names and the files of each part, in cache order.
struct Scan {
    classes: Vec<String>,
    class_dirs: Vec<String>,
    train: Vec<Entry>,
    test: Vec<Entry>,
}

fn folder_error(path: &Path, reason: impl Into<String>) -> DatasetError {
    DatasetError::Folder {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

fn io_error(path: &Path, source: std::io::Error) -> DatasetError {
    DatasetError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.to_string_lossy().starts_with('.')
}

/// The visible subfolders of `dir`, sorted by name.
fn subdirs(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| io_error(dir, e))? {
        let entry = entry.map_err(|e| io_error(dir, e))?;
        let path = entry.path();
        if is_hidden(&entry.file_name()) || !path.is_dir() {
            continue;
        }
        out.push((entry.file_name().to_string_lossy().into_owned(), path));
    }
    out.sort();
    Ok(out)
}

/// Every visible file below `dir`, sorted, relative to `root`.
fn files_below(root: &Path, dir: &Path, label: usize, out: &mut Vec<Entry>) -> Result<()> {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .map_err(|e| io_error(dir, e))?
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(|e| io_error(dir, e))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        if is_hidden(&entry.file_name()) {
            continue;
        }
        let path = entry.path();
        let meta = fs::metadata(&path).map_err(|e| io_error(&path, e))?;
        if meta.is_dir() {
            files_below(root, &path, label, out)?;
        } else if meta.is_file() {
            let mtime_ns = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            out.push(Entry {
                rel: path.strip_prefix(root).unwrap_or(&path).to_path_buf(),
                label,
                size: meta.len(),
                mtime_ns,
            });
        }
    }
    Ok(())
}

/// Reads the folder's layout and splits it (seeded, per class) when it has no test part.
fn scan(root: &Path, options: &FolderOptions) -> Result<Scan> {
    if !root.is_dir() {
        return Err(folder_error(root, "not a folder"));
    }
    let top = subdirs(root)?;
    let find = |name: &str| top.iter().find(|(n, _)| n == name).map(|(_, p)| p.clone());
    let presplit = find("train").zip(find("test").or_else(|| find("val")));
    let class_root = presplit.as_ref().map_or(root.to_path_buf(), |(train, _)| train.clone());
    let class_folders = subdirs(&class_root)?;
    if class_folders.is_empty() {
        return Err(folder_error(
            &class_root,
            "no class folders: expected one subfolder per class holding its images (e.g. cats/, dogs/)",
        ));
    }
    if class_folders.len() > MAX_CLASSES {
        return Err(folder_error(
            &class_root,
            format!(
                "{} class folders: at most {MAX_CLASSES} classes are supported",
                class_folders.len()
            ),
        ));
    }
    if let Some((name, _)) = class_folders.iter().find(|(n, _)| n.len() > u16::MAX as usize) {
        return Err(folder_error(
            &class_root,
            format!("class folder name of {} bytes is too long", name.len()),
        ));
    }
    let classes: Vec<String> = class_folders.iter().map(|(n, _)| n.clone()).collect();
    let rel_dir = |p: &Path| format!("{}/", p.strip_prefix(root).unwrap_or(p).display());
    let mut class_dirs: Vec<String> = class_folders.iter().map(|(_, p)| rel_dir(p)).collect();
    let mut train = Vec::new();
    let mut test = Vec::new();
    match &presplit {
        Some((_, test_root)) => {
            for (label, (_, dir)) in class_folders.iter().enumerate() {
                files_below(root, dir, label, &mut train)?;
            }
            for (name, dir) in subdirs(test_root)? {
                let Some(label) = classes.iter().position(|c| *c == name) else {
                    return Err(folder_error(
                        &dir,
                        format!(
                            "class `{name}` is not among the training classes ({})",
                            classes.join(", ")
                        ),
                    ));
                };
                class_dirs.push(rel_dir(&dir));
                files_below(root, &dir, label, &mut test)?;
            }
        }
        None => {
            let f = options.test_split;
            if !(f > 0.0 && f < 1.0) {
                return Err(folder_error(
                    root,
                    format!("the test split must be strictly between 0 and 1, got {f}"),
                ));
            }
            for (label, (_, dir)) in class_folders.iter().enumerate() {
                let mut files = Vec::new();
                files_below(root, dir, label, &mut files)?;
                files.shuffle(&mut neurite_tensor::seeded_rng(mix(options.seed, label as u64)));
                let n_test = (files.len() as f64 * f).round() as usize;
                let rest = files.split_off(n_test);
                test.extend(files);
                train.extend(rest);
            }
            // Cache order: sorted by path within each part, whatever the shuffle.
            train.sort_by(|a, b| a.rel.cmp(&b.rel));
            test.sort_by(|a, b| a.rel.cmp(&b.rel));
        }
    }
    if train.is_empty() {
        return Err(folder_error(&class_root, "no files in the class folders"));
    }
    if test.is_empty() {
        return Err(folder_error(
            root,
            match presplit {
                Some((_, t)) => format!("no files in the test folder {}", t.display()),
                None => format!(
                    "{} files are too few for a test split of {}: add images or a larger split",
                    train.len(),
                    options.test_split
                ),
            },
        ));
    }
    Ok(Scan {
        classes,
        class_dirs,
        train,
        test,
    })
}

/// FNV-1a, 64 bits: a fingerprint, not a defence against a crafted collision.
struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    fn bytes(&mut self, bytes: &[u8]) -> &mut Fnv {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        // A separator, so that ("ab", "c") and ("a", "bc") differ.
        self.0 = (self.0 ^ 0xff).wrapping_mul(0x0100_0000_01b3);
        self
    }
}

/// The options that change the cache's content, as a key (also the cache file's name).
fn options_key(options: &FolderOptions) -> u64 {
    let mut h = Fnv::new();
    h.bytes(&crate::cache::CACHE_VERSION.to_le_bytes());
    h.bytes(format!("{:?}", options.image_size).as_bytes());
    h.bytes(format!("{:?}", options.channels).as_bytes());
    h.bytes(&options.test_split.to_bits().to_le_bytes());
    h.bytes(&options.seed.to_le_bytes());
    h.bytes(&[u8::from(options.skip_bad)]);
    h.0
}

/// Fingerprint of the folder's files (relative path, size, modification time, class, part)
/// and the options.
fn fingerprint(scan: &Scan, options: &FolderOptions) -> u64 {
    let mut h = Fnv::new();
    h.bytes(&options_key(options).to_le_bytes());
    for name in &scan.classes {
        h.bytes(name.as_bytes());
    }
    for (part, entries) in [(0u8, &scan.train), (1, &scan.test)] {
        for e in entries {
            h.bytes(&[part])
                .bytes(e.rel.to_string_lossy().as_bytes())
                .bytes(&e.size.to_le_bytes())
                .bytes(&e.mtime_ns.to_le_bytes())
                .bytes(&(e.label as u64).to_le_bytes());
        }
    }
    h.0
}

/// The cache file names this folder's cache may have: inside the folder first, then in the
/// user cache dir (or only in [`FolderOptions::cache_dir`]).
fn cache_candidates(root: &Path, options: &FolderOptions) -> Vec<PathBuf> {
    let name = format!("images-{:016x}.bin", options_key(options));
    if let Some(dir) = &options.cache_dir {
        return vec![dir.join(name)];
    }
    let mut out = vec![root.join(CACHE_DIR_NAME).join(&name)];
    if let Some(user) = dirs::cache_dir() {
        let canonical = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        let mut h = Fnv::new();
        h.bytes(canonical.to_string_lossy().as_bytes());
        let label = canonical
            .file_name()
            .map_or_else(|| "folder".to_string(), |n| n.to_string_lossy().into_owned());
        out.push(
            user.join("neurite")
                .join("folders")
                .join(format!("{label}-{:016x}", h.0))
                .join(name),
        );
    }
    out
}

/// Reads an image file (format guessed from its bytes).
///
/// # Errors
/// A one-line reason when the file cannot be read or decoded.
pub fn decode_image(path: &Path) -> std::result::Result<DynamicImage, String> {
    let img = image::ImageReader::open(path)
        .map_err(|e| e.to_string())?
        .with_guessed_format()
        .map_err(|e| e.to_string())?
        .decode()
        .map_err(|e| e.to_string())?;
    if img.width() == 0 || img.height() == 0 {
        return Err(format!("the image is {}x{} pixels", img.width(), img.height()));
    }
    Ok(img)
}

/// An image resized (triangle filter) to `[C, H, W]` and converted to grey (`C == 1`) or RGB
/// planes (`C == 3`), channel-major bytes: what the folder cache stores and what prediction on
/// an image file must feed a model trained on a folder.
///
/// # Panics
/// When `C` is neither 1 nor 3.
pub fn image_to_chw(img: &DynamicImage, [c, h, w]: [usize; 3]) -> Vec<u8> {
    let resized;
    let img = if img.width() as usize == w && img.height() as usize == h {
        img
    } else {
        resized = img.resize_exact(w as u32, h as u32, FilterType::Triangle);
        &resized
    };
    match c {
        1 => img.to_luma8().into_raw(),
        3 => {
            let rgb = img.to_rgb8();
            let mut planes = vec![0u8; 3 * h * w];
            for (i, p) in rgb.pixels().enumerate() {
                for ch in 0..3 {
                    planes[ch * h * w + i] = p.0[ch];
                }
            }
            planes
        }
        _ => panic!("image_to_chw: {c} channels (expected 1 or 3)"),
    }
}

/// The target shape: the options, else the first decodable image's size and colour.
fn target_shape(root: &Path, options: &FolderOptions, entries: &[&Entry]) -> Result<Option<[usize; 3]>> {
    if let Some(c) = options.channels {
        if c != 1 && c != 3 {
            return Err(folder_error(
                root,
                format!("{c} channels: expected 1 (grey) or 3 (RGB)"),
            ));
        }
    }
    if let Some((h, w)) = options.image_size {
        if h == 0 || w == 0 || h > MAX_SIDE || w > MAX_SIDE {
            return Err(folder_error(
                root,
                format!("image size {w}x{h}: each side must be 1 to {MAX_SIDE}"),
            ));
        }
        if let Some(c) = options.channels {
            return Ok(Some([c, h, w]));
        }
    }
    let Some(first) = entries.iter().find_map(|e| decode_image(&root.join(&e.rel)).ok()) else {
        return Ok(None);
    };
    let c = options
        .channels
        .unwrap_or(if first.color().has_color() { 3 } else { 1 });
    let (h, w) = options
        .image_size
        .unwrap_or((first.height() as usize, first.width() as usize));
    if h > MAX_SIDE || w > MAX_SIDE {
        return Err(folder_error(
            root,
            format!("the first image is {w}x{h} pixels: pass a smaller image size (at most {MAX_SIDE})"),
        ));
    }
    Ok(Some([c, h, w]))
}

/// Decodes every file of `scan` in parallel, reporting `(done, total)` to `progress`, and
/// writes the cache to the first writable candidate.
fn build_cache(
    root: &Path,
    scan: &Scan,
    options: &FolderOptions,
    fingerprint: u64,
    candidates: &[PathBuf],
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<(PathBuf, Vec<PathBuf>)> {
    let all: Vec<&Entry> = scan.train.iter().chain(&scan.test).collect();
    let shape = target_shape(root, options, &all)?;
    let total = all.len();
    let done = AtomicUsize::new(0);
    let decoded: Vec<std::result::Result<Vec<u8>, String>> = all
        .par_iter()
        .map(|e| {
            let out = match shape {
                Some(shape) => decode_image(&root.join(&e.rel)).map(|img| image_to_chw(&img, shape)),
                None => Err("not a decodable image".to_string()),
            };
            progress(done.fetch_add(1, Ordering::Relaxed) + 1, total);
            out
        })
        .collect();
    let bad: Vec<(PathBuf, String)> = all
        .iter()
        .zip(&decoded)
        .filter_map(|(e, r)| r.as_ref().err().map(|why| (root.join(&e.rel), why.clone())))
        .collect();
    if !bad.is_empty() && !options.skip_bad {
        return Err(DatasetError::BadImages {
            root: root.to_path_buf(),
            bad,
        });
    }
    let Some(shape) = shape else {
        return Err(folder_error(
            root,
            format!("none of the {total} files is a decodable image"),
        ));
    };
    let n_train = decoded[..scan.train.len()].iter().filter(|r| r.is_ok()).count();
    let n_test = decoded[scan.train.len()..].iter().filter(|r| r.is_ok()).count();
    if n_train == 0 || n_test == 0 {
        let part = if n_train == 0 { "training" } else { "test" };
        return Err(folder_error(
            root,
            format!(
                "no decodable image left in the {part} part after skipping {} bad files",
                bad.len()
            ),
        ));
    }
    let header = encode_cache_header(fingerprint, n_train, n_test, shape, &scan.classes);
    let mut pixels = Vec::with_capacity((n_train + n_test) * shape.iter().product::<usize>());
    let mut labels = Vec::with_capacity(n_train + n_test);
    for (e, r) in all.iter().zip(&decoded) {
        if let Ok(bytes) = r {
            pixels.extend_from_slice(bytes);
            labels.push(e.label as u8);
        }
    }
    let mut last_error = None;
    for path in candidates {
        let written = path
            .parent()
            .map_or(Ok(()), fs::create_dir_all)
            .and_then(|()| write_atomically(path, &[&header, &pixels, &labels]));
        match written {
            Ok(()) => return Ok((path.clone(), bad.into_iter().map(|(p, _)| p).collect())),
            Err(e) => last_error = Some(io_error(path, e)),
        }
    }
    Err(last_error.unwrap_or_else(|| folder_error(root, "no place to write the cache (no user cache dir)")))
}

/// Opens an image folder: reuses its cache when the files are unchanged, else decodes every
/// image (in parallel, calling `progress(done, total)`) into a new cache first.
///
/// # Errors
/// [`DatasetError::Folder`] for a folder that is not a usable data set,
/// [`DatasetError::BadImages`] for undecodable files (unless [`FolderOptions::skip_bad`]),
/// [`DatasetError::Format`] naming a damaged cache file (delete it to rebuild), or
/// [`DatasetError::Io`].
pub fn open_folder(
    root: &Path,
    options: &FolderOptions,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<OpenedFolder> {
    let scan = scan(root, options)?;
    let fingerprint = fingerprint(&scan, options);
    let candidates = cache_candidates(root, options);
    let mut found = None;
    for path in &candidates {
        if !path.exists() {
            continue;
        }
        let (bytes, header) = open_cache(path).map_err(|e| match e {
            DatasetError::Format { path, problem } => folder_error(
                &path,
                format!("damaged image-folder cache: {problem}; delete it to rebuild it"),
            ),
            other => other,
        })?;
        if header.fingerprint == fingerprint && header.class_names == scan.classes {
            found = Some((path.clone(), bytes, header));
            break;
        }
    }
    let (cache, rebuilt, skipped, bytes, header) = match found {
        Some((path, bytes, header)) => (path, false, Vec::new(), bytes, header),
        None => {
            let (path, skipped) = build_cache(root, &scan, options, fingerprint, &candidates, progress)?;
            let (bytes, header) = open_cache(&path)?;
            (path, true, skipped, bytes, header)
        }
    };
    let info = DatasetInfo::folder(root, header.shape, header.class_names.clone(), scan.class_dirs.clone());
    let (train, test) = image_sets(bytes, &header, &cache, &info.display_name)?;
    Ok(OpenedFolder {
        data: Dataset { info, train, test },
        cache,
        rebuilt,
        skipped,
    })
}

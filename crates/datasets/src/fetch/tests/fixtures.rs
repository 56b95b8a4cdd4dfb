//! Fixture files for the tests: small IDX files, gzip, tar archives, and specs that point
//! at the test server with the fixtures' own digests.

use std::io::Write;
use std::path::Path;

use crate::catalog::DatasetKind;
use flate2::write::GzEncoder;
use flate2::Compression;
use md5::Md5;
use sha2::{Digest as _, Sha256};

use crate::fetch::sources::{DatasetSpec, Digest, Download, Expected, Layout, Unpack, CIFAR_PIXELS};
use crate::fetch::Http;

/// Images in the fixture IDX file.
pub const COUNT: u32 = 40;
/// Rows and columns of each fixture image.
pub const SIDE: u32 = 28;

/// Deterministic pseudo-random bytes (so gzip cannot shrink them much).
pub fn noise(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect()
}

/// An IDX3 u8 image file of [`COUNT`] images of [`SIDE`] x [`SIDE`].
pub fn idx_images(seed: u32) -> Vec<u8> {
    let mut out = Vec::new();
    for word in [0x0803, COUNT, SIDE, SIDE] {
        out.extend_from_slice(&u32::to_be_bytes(word));
    }
    out.extend(noise((COUNT * SIDE * SIDE) as usize, seed));
    out
}

/// An IDX1 u8 label file of [`COUNT`] labels below 10.
pub fn idx_labels() -> Vec<u8> {
    let mut out = Vec::new();
    for word in [0x0801, COUNT] {
        out.extend_from_slice(&u32::to_be_bytes(word));
    }
    out.extend((0..COUNT).map(|i| (i % 10) as u8));
    out
}

/// Gzip-compressed bytes.
pub fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// Hex SHA-256.
pub fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Hex MD5.
pub fn md5(bytes: &[u8]) -> String {
    Md5::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The expected images file, pinned by the content SHA-256 of `content`.
pub fn images_expected(content: &[u8]) -> Expected {
    Expected {
        name: "train-images-idx3-ubyte".to_string(),
        sha256: Some(sha256(content)),
        layout: Layout::IdxImages {
            count: COUNT,
            rows: SIDE,
            cols: SIDE,
        },
    }
}

/// The expected labels file, validated by structure only.
pub fn labels_expected() -> Expected {
    Expected {
        name: "train-labels-idx1-ubyte".to_string(),
        sha256: None,
        layout: Layout::IdxLabels {
            count: COUNT,
            classes: 10,
        },
    }
}

/// A `.gz` download of `expected` from `urls`.
pub fn gz_download(expected: Expected, urls: Vec<String>) -> Download {
    Download {
        remote_name: format!("{}.gz", expected.name),
        urls,
        archive_digest: None,
        unpack: Unpack::Gunzip(expected),
    }
}

/// An MNIST-like spec made of `downloads`.
pub fn mnist_spec(downloads: Vec<Download>) -> DatasetSpec {
    DatasetSpec {
        kind: DatasetKind::Mnist,
        subdir: "mnist".to_string(),
        downloads,
        foreign_sha256: Vec::new(),
    }
}

/// Records in each fixture CIFAR batch.
pub const CIFAR_RECORDS: usize = 3;

/// A CIFAR-10-like batch with labels `i % 10` (or `bad_label` in the last record).
pub fn cifar_batch(bad_label: Option<u8>) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..CIFAR_RECORDS {
        let label = match bad_label {
            Some(l) if i + 1 == CIFAR_RECORDS => l,
            _ => (i % 10) as u8,
        };
        out.push(label);
        out.extend(noise(CIFAR_PIXELS, i as u32));
    }
    out
}

/// The class-name file of CIFAR-10.
pub const META: &str = "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n";

/// A CIFAR-10-like spec with one batch and the meta file, from an archive at `urls`
/// pinned by `md5`.
pub fn cifar_spec(urls: Vec<String>, md5: &str) -> DatasetSpec {
    DatasetSpec {
        kind: DatasetKind::Cifar10,
        subdir: "cifar-10-batches-bin".to_string(),
        downloads: vec![Download {
            remote_name: "cifar-10-binary.tar.gz".to_string(),
            urls,
            archive_digest: Some(Digest::Md5(md5.to_string())),
            unpack: Unpack::TarGz {
                root: "cifar-10-batches-bin".to_string(),
                files: vec![
                    Expected {
                        name: "data_batch_1.bin".to_string(),
                        sha256: None,
                        layout: Layout::CifarBatch {
                            records: CIFAR_RECORDS,
                            label_classes: vec![10],
                        },
                    },
                    Expected {
                        name: "batches.meta.txt".to_string(),
                        sha256: None,
                        layout: Layout::Text { lines: 10 },
                    },
                ],
            },
        }],
        foreign_sha256: Vec::new(),
    }
}

/// A `.tar.gz` of regular files `(path, bytes)`.
pub fn tar_gz(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::fast()));
    for (path, bytes) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        builder.append_data(&mut header, path, *bytes).unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap()
}

/// A `.tar.gz` with one entry whose raw name is written as given (even `..` or absolute),
/// of type `kind`, plus a regular file before it.
pub fn evil_tar_gz(name: &str, kind: tar::EntryType, link: Option<&str>) -> Vec<u8> {
    let mut builder = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::fast()));
    let mut ok = tar::Header::new_gnu();
    ok.set_size(2);
    ok.set_mode(0o644);
    builder
        .append_data(&mut ok, "cifar-10-batches-bin/ok.txt", &b"ok"[..])
        .unwrap();
    let mut header = tar::Header::new_old();
    let bytes = name.as_bytes();
    header.as_old_mut().name[..bytes.len()].copy_from_slice(bytes);
    header.set_entry_type(kind);
    header.set_mode(0o644);
    let body: &[u8] = if kind == tar::EntryType::Regular { b"evil" } else { b"" };
    header.set_size(body.len() as u64);
    if let Some(link) = link {
        header.as_old_mut().linkname[..link.len()].copy_from_slice(link.as_bytes());
    }
    header.set_cksum();
    builder.append(&header, body).unwrap();
    builder.into_inner().unwrap().finish().unwrap()
}

/// A quiet, fast HTTP client for tests.
pub fn http() -> Http {
    let mut http = Http::new(false);
    http.retry_delay = std::time::Duration::from_millis(10);
    http
}

/// The names in a folder (sorted), hidden scratch files included.
pub fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    names
}

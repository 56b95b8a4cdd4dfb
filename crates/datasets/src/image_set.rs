//! [`ImageSet`]: a labelled set of `u8` images that borrows its bytes from one or more
//! memory-mapped files (or the embedded sample), without copying them.
//!
//! Images are stored channel-major (`C, H, W`) inside fixed-size records: an MNIST image file
//! is one record of `H * W` bytes per image with the labels in a separate file; a CIFAR file
//! interleaves the label bytes and the `3 * 32 * 32` pixel bytes in each record. A set can span
//! several files (CIFAR-10's five training batches); `image(i)` finds the right one.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ndarray::{ArrayViewD, IxDyn, ShapeBuilder};

use crate::error::{DatasetError, FormatError, Result};
use crate::mmap_file::SharedBytes;

/// One file's worth of records.
#[derive(Clone)]
pub(crate) struct Chunk {
    /// Bytes holding the pixels.
    pub pixels: SharedBytes,
    /// Offset of the first image's first pixel.
    pub pixel_offset: usize,
    /// Distance between two images' first pixels.
    pub pixel_stride: usize,
    /// Bytes holding the labels (may be the same as `pixels`).
    pub labels: SharedBytes,
    /// Offset of the first label.
    pub label_offset: usize,
    /// Distance between two labels.
    pub label_stride: usize,
    /// Number of images.
    pub count: usize,
    /// Path of the labels, for error messages.
    pub label_path: PathBuf,
}

impl Chunk {
    fn label(&self, i: usize) -> usize {
        usize::from(self.labels[self.label_offset + i * self.label_stride])
    }

    /// Checks that the declared layout lies inside the bytes (so indexing never panics) and
    /// that every label is below `classes`.
    fn validate(&self, image_len: usize, classes: usize) -> Result<()> {
        let fits = |bytes: &SharedBytes, offset: usize, stride: usize, len: usize| {
            (self.count - 1)
                .checked_mul(stride)
                .and_then(|x| x.checked_add(offset))
                .and_then(|x| x.checked_add(len))
                .is_some_and(|end| end <= bytes.len())
        };
        if self.count == 0
            || !fits(&self.pixels, self.pixel_offset, self.pixel_stride, image_len)
            || !fits(&self.labels, self.label_offset, self.label_stride, 1)
        {
            return Err(DatasetError::format(
                &self.label_path,
                FormatError::Truncated {
                    expected: self.count * self.pixel_stride,
                    actual: self.pixels.len().saturating_sub(self.pixel_offset),
                },
            ));
        }
        for index in 0..self.count {
            let label = self.label(index);
            if label >= classes {
                return Err(DatasetError::LabelOutOfRange {
                    path: self.label_path.clone(),
                    index,
                    label,
                    classes,
                });
            }
        }
        Ok(())
    }
}

/// A labelled set of `u8` images (`C x H x W`, channel-major), zero-copy over its files.
///
/// Cloning is cheap (reference-counted). Labels are validated when the set is built, so
/// [`ImageSet::label`] is always below [`ImageSet::num_classes`].
#[derive(Clone)]
pub struct ImageSet {
    chunks: Arc<[Chunk]>,
    /// `starts[k]` is the index of chunk `k`'s first image; `starts[chunks.len()] == len`.
    starts: Arc<[usize]>,
    shape: [usize; 3],
    class_names: Arc<[String]>,
    name: String,
}

impl fmt::Debug for ImageSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImageSet")
            .field("name", &self.name)
            .field("len", &self.len())
            .field("shape", &self.shape)
            .field("classes", &self.num_classes())
            .field("files", &self.chunks.len())
            .finish()
    }
}

impl ImageSet {
    pub(crate) fn from_chunks(
        name: impl Into<String>,
        chunks: Vec<Chunk>,
        shape: [usize; 3],
        class_names: Vec<String>,
    ) -> Result<ImageSet> {
        let image_len = shape.iter().product::<usize>();
        let mut starts = Vec::with_capacity(chunks.len() + 1);
        let mut total = 0usize;
        for chunk in &chunks {
            chunk.validate(image_len, class_names.len())?;
            starts.push(total);
            total += chunk.count;
        }
        starts.push(total);
        Ok(ImageSet {
            chunks: chunks.into(),
            starts: starts.into(),
            shape,
            class_names: class_names.into(),
            name: name.into(),
        })
    }

    /// Builds a set from images already in memory: `pixels` holds `labels.len()` images of
    /// `shape = [C, H, W]` bytes each, channel-major. Useful for custom data and tests.
    ///
    /// ```
    /// use neurite_datasets::ImageSet;
    /// let set = ImageSet::from_vec(vec![0, 255, 128, 64], vec![1, 0], [1, 1, 2], &["a", "b"]).unwrap();
    /// assert_eq!(set.len(), 2);
    /// assert_eq!(set.image(1), &[128, 64]);
    /// assert_eq!(set.label(0), 1);
    /// ```
    ///
    /// # Errors
    /// [`DatasetError::Format`] when the sizes disagree or are zero,
    /// [`DatasetError::LabelOutOfRange`] for a label not below `class_names.len()`.
    pub fn from_vec(pixels: Vec<u8>, labels: Vec<u8>, shape: [usize; 3], class_names: &[&str]) -> Result<ImageSet> {
        let image_len = shape.iter().product::<usize>();
        let name = PathBuf::from("memory");
        if let Some(axis) = shape.iter().position(|&d| d == 0) {
            let dims = shape.to_vec();
            return Err(DatasetError::format(name, FormatError::ZeroDim { axis, dims }));
        }
        if labels.is_empty() {
            return Err(DatasetError::format(name, FormatError::Empty));
        }
        if pixels.len() != labels.len() * image_len {
            return Err(DatasetError::CountMismatch {
                images_path: name.clone(),
                images: pixels.len() / image_len,
                labels_path: name,
                labels: labels.len(),
            });
        }
        let count = labels.len();
        let chunk = Chunk {
            pixels: SharedBytes::from_vec(pixels),
            pixel_offset: 0,
            pixel_stride: image_len,
            labels: SharedBytes::from_vec(labels),
            label_offset: 0,
            label_stride: 1,
            count,
            label_path: name,
        };
        let names = class_names.iter().map(|s| s.to_string()).collect();
        ImageSet::from_chunks("memory", vec![chunk], shape, names)
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.starts[self.chunks.len()]
    }

    /// Whether the set has no image (never true for a loaded set).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A short description such as `MNIST train`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `[C, H, W]` of one image.
    pub fn image_shape(&self) -> [usize; 3] {
        self.shape
    }

    /// Channels per image.
    pub fn channels(&self) -> usize {
        self.shape[0]
    }

    /// Image height.
    pub fn height(&self) -> usize {
        self.shape[1]
    }

    /// Image width.
    pub fn width(&self) -> usize {
        self.shape[2]
    }

    /// Bytes (= values) per image, `C * H * W`.
    pub fn image_len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Number of classes.
    pub fn num_classes(&self) -> usize {
        self.class_names.len()
    }

    /// Class names in label order.
    pub fn class_names(&self) -> &[String] {
        &self.class_names
    }

    /// Number of files the set spans.
    pub fn num_files(&self) -> usize {
        self.chunks.len()
    }

    /// Whether the images are read from memory-mapped files (not the embedded sample or RAM).
    pub fn is_mapped(&self) -> bool {
        self.chunks.iter().all(|c| c.pixels.is_mapped())
    }

    fn locate(&self, i: usize) -> (&Chunk, usize) {
        assert!(i < self.len(), "image index {i} out of range for {} images", self.len());
        // partition_point: first chunk whose start is > i, minus one.
        let k = self.starts.partition_point(|&s| s <= i) - 1;
        (&self.chunks[k], i - self.starts[k])
    }

    /// The bytes of image `i`, channel-major (`C, H, W`). Zero-copy.
    ///
    /// # Panics
    /// When `i >= len()`.
    pub fn image(&self, i: usize) -> &[u8] {
        let (chunk, j) = self.locate(i);
        let start = chunk.pixel_offset + j * chunk.pixel_stride;
        &chunk.pixels[start..start + self.image_len()]
    }

    /// The label of image `i`.
    ///
    /// # Panics
    /// When `i >= len()`.
    pub fn label(&self, i: usize) -> usize {
        let (chunk, j) = self.locate(i);
        chunk.label(j)
    }

    /// All labels, in order.
    pub fn labels(&self) -> Vec<usize> {
        self.chunks
            .iter()
            .flat_map(|c| (0..c.count).map(move |j| c.label(j)))
            .collect()
    }

    /// Zero-copy views of the images, one per file: shape `(n, C, H, W)` when `channels_last`
    /// is false, `(n, H, W, C)` otherwise; grey sets (`C == 1`) drop the channel axis in the
    /// channel-last form, as Keras does (`(n, 28, 28)` for MNIST).
    pub fn file_views(&self, channels_last: bool) -> Vec<ArrayViewD<'_, u8>> {
        self.chunks.iter().map(|c| self.chunk_view(c, channels_last)).collect()
    }

    fn chunk_view<'a>(&self, c: &'a Chunk, channels_last: bool) -> ArrayViewD<'a, u8> {
        let [ch, h, w] = self.shape;
        let (shape, strides) = if !channels_last {
            (vec![c.count, ch, h, w], vec![c.pixel_stride, h * w, w, 1])
        } else if ch == 1 {
            (vec![c.count, h, w], vec![c.pixel_stride, w, 1])
        } else {
            (vec![c.count, h, w, ch], vec![c.pixel_stride, w, 1, h * w])
        };
        ArrayViewD::from_shape(IxDyn(&shape).strides(IxDyn(&strides)), &c.pixels[c.pixel_offset..])
            .expect("chunk layout validated against its byte length")
    }

    /// Path of the file holding the labels of the first record (for messages).
    pub fn source_path(&self) -> &Path {
        &self.chunks[0].label_path
    }
}

/// Keras' `x`: a zero-copy image array over an [`ImageSet`].
///
/// Shape `(N, H, W)` for grey sets, `(N, H, W, C)` channel-last for colour sets (as Keras),
/// or `(N, C, H, W)` after [`ImageArray::channels_first`].
#[derive(Debug, Clone)]
pub struct ImageArray {
    set: ImageSet,
    channels_last: bool,
}

impl ImageArray {
    /// The Keras view of `set` (channel-last).
    pub fn new(set: ImageSet) -> Self {
        ImageArray {
            set,
            channels_last: true,
        }
    }

    /// The same images seen as `(N, C, H, W)` (what training takes). Zero-copy.
    pub fn channels_first(&self) -> ImageArray {
        ImageArray {
            set: self.set.clone(),
            channels_last: false,
        }
    }

    /// The array's shape, e.g. `[60000, 28, 28]` for MNIST or `[50000, 32, 32, 3]` for CIFAR-10.
    pub fn shape(&self) -> Vec<usize> {
        let [c, h, w] = self.set.image_shape();
        let n = self.set.len();
        match (self.channels_last, c) {
            (false, _) => vec![n, c, h, w],
            (true, 1) => vec![n, h, w],
            (true, _) => vec![n, h, w, c],
        }
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.set.len()
    }

    /// Whether there is no image.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }

    /// The whole array as one zero-copy n-d view, when it lives in one file (MNIST,
    /// Fashion-MNIST, CIFAR-100, the CIFAR-10 test set); `None` for a set spanning several
    /// files (CIFAR-10 train): use [`ImageArray::views`] or [`ImageArray::image`] there.
    pub fn view(&self) -> Option<ArrayViewD<'_, u8>> {
        if self.set.num_files() == 1 {
            self.set.file_views(self.channels_last).pop()
        } else {
            None
        }
    }

    /// Zero-copy views, one per file, that together make up the array.
    pub fn views(&self) -> Vec<ArrayViewD<'_, u8>> {
        self.set.file_views(self.channels_last)
    }

    /// Image `i` as a zero-copy view (`(H, W)`, `(H, W, C)` or `(C, H, W)`).
    ///
    /// # Panics
    /// When `i >= len()`.
    pub fn image(&self, i: usize) -> ArrayViewD<'_, u8> {
        let [c, h, w] = self.set.image_shape();
        let (shape, strides) = match (self.channels_last, c) {
            (false, _) => (vec![c, h, w], vec![h * w, w, 1]),
            (true, 1) => (vec![h, w], vec![w, 1]),
            (true, _) => (vec![h, w, c], vec![w, 1, h * w]),
        };
        ArrayViewD::from_shape(IxDyn(&shape).strides(IxDyn(&strides)), self.set.image(i))
            .expect("image length is C*H*W")
    }

    /// The underlying set (what [`crate::DataLoader`] takes).
    pub fn image_set(&self) -> &ImageSet {
        &self.set
    }
}

/// Keras' `y`: the labels of an [`ImageSet`] (class indices), read in place.
#[derive(Debug, Clone)]
pub struct LabelArray {
    set: ImageSet,
}

impl LabelArray {
    /// The labels of `set`.
    pub fn new(set: ImageSet) -> Self {
        LabelArray { set }
    }

    /// `[N]`.
    pub fn shape(&self) -> Vec<usize> {
        vec![self.set.len()]
    }

    /// Number of labels.
    pub fn len(&self) -> usize {
        self.set.len()
    }

    /// Whether there is no label.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }

    /// Label `i`.
    ///
    /// # Panics
    /// When `i >= len()`.
    pub fn get(&self, i: usize) -> usize {
        self.set.label(i)
    }

    /// All labels as a vector.
    pub fn to_vec(&self) -> Vec<usize> {
        self.set.labels()
    }

    /// Class names in label order.
    pub fn class_names(&self) -> &[String] {
        self.set.class_names()
    }
}

/// Keras' `((x_train, y_train), (x_test, y_test))`.
pub type KerasData = ((ImageArray, LabelArray), (ImageArray, LabelArray));

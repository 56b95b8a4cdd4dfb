//! Drawing images: in the terminal with Unicode half blocks (two pixel rows per text row,
//! 24-bit colour for RGB), as plain characters where colour is not wanted (a pipe, a file,
//! `NO_COLOR`), and as a PNG grid.

use std::path::Path;

/// One image in channel-major layout (`[C, H, W]`, C = 1 or 3), as the data sets store it.
pub struct Pixels<'a> {
    /// `C * H * W` bytes.
    pub data: &'a [u8],
    /// 1 (grey) or 3 (RGB planes).
    pub channels: usize,
    /// Rows.
    pub height: usize,
    /// Columns.
    pub width: usize,
}

impl Pixels<'_> {
    /// The RGB colour of pixel (`y`, `x`).
    pub fn rgb(&self, y: usize, x: usize) -> [u8; 3] {
        let plane = self.height * self.width;
        let at = y * self.width + x;
        if self.channels == 1 {
            let v = self.data[at];
            [v, v, v]
        } else {
            [self.data[at], self.data[plane + at], self.data[2 * plane + at]]
        }
    }
}

/// The widest and tallest image the terminal view draws (one column per pixel).
pub const MAX_TERMINAL_SIDE: usize = 512;

/// The widest or tallest PNG grid written, and its most pixels.
pub const MAX_PNG_SIDE: usize = 16_384;
const MAX_PNG_PIXELS: usize = 1 << 26;

/// Renders an image as lines of `▀` characters: foreground is the upper pixel, background
/// the lower one, in 24-bit ANSI colour.
///
/// # Errors
/// When the image is wider or taller than [`MAX_TERMINAL_SIDE`] pixels (its text would be
/// as big as the image).
pub fn to_terminal(img: &Pixels<'_>) -> Result<Vec<String>, String> {
    check_terminal_size(img)?;
    let mut lines = Vec::with_capacity(img.height.div_ceil(2));
    for y in (0..img.height).step_by(2) {
        let mut line = String::new();
        for x in 0..img.width {
            let [r, g, b] = img.rgb(y, x);
            let [r2, g2, b2] = if y + 1 < img.height {
                img.rgb(y + 1, x)
            } else {
                [0, 0, 0]
            };
            line.push_str(&format!("\x1b[38;2;{r};{g};{b}m\x1b[48;2;{r2};{g2};{b2}m▀"));
        }
        line.push_str("\x1b[0m");
        lines.push(line);
    }
    Ok(lines)
}

/// Refuses an image too big for a text view (its text would be as big as the image).
fn check_terminal_size(img: &Pixels<'_>) -> Result<(), String> {
    if img.width > MAX_TERMINAL_SIDE || img.height > MAX_TERMINAL_SIDE {
        return Err(format!(
            "the image is {}x{} pixels; the terminal view draws images up to {MAX_TERMINAL_SIDE}x{MAX_TERMINAL_SIDE} (write a PNG with --png)",
            img.width, img.height
        ));
    }
    Ok(())
}

/// Width and height of a grid of `n` images of `h x w` pixels: up to 16 per row, 2-pixel gaps,
/// scaled x2; or why it is too big to write.
fn grid_size(n: usize, h: usize, w: usize) -> Result<(u32, u32, usize), String> {
    let cols = n.clamp(1, 16);
    let rows = n.div_ceil(cols);
    let side = |count: usize, len: usize| len.checked_mul(2)?.checked_add(2)?.checked_mul(count)?.checked_add(2);
    let (width, height) = match (side(cols, w), side(rows, h)) {
        (Some(width), Some(height))
            if width <= MAX_PNG_SIDE && height <= MAX_PNG_SIDE && width * height <= MAX_PNG_PIXELS =>
        {
            (width, height)
        }
        _ => {
            return Err(format!(
                "a grid of {n} images of {w}x{h} pixels is too big for a PNG (at most {MAX_PNG_SIDE} pixels a side and {MAX_PNG_PIXELS} in all)"
            ))
        }
    };
    Ok((width as u32, height as u32, cols))
}

/// Characters from dark to light for [`to_plain`].
const SHADES: &[u8] = b" .:-=+*#%@";

/// Renders an image without escape codes: one character per pixel column and pair of rows,
/// from `' '` (dark) to `'@'` (light) by the pair's mean luminance.
///
/// # Errors
/// As [`to_terminal`], for images wider or taller than [`MAX_TERMINAL_SIDE`].
pub fn to_plain(img: &Pixels<'_>) -> Result<Vec<String>, String> {
    check_terminal_size(img)?;
    let luminance = |[r, g, b]: [u8; 3]| (299 * r as u32 + 587 * g as u32 + 114 * b as u32) / 1000;
    let lines = (0..img.height)
        .step_by(2)
        .map(|y| {
            (0..img.width)
                .map(|x| {
                    let upper = luminance(img.rgb(y, x));
                    let lower = if y + 1 < img.height {
                        luminance(img.rgb(y + 1, x))
                    } else {
                        upper
                    };
                    let level = (upper + lower) as usize * SHADES.len() / 512;
                    SHADES[level.min(SHADES.len() - 1)] as char
                })
                .collect::<String>()
                .trim_end()
                .to_string()
        })
        .collect();
    Ok(lines)
}

/// Writes `images` as a grid (up to 16 per row, 2-pixel gaps, scaled ×2) to a PNG file.
///
/// # Errors
/// When the grid would exceed [`MAX_PNG_SIDE`] or the file cannot be written (no partial
/// file is left).
pub fn write_png_grid(path: &Path, images: &[Pixels<'_>]) -> Result<(), String> {
    let Some(first) = images.first() else {
        return Err("no images to write".to_string());
    };
    let (h, w, scale, gap) = (first.height, first.width, 2usize, 2usize);
    let (width, height, cols) = grid_size(images.len(), h, w)?;
    let cell_w = w * scale + gap;
    let cell_h = h * scale + gap;
    let mut canvas = image::RgbImage::new(width, height);
    for (i, img) in images.iter().enumerate() {
        let (ox, oy) = (gap + (i % cols) * cell_w, gap + (i / cols) * cell_h);
        for y in 0..h * scale {
            for x in 0..w * scale {
                let px = image::Rgb(img.rgb(y / scale, x / scale));
                canvas.put_pixel((ox + x) as u32, (oy + y) as u32, px);
            }
        }
    }
    let mut png = std::io::Cursor::new(Vec::new());
    canvas
        .write_to(&mut png, image::ImageFormat::Png)
        .map_err(|e| format!("cannot encode {}: {e}", path.display()))?;
    neurite_tensor::atomic_file::write(path, png.get_ref()).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_rendering_maps_dark_to_space_and_light_to_at() {
        // 2x3 grey: a black column, a mid-grey column, a white column.
        let data = [0, 128, 255, 0, 128, 255];
        let img = Pixels {
            data: &data,
            channels: 1,
            height: 2,
            width: 3,
        };
        assert_eq!(to_plain(&img).unwrap(), vec![" +@".to_string()]);
    }

    #[test]
    fn plain_rendering_has_no_escape_codes_for_rgb() {
        let data = [255u8; 3 * 3 * 4];
        let img = Pixels {
            data: &data,
            channels: 3,
            height: 3,
            width: 4,
        };
        let lines = to_plain(&img).unwrap();
        assert_eq!(lines, vec!["@@@@".to_string(), "@@@@".to_string()]);
    }

    #[test]
    fn grid_size_is_checked_and_bounded() {
        assert_eq!(grid_size(1, 28, 28), Ok((60, 60, 1)));
        assert_eq!(grid_size(20, 28, 28), Ok((16 * 58 + 2, 2 * 58 + 2, 16)));
        // Wider than u32 after scaling (the old `as u32` cast truncated it), and overflowing.
        assert!(grid_size(1, 1, 3_000_000_000).is_err());
        assert!(grid_size(16, 1, usize::MAX / 2).is_err());
        assert!(grid_size(1, 10_000, 10_000).is_err());
    }

    #[test]
    fn the_terminal_view_refuses_huge_images() {
        let data = vec![0u8; 1000];
        let wide = Pixels {
            data: &data,
            channels: 1,
            height: 1,
            width: 1000,
        };
        assert!(to_terminal(&wide).unwrap_err().contains("1000x1"));
        assert!(to_plain(&wide).unwrap_err().contains("1000x1"));
        let small = Pixels {
            data: &data[..4],
            channels: 1,
            height: 2,
            width: 2,
        };
        assert_eq!(to_terminal(&small).unwrap().len(), 1);
    }
}

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

/// Renders an image as lines of `▀` characters: foreground is the upper pixel, background
/// the lower one, in 24-bit ANSI colour.
pub fn to_terminal(img: &Pixels<'_>) -> Vec<String> {
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
    lines
}

/// Characters from dark to light for [`to_plain`].
const SHADES: &[u8] = b" .:-=+*#%@";

/// Renders an image without escape codes: one character per pixel column and pair of rows,
/// from `' '` (dark) to `'@'` (light) by the pair's mean luminance.
pub fn to_plain(img: &Pixels<'_>) -> Vec<String> {
    let luminance = |[r, g, b]: [u8; 3]| (299 * r as u32 + 587 * g as u32 + 114 * b as u32) / 1000;
    (0..img.height)
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
        .collect()
}

/// Writes `images` as a grid (up to 16 per row, 2-pixel gaps, scaled ×2) to a PNG file.
pub fn write_png_grid(path: &Path, images: &[Pixels<'_>]) -> Result<(), String> {
    let Some(first) = images.first() else {
        return Err("no images to write".to_string());
    };
    let (h, w, scale, gap) = (first.height, first.width, 2usize, 2usize);
    let cols = images.len().min(16);
    let rows = images.len().div_ceil(cols);
    let cell_w = w * scale + gap;
    let cell_h = h * scale + gap;
    let mut canvas = image::RgbImage::new((cols * cell_w + gap) as u32, (rows * cell_h + gap) as u32);
    for (i, img) in images.iter().enumerate() {
        let (ox, oy) = (gap + (i % cols) * cell_w, gap + (i / cols) * cell_h);
        for y in 0..h * scale {
            for x in 0..w * scale {
                let px = image::Rgb(img.rgb(y / scale, x / scale));
                canvas.put_pixel((ox + x) as u32, (oy + y) as u32, px);
            }
        }
    }
    let tmp = path.with_extension("png.partial");
    canvas
        .save_with_format(&tmp, image::ImageFormat::Png)
        .and_then(|()| std::fs::rename(&tmp, path).map_err(image::ImageError::IoError))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            format!("cannot write {}: {e}", path.display())
        })
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
        assert_eq!(to_plain(&img), vec![" +@".to_string()]);
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
        let lines = to_plain(&img);
        assert_eq!(lines, vec!["@@@@".to_string(), "@@@@".to_string()]);
    }
}

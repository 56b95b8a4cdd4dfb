//! TFRecord framing, as TensorFlow's `RecordWriter` writes it: each record is its length
//! (`u64` little-endian), the masked CRC32C of those 8 bytes, the data, and the masked
//! CRC32C of the data (both CRCs `u32` little-endian).

use std::io::{self, Write};

use crc::{Crc, CRC_32_ISCSI};

/// CRC-32C (Castagnoli), the checksum TFRecord uses.
const CRC32C: Crc<u32> = Crc::<u32>::new(&CRC_32_ISCSI);

/// TensorFlow's masked CRC32C of `bytes`: the CRC rotated right by 15 bits plus a constant,
/// so that a CRC of data that itself holds CRCs stays well distributed.
pub fn masked_crc32c(bytes: &[u8]) -> u32 {
    let crc = CRC32C.checksum(bytes);
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

/// Writes `data` as one framed record.
pub fn write_record(out: &mut impl Write, data: &[u8]) -> io::Result<()> {
    let len = (data.len() as u64).to_le_bytes();
    out.write_all(&len)?;
    out.write_all(&masked_crc32c(&len).to_le_bytes())?;
    out.write_all(data)?;
    out.write_all(&masked_crc32c(data).to_le_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_matches_the_standard_check_value() {
        // The CRC-32C check value of "123456789" (RFC 3720, B.4).
        assert_eq!(CRC32C.checksum(b"123456789"), 0xe306_9283);
        assert_eq!(
            masked_crc32c(b"123456789"),
            0xe306_9283u32.rotate_right(15).wrapping_add(0xa282_ead8)
        );
    }

    #[test]
    fn a_record_is_length_crc_data_crc() {
        let mut out = Vec::new();
        write_record(&mut out, b"abc").unwrap();
        assert_eq!(out.len(), 8 + 4 + 3 + 4);
        assert_eq!(out[..8], 3u64.to_le_bytes());
        assert_eq!(out[8..12], masked_crc32c(&3u64.to_le_bytes()).to_le_bytes());
        assert_eq!(&out[12..15], b"abc");
        assert_eq!(out[15..], masked_crc32c(b"abc").to_le_bytes());
    }
}

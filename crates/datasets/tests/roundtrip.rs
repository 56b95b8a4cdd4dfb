//! Property tests: IDX and CIFAR files written then read back are equal; the byte parsers never
//! panic on arbitrary input.

use neurite_datasets::cifar::{cifar_records, parse_cifar, write_cifar, CifarFile, CifarFormat, CIFAR_IMAGE_LEN};
use neurite_datasets::idx::{parse_idx, write_idx, IdxFile, IdxType, IdxValues};
use proptest::prelude::*;

fn values(dtype: IdxType, n: usize) -> BoxedStrategy<IdxValues> {
    match dtype {
        IdxType::U8 => prop::collection::vec(any::<u8>(), n).prop_map(IdxValues::U8).boxed(),
        IdxType::I8 => prop::collection::vec(any::<i8>(), n).prop_map(IdxValues::I8).boxed(),
        IdxType::I16 => prop::collection::vec(any::<i16>(), n).prop_map(IdxValues::I16).boxed(),
        IdxType::I32 => prop::collection::vec(any::<i32>(), n).prop_map(IdxValues::I32).boxed(),
        IdxType::F32 => prop::collection::vec(any::<u32>().prop_map(f32::from_bits), n)
            .prop_map(IdxValues::F32)
            .boxed(),
        IdxType::F64 => prop::collection::vec(any::<u64>().prop_map(f64::from_bits), n)
            .prop_map(IdxValues::F64)
            .boxed(),
    }
}

/// Random type, rank 1..=4, dims 1..=6, and matching values.
fn idx_case() -> impl Strategy<Value = (Vec<usize>, IdxValues)> {
    (
        prop::sample::select(IdxType::ALL.to_vec()),
        prop::collection::vec(1usize..=6, 1..=4),
    )
        .prop_flat_map(|(t, dims)| {
            let n = dims.iter().product();
            (Just(dims), values(t, n))
        })
}

/// Bit-level equality (NaN payloads included).
fn same(a: &IdxValues, b: &IdxValues) -> bool {
    match (a, b) {
        (IdxValues::F32(x), IdxValues::F32(y)) => x.iter().map(|v| v.to_bits()).eq(y.iter().map(|v| v.to_bits())),
        (IdxValues::F64(x), IdxValues::F64(y)) => x.iter().map(|v| v.to_bits()).eq(y.iter().map(|v| v.to_bits())),
        _ => a == b,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn idx_round_trip((dims, vals) in idx_case()) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.idx");
        write_idx(&path, &dims, vals.as_data()).unwrap();
        let file = IdxFile::open(&path).unwrap();
        prop_assert_eq!(file.dims(), &dims[..]);
        prop_assert_eq!(file.dtype(), vals.dtype());
        prop_assert!(same(&file.to_values(), &vals));
        if let IdxValues::U8(v) = &vals {
            let view = file.view_u8().unwrap();
            prop_assert_eq!(view.shape(), &dims[..]);
            prop_assert_eq!(view.iter().copied().collect::<Vec<_>>(), v.clone());
        }
    }

    #[test]
    fn cifar_round_trip(n in 1usize..5, cifar100 in any::<bool>(), seed in any::<u64>()) {
        let format = if cifar100 { CifarFormat::CIFAR100 } else { CifarFormat::CIFAR10 };
        let limits: &[usize] = if cifar100 { &[20, 100] } else { &[10] };
        let labels: Vec<u8> = (0..n * format.label_bytes)
            .map(|k| ((seed as usize).wrapping_add(k * 13) % limits[k % format.label_bytes]) as u8)
            .collect();
        let pixels: Vec<u8> = (0..n * CIFAR_IMAGE_LEN).map(|k| (seed.wrapping_mul(k as u64 + 1) >> 24) as u8).collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("batch.bin");
        write_cifar(&path, format, &labels, &pixels).unwrap();
        let file = CifarFile::open(&path, format, limits).unwrap();
        prop_assert_eq!(file.len(), n);
        for i in 0..n {
            let r = file.record(i);
            prop_assert_eq!(r.labels, &labels[i * format.label_bytes..(i + 1) * format.label_bytes]);
            prop_assert_eq!(r.pixels, &pixels[i * CIFAR_IMAGE_LEN..(i + 1) * CIFAR_IMAGE_LEN]);
        }
    }

    #[test]
    fn parsers_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..64), code in 0u8..16, rank in 0u8..4) {
        let _ = parse_idx(&bytes);
        // Plausible headers reach the dims and size checks too.
        let mut b = vec![0, 0, code, rank];
        b.extend_from_slice(&bytes);
        if let Ok(h) = parse_idx(&b) {
            prop_assert_eq!(h.data_offset + h.data_len(), b.len());
        }
        let _ = parse_cifar(&bytes, CifarFormat::CIFAR10);
        let _ = cifar_records(&bytes, CifarFormat::CIFAR100);
    }
}

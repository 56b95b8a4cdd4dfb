//! The inference path against the graph forward: the same logits, bit for bit, and the same
//! arg-max, for the MLP presets and for specs with every layer kind it runs; refusal of
//! models it does not run; buffers kept between batches; a clear panic for a wrong input.

use neurite_nn::infer::Inference;
use neurite_nn::{ModelSpec, Module};
use neurite_tensor::{no_grad, seeded_rng, Tensor};

/// `Inference` gives the graph forward's logits (bit-identical) and arg-max on batches of
/// several sizes, including one that runs the products on several threads.
fn assert_matches_graph(spec: &ModelSpec) {
    let input = spec.input_shape();
    let mut model = spec.build(&mut seeded_rng(3));
    model.set_training(false);
    let mut fast = Inference::new(spec, &model).unwrap_or_else(|| panic!("{} should compile", spec.name()));
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
    for (i, batch) in [1usize, 7, 300, 7].into_iter().enumerate() {
        let shape: Vec<usize> = std::iter::once(batch).chain(input.iter().copied()).collect();
        let x = Tensor::uniform(&shape, -1.0, 1.0, &mut seeded_rng(10 + i as u64));
        pool.install(|| {
            let want = no_grad(|| model.forward(&x));
            let got = fast.logits(&x).to_vec();
            assert_eq!(got.len(), want.numel(), "{} batch {batch}", spec.name());
            let same = got.iter().zip(want.to_vec()).all(|(g, w)| g.to_bits() == w.to_bits());
            assert!(
                same,
                "{} batch {batch}: logits differ from the graph forward",
                spec.name()
            );
            assert_eq!(
                fast.predict(&x),
                want.argmax(1).as_slice(),
                "{} batch {batch}",
                spec.name()
            );
        });
    }
}

#[test]
fn mlp_presets_match_the_graph_forward() {
    assert_matches_graph(&ModelSpec::w1());
    assert_matches_graph(&ModelSpec::w2());
    assert_matches_graph(&ModelSpec::preset("mlp", Some(&[64, 32]), &[1, 28, 28], 10).unwrap());
}

#[test]
fn image_shaped_rows_are_read_as_flat_rows() {
    let spec = ModelSpec::w1();
    let mut fast = Inference::new(&spec, &spec.build(&mut seeded_rng(0))).unwrap();
    let x = Tensor::uniform(&[6, 784], 0.0, 1.0, &mut seeded_rng(1));
    let flat = fast.logits(&x).to_vec();
    assert_eq!(fast.logits(&x.reshape(&[6, 1, 28, 28])), flat.as_slice());
}

#[test]
fn every_supported_layer_kind_matches_the_graph_forward() {
    let specs = [
        "flatten linear(40) tanh dropout(0.3) linear(30) sigmoid linear(5)",
        "dense(33, relu) dense(17, tanh) dense(9, sigmoid) dense(4, linear, use_bias=false)",
        "flatten relu linear(20, bias=false) leaky_relu(0.2) identity linear(3)",
    ];
    for text in specs {
        let spec = ModelSpec::from_inline(text, &[2, 3, 4]).unwrap();
        assert_matches_graph(&spec);
    }
}

#[test]
fn models_with_other_layers_keep_the_graph_forward() {
    let cnn = ModelSpec::w3();
    assert!(Inference::new(&cnn, &cnn.build(&mut seeded_rng(0))).is_none());
    for text in [
        "linear(8) gelu linear(3)",
        "linear(8) softmax",
        "linear(8) batchnorm1d linear(3)",
    ] {
        let spec = ModelSpec::from_inline(text, &[6]).unwrap();
        assert!(
            Inference::new(&spec, &spec.build(&mut seeded_rng(0))).is_none(),
            "{text}"
        );
    }
    // A model that is not the spec's.
    let other = ModelSpec::w2().build(&mut seeded_rng(0));
    assert!(Inference::new(&ModelSpec::w1(), &other).is_none());
}

#[test]
fn later_weight_changes_are_seen() {
    let spec = ModelSpec::w1();
    let mut model = spec.build(&mut seeded_rng(0));
    let mut fast = Inference::new(&spec, &model).unwrap();
    let x = Tensor::uniform(&[4, 784], 0.0, 1.0, &mut seeded_rng(1));
    let before = fast.logits(&x).to_vec();
    let bias = model
        .named_parameters()
        .into_iter()
        .find(|(n, _)| n == "2.bias")
        .unwrap()
        .1;
    bias.update(|mut b| b += 1.0);
    let after = fast.logits(&x).to_vec();
    let want = no_grad(|| model.forward(&x)).to_vec();
    assert_eq!(after, want);
    assert!(after.iter().zip(&before).all(|(a, b)| a != b));
}

#[test]
fn buffers_are_reused_between_batches() {
    let spec = ModelSpec::w1();
    let mut fast = Inference::new(&spec, &spec.build(&mut seeded_rng(0))).unwrap();
    let x = Tensor::uniform(&[50, 784], 0.0, 1.0, &mut seeded_rng(1));
    let first = fast.logits(&x).as_ptr();
    let y = Tensor::uniform(&[20, 784], 0.0, 1.0, &mut seeded_rng(2));
    assert_eq!(fast.logits(&y).as_ptr(), first, "a smaller batch reuses the buffer");
    assert_eq!(fast.logits(&x).as_ptr(), first);
}

#[test]
fn a_wrong_input_size_panics_naming_the_shapes() {
    let spec = ModelSpec::w1();
    let mut fast = Inference::new(&spec, &spec.build(&mut seeded_rng(0))).unwrap();
    let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        fast.logits(&Tensor::zeros(&[3, 100]));
    }))
    .unwrap_err();
    let msg = err.downcast_ref::<String>().unwrap();
    assert!(msg.contains("[3, 100]") && msg.contains("784"), "{msg}");
}

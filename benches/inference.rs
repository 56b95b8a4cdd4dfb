//! W5's forward pass two ways, paired: the graph forward under `no_grad` (`Module::forward`)
//! against the inference path (`neurite_nn::infer::Inference`), on W1's MLP over ten batches
//! of 1000 rows, rounds alternating which goes first; the speed-up is the ratio of the two
//! times in each round (steadier than separate medians on a noisy machine).
//!
//! A plain program: `cargo bench --bench inference`. `RAYON_NUM_THREADS` sets the threads; it
//! runs on a pool worker, as `neurite eval` does.

use std::time::Instant;

use neurite::nn::infer::Inference;
use neurite::nn::{ModelSpec, Module};
use neurite::tensor::{no_grad, seeded_rng, Tensor};

const ROUNDS: usize = 21;

/// Median, min and max.
fn summary(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[0], v[v.len() - 1])
}

fn main() {
    let spec = ModelSpec::w1();
    let mut model = spec.build(&mut seeded_rng(0));
    model.set_training(false);
    let mut fast = Inference::new(&spec, &model).expect("W1 is an MLP");
    let batches: Vec<Tensor> = (0..10)
        .map(|i| Tensor::uniform(&[1000, 784], 0.0, 1.0, &mut seeded_rng(i)))
        .collect();
    rayon::scope(|_| {
        let mut graph = || {
            let start = Instant::now();
            for x in &batches {
                std::hint::black_box(no_grad(|| model.forward(x).argmax(1)));
            }
            start.elapsed().as_secs_f64()
        };
        let mut infer = || {
            let start = Instant::now();
            for x in &batches {
                std::hint::black_box(fast.predict(x));
            }
            start.elapsed().as_secs_f64()
        };
        graph();
        infer();
        let (mut g, mut f, mut ratio) = (vec![], vec![], vec![]);
        for round in 0..ROUNDS {
            let (tg, tf) = if round % 2 == 0 {
                let tg = graph();
                (tg, infer())
            } else {
                let tf = infer();
                (graph(), tf)
            };
            g.push(tg * 1e3);
            f.push(tf * 1e3);
            ratio.push(tg / tf);
        }
        let (gm, glo, ghi) = summary(g);
        let (fm, flo, fhi) = summary(f);
        let (r, rlo, rhi) = summary(ratio);
        println!(
            "{} threads, {ROUNDS} rounds, W5 (10 x 1000 rows of W1's MLP, arg-max):",
            rayon::current_num_threads()
        );
        println!("  graph forward   {gm:7.2} ms ({glo:.2}-{ghi:.2})");
        println!("  Inference       {fm:7.2} ms ({flo:.2}-{fhi:.2})");
        println!("  speed-up graph/Inference {r:.3} ({rlo:.3}-{rhi:.3})");
    });
}

//! Spec to modules: each [`LayerSpec`] becomes the layer of the nn crate it describes, in
//! order, drawing initial values from one generator (so the presets keep their numbers).

use std::collections::HashMap;

use neurite_tensor::TensorRng;
use rand::Rng;

use crate::layers::conv::{Conv2d, Conv2dConfig};
use crate::spec::layer::{Layer, LayerSpec, Padding};
use crate::spec::ModelSpec;
use crate::{
    Activation, AdaptiveAvgPool2d, AvgPool2d, BatchNorm1d, BatchNorm2d, Dense, Dropout, Dropout2d, Flatten,
    GlobalAvgPool2d, Identity, LayerNorm, LeakyReLU, Linear, MaxPool2d, Module, ReLU, Residual, Sequential, Sigmoid,
    Size2, Softmax, Tanh, GELU,
};

/// Builds `spec` into a [`Sequential`].
pub(super) fn build(spec: &ModelSpec, rng: &mut TensorRng) -> Sequential {
    let outputs: HashMap<&str, &[usize]> = spec
        .layer_info()
        .iter()
        .map(|l| (l.path.as_str(), l.output.as_slice()))
        .collect();
    sequence(spec.input_shape(), spec.layers(), "", &outputs, rng)
}

fn sequence(
    input: &[usize],
    layers: &[Layer],
    prefix: &str,
    outputs: &HashMap<&str, &[usize]>,
    rng: &mut TensorRng,
) -> Sequential {
    let mut model = Sequential::new();
    let mut shape = input.to_vec();
    for (i, layer) in layers.iter().enumerate() {
        let name = layer.name.clone().unwrap_or_else(|| i.to_string());
        let path = format!("{prefix}{name}");
        let module = module(&shape, &layer.kind, &path, outputs, rng);
        match &layer.name {
            Some(n) => model.push_named(n.clone(), module),
            None => model.push(module),
        }
        shape = outputs[path.as_str()].to_vec();
    }
    model
}

fn module(
    input: &[usize],
    kind: &LayerSpec,
    path: &str,
    outputs: &HashMap<&str, &[usize]>,
    rng: &mut TensorRng,
) -> Box<dyn Module> {
    match kind {
        LayerSpec::Linear { out_features, bias, .. } => {
            Box::new(Linear::with_bias(input[0], *out_features, *bias, rng))
        }
        LayerSpec::Dense {
            units,
            activation,
            use_bias,
        } => {
            let mut dense = Dense::new(*units, *activation).use_bias(*use_bias).with_rng(rng);
            dense.build(input[0]);
            Box::new(dense)
        }
        LayerSpec::Conv2d {
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            ..
        } => {
            let pad = match padding {
                Padding::Explicit(p) => *p,
                Padding::Same => Size2(
                    dilation.0 * (kernel_size.0 - 1) / 2,
                    dilation.1 * (kernel_size.1 - 1) / 2,
                ),
            };
            let config = Conv2dConfig::default()
                .stride(*stride)
                .padding(pad)
                .dilation(*dilation)
                .groups(*groups)
                .bias(*bias);
            Box::new(Conv2d::with_config(input[0], *out_channels, *kernel_size, config, rng))
        }
        LayerSpec::MaxPool2d {
            kernel_size,
            stride,
            padding,
        } => Box::new(MaxPool2d::new(*kernel_size).stride(*stride).padding(*padding)),
        LayerSpec::AvgPool2d {
            kernel_size,
            stride,
            padding,
        } => Box::new(AvgPool2d::new(*kernel_size).stride(*stride).padding(*padding)),
        LayerSpec::AdaptiveAvgPool2d { output_size } => Box::new(AdaptiveAvgPool2d::new(*output_size)),
        LayerSpec::GlobalAvgPool2d => Box::new(GlobalAvgPool2d),
        LayerSpec::BatchNorm1d { eps, momentum } => Box::new(BatchNorm1d::new(input[0]).eps(*eps).momentum(*momentum)),
        LayerSpec::BatchNorm2d { eps, momentum } => Box::new(BatchNorm2d::new(input[0]).eps(*eps).momentum(*momentum)),
        LayerSpec::LayerNorm { dims, eps } => Box::new(LayerNorm::with_eps(&input[input.len() - dims..], *eps)),
        LayerSpec::Dropout { p } => Box::new(Dropout::new(*p, rng.random::<u64>())),
        LayerSpec::Dropout2d { p } => Box::new(Dropout2d::new(*p, rng.random::<u64>())),
        LayerSpec::Flatten => Box::new(Flatten::new()),
        LayerSpec::Activation(a) => match *a {
            Activation::Linear => Box::new(Identity),
            Activation::Relu => Box::new(ReLU),
            Activation::LeakyRelu(negative_slope) => Box::new(LeakyReLU { negative_slope }),
            Activation::Sigmoid => Box::new(Sigmoid),
            Activation::Tanh => Box::new(Tanh),
            Activation::Gelu => Box::new(GELU),
            Activation::Softmax => Box::new(Softmax { axis: input.len() }),
        },
        LayerSpec::Residual { body, downsample } => {
            let main = sequence(input, body, &format!("{path}."), outputs, rng);
            let shortcut = downsample
                .as_ref()
                .map(|d| sequence(input, d, &format!("{path}.downsample."), outputs, rng));
            Box::new(Residual::new(main, shortcut))
        }
    }
}

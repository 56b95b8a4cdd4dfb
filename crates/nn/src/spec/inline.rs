//! The inline form of a spec: `conv2d(32,3) relu maxpool2d(2) flatten linear(128) relu
//! linear(10)`: layer names in lower case, positional arguments in PyTorch's order, options
//! as `key=value`, sizes as `3` or `3x5`, an optional `as NAME` after a layer, and residual
//! blocks as `residual(BODY | DOWNSAMPLE)`. [`parse_layers`] reads it, [`format_layers`]
//! writes it back (a round trip gives the same layers).

use std::fmt::Write as _;

use crate::functional::Size2;
use crate::layers::activation::Activation;
use crate::spec::error::SpecError;
use crate::spec::layer::{Layer, LayerSpec, Padding, BATCH_NORM_EPS, BATCH_NORM_MOMENTUM, LAYER_NORM_EPS};

/// The longest inline spec read, in bytes.
pub const MAX_SPEC_BYTES: usize = 1 << 20;
/// The most layers a spec may have, nested ones included.
pub const MAX_LAYERS: usize = 10_000;
/// How deep residual blocks may nest.
pub const MAX_DEPTH: usize = 16;

/// Every layer kind the inline form knows, for error messages.
const KINDS: &str = "linear, dense, conv2d, maxpool2d, avgpool2d, adaptiveavgpool2d, globalavgpool2d, \
batchnorm1d, batchnorm2d, layernorm, dropout, dropout2d, flatten, residual, relu, leaky_relu, sigmoid, \
tanh, gelu, softmax, identity";

/// Reads the inline form into layers.
///
/// ```
/// use neurite_nn::spec::{parse_layers, format_layers};
/// let layers = parse_layers("conv2d(32,3) relu maxpool2d(2) flatten linear(128) relu linear(10)").unwrap();
/// assert_eq!(layers.len(), 7);
/// assert_eq!(format_layers(&layers), "conv2d(32, 3) relu maxpool2d(2) flatten linear(128) relu linear(10)");
/// let err = parse_layers("conv2d(32,3) convv").unwrap_err();
/// assert!(err.to_string().starts_with("layer 1: unknown layer `convv`"), "{err}");
/// ```
///
/// # Errors
/// [`SpecError::Syntax`] naming the layer (by index) and what is wrong with it.
pub fn parse_layers(text: &str) -> Result<Vec<Layer>, SpecError> {
    if text.len() > MAX_SPEC_BYTES {
        return Err(SpecError::TooLong { bytes: text.len() });
    }
    let tokens = tokenize(text)?;
    let mut parser = Parser {
        tokens,
        at: 0,
        count: 0,
    };
    let layers = parser.layers("", 0)?;
    if let Some(tok) = parser.peek() {
        return Err(SpecError::syntax(
            format!("byte {}", tok.offset),
            format!("unexpected `{}`", tok.text()),
        ));
    }
    Ok(layers)
}

/// Writes layers in the inline form, each with every setting that differs from its default.
pub fn format_layers(layers: &[Layer]) -> String {
    let parts: Vec<String> = layers.iter().map(format_layer).collect();
    parts.join(" ")
}

/// One layer in the inline form.
pub fn format_layer(layer: &Layer) -> String {
    let mut s = format_kind(&layer.kind);
    if let Some(name) = &layer.name {
        let _ = write!(s, " as {name}");
    }
    s
}

fn size(s: Size2) -> String {
    if s.0 == s.1 {
        s.0.to_string()
    } else {
        format!("{}x{}", s.0, s.1)
    }
}

fn activation_layer(a: Activation) -> String {
    match a {
        Activation::Linear => "identity".into(),
        Activation::LeakyRelu(slope) => format!("leaky_relu({slope})"),
        other => other.name().into(),
    }
}

fn format_kind(kind: &LayerSpec) -> String {
    let mut args: Vec<String> = Vec::new();
    let name = match kind {
        LayerSpec::Linear {
            in_features,
            out_features,
            bias,
        } => {
            args.extend(in_features.map(|i| i.to_string()));
            args.push(out_features.to_string());
            if !bias {
                args.push("bias=false".into());
            }
            "linear"
        }
        LayerSpec::Dense {
            units,
            activation,
            use_bias,
        } => {
            args.push(units.to_string());
            args.push(match activation {
                Activation::LeakyRelu(s) if *s != 0.01 => format!("leaky_relu, slope={s}"),
                a => a.name().to_string(),
            });
            if !use_bias {
                args.push("use_bias=false".into());
            }
            "dense"
        }
        LayerSpec::Conv2d {
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
        } => {
            args.extend(in_channels.map(|i| i.to_string()));
            args.push(out_channels.to_string());
            args.push(size(*kernel_size));
            if *stride != Size2(1, 1) {
                args.push(format!("stride={}", size(*stride)));
            }
            match padding {
                Padding::Same => args.push("padding=same".into()),
                Padding::Explicit(p) if *p != Size2(0, 0) => args.push(format!("padding={}", size(*p))),
                Padding::Explicit(_) => {}
            }
            if *dilation != Size2(1, 1) {
                args.push(format!("dilation={}", size(*dilation)));
            }
            if *groups != 1 {
                args.push(format!("groups={groups}"));
            }
            if !bias {
                args.push("bias=false".into());
            }
            "conv2d"
        }
        LayerSpec::MaxPool2d {
            kernel_size,
            stride,
            padding,
        }
        | LayerSpec::AvgPool2d {
            kernel_size,
            stride,
            padding,
        } => {
            args.push(size(*kernel_size));
            if stride != kernel_size {
                args.push(format!("stride={}", size(*stride)));
            }
            if *padding != Size2(0, 0) {
                args.push(format!("padding={}", size(*padding)));
            }
            if matches!(kind, LayerSpec::MaxPool2d { .. }) {
                "maxpool2d"
            } else {
                "avgpool2d"
            }
        }
        LayerSpec::AdaptiveAvgPool2d { output_size } => {
            args.push(size(*output_size));
            "adaptiveavgpool2d"
        }
        LayerSpec::GlobalAvgPool2d => "globalavgpool2d",
        LayerSpec::BatchNorm1d { eps, momentum } | LayerSpec::BatchNorm2d { eps, momentum } => {
            if *eps != BATCH_NORM_EPS {
                args.push(format!("eps={eps}"));
            }
            if *momentum != BATCH_NORM_MOMENTUM {
                args.push(format!("momentum={momentum}"));
            }
            if matches!(kind, LayerSpec::BatchNorm1d { .. }) {
                "batchnorm1d"
            } else {
                "batchnorm2d"
            }
        }
        LayerSpec::LayerNorm { dims, eps } => {
            if *dims != 1 {
                args.push(format!("dims={dims}"));
            }
            if *eps != LAYER_NORM_EPS {
                args.push(format!("eps={eps}"));
            }
            "layernorm"
        }
        LayerSpec::Dropout { p } => {
            args.push(p.to_string());
            "dropout"
        }
        LayerSpec::Dropout2d { p } => {
            args.push(p.to_string());
            "dropout2d"
        }
        LayerSpec::Flatten => "flatten",
        LayerSpec::Activation(a) => return activation_layer(*a),
        LayerSpec::Residual { body, downsample } => {
            let mut s = format!("residual({}", format_layers(body));
            if let Some(d) = downsample {
                let _ = write!(s, " | {}", format_layers(d));
            }
            return s + ")";
        }
    };
    if args.is_empty() {
        name.to_string()
    } else {
        format!("{name}({})", args.join(", "))
    }
}

/// A token of the inline form.
#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Open,
    Close,
    Comma,
    Equals,
    Bar,
    Word(String),
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    offset: usize,
}

impl Token {
    fn text(&self) -> String {
        match &self.tok {
            Tok::Open => "(".into(),
            Tok::Close => ")".into(),
            Tok::Comma => ",".into(),
            Tok::Equals => "=".into(),
            Tok::Bar => "|".into(),
            Tok::Word(w) => w.clone(),
        }
    }
}

fn tokenize(text: &str) -> Result<Vec<Token>, SpecError> {
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(offset, c)) = chars.peek() {
        let tok = match c {
            c if c.is_whitespace() => {
                chars.next();
                continue;
            }
            '(' => Tok::Open,
            ')' => Tok::Close,
            ',' => Tok::Comma,
            '=' => Tok::Equals,
            '|' => Tok::Bar,
            c if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '+') => {
                let mut word = String::new();
                while let Some(&(_, c)) = chars.peek() {
                    if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '+') {
                        word.push(c);
                        chars.next();
                    } else {
                        break;
                    }
                }
                out.push(Token {
                    tok: Tok::Word(word),
                    offset,
                });
                continue;
            }
            other => {
                return Err(SpecError::syntax(
                    format!("byte {offset}"),
                    format!("unexpected character `{other}`"),
                ))
            }
        };
        chars.next();
        out.push(Token { tok, offset });
    }
    Ok(out)
}

/// The arguments of one layer: positional values and `key=value` options.
struct Args {
    positional: Vec<String>,
    options: Vec<(String, String)>,
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    count: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn expect(&mut self, want: Tok, at: &str) -> Result<(), SpecError> {
        match self.next() {
            Some(t) if t.tok == want => Ok(()),
            Some(t) => Err(SpecError::syntax(
                at,
                format!(
                    "expected `{}` at byte {}, found `{}`",
                    Token { tok: want, offset: 0 }.text(),
                    t.offset,
                    t.text()
                ),
            )),
            None => Err(SpecError::syntax(
                at,
                format!("expected `{}` before the end", Token { tok: want, offset: 0 }.text()),
            )),
        }
    }

    /// Layers up to the end, a `)` or a `|`.
    fn layers(&mut self, prefix: &str, depth: usize) -> Result<Vec<Layer>, SpecError> {
        let mut layers = Vec::new();
        while let Some(t) = self.peek() {
            if matches!(t.tok, Tok::Close | Tok::Bar) {
                break;
            }
            let at = format!("layer {prefix}{}", layers.len());
            self.count += 1;
            if self.count > MAX_LAYERS {
                return Err(SpecError::syntax(
                    at,
                    format!("a spec may have at most {MAX_LAYERS} layers"),
                ));
            }
            layers.push(self.layer(&at, &format!("{prefix}{}.", layers.len()), depth)?);
        }
        Ok(layers)
    }

    fn layer(&mut self, at: &str, prefix: &str, depth: usize) -> Result<Layer, SpecError> {
        let token = self.next().expect("layers() peeked a token");
        let Tok::Word(word) = token.tok.clone() else {
            return Err(SpecError::syntax(
                at,
                format!("expected a layer name, found `{}`", token.text()),
            ));
        };
        let kind_name = word.to_ascii_lowercase();
        let kind = if kind_name == "residual" {
            if depth + 1 > MAX_DEPTH {
                return Err(SpecError::syntax(
                    at,
                    format!("residual blocks nest at most {MAX_DEPTH} deep"),
                ));
            }
            self.expect(Tok::Open, at)?;
            let body = self.layers(prefix, depth + 1)?;
            let downsample = if self.peek().is_some_and(|t| t.tok == Tok::Bar) {
                self.next();
                Some(self.layers(&format!("{prefix}downsample."), depth + 1)?)
            } else {
                None
            };
            self.expect(Tok::Close, at)?;
            if body.is_empty() {
                return Err(SpecError::syntax(at, "a residual block needs at least one layer"));
            }
            LayerSpec::Residual { body, downsample }
        } else {
            let args = if self.peek().is_some_and(|t| t.tok == Tok::Open) {
                self.args(at)?
            } else {
                Args {
                    positional: Vec::new(),
                    options: Vec::new(),
                }
            };
            interpret(&kind_name, &word, args).map_err(|reason| SpecError::syntax(at, reason))?
        };
        let name = if self.peek().is_some_and(|t| t.tok == Tok::Word("as".into())) {
            self.next();
            match self.next() {
                Some(Token {
                    tok: Tok::Word(name), ..
                }) if is_identifier(&name) => Some(name),
                Some(t) => {
                    return Err(SpecError::syntax(
                        at,
                        format!(
                            "`as {}`: a layer name is letters, digits and `_`, not starting with a digit",
                            t.text()
                        ),
                    ))
                }
                None => return Err(SpecError::syntax(at, "`as` needs a name after it")),
            }
        } else {
            None
        };
        Ok(Layer { kind, name })
    }

    fn args(&mut self, at: &str) -> Result<Args, SpecError> {
        self.expect(Tok::Open, at)?;
        let mut args = Args {
            positional: Vec::new(),
            options: Vec::new(),
        };
        if self.peek().is_some_and(|t| t.tok == Tok::Close) {
            self.next();
            return Ok(args);
        }
        loop {
            let value = match self.next() {
                Some(Token { tok: Tok::Word(w), .. }) => w,
                Some(t) => {
                    return Err(SpecError::syntax(
                        at,
                        format!("expected an argument at byte {}, found `{}`", t.offset, t.text()),
                    ))
                }
                None => return Err(SpecError::syntax(at, "the argument list is not closed with `)`")),
            };
            if self.peek().is_some_and(|t| t.tok == Tok::Equals) {
                self.next();
                match self.next() {
                    Some(Token { tok: Tok::Word(v), .. }) => args.options.push((value.to_ascii_lowercase(), v)),
                    _ => return Err(SpecError::syntax(at, format!("option `{value}=` needs a value"))),
                }
            } else if !args.options.is_empty() {
                return Err(SpecError::syntax(
                    at,
                    format!("positional argument `{value}` after a `key=value` option"),
                ));
            } else {
                args.positional.push(value);
            }
            match self.next() {
                Some(Token { tok: Tok::Comma, .. }) => continue,
                Some(Token { tok: Tok::Close, .. }) => return Ok(args),
                Some(t) => {
                    return Err(SpecError::syntax(
                        at,
                        format!("expected `,` or `)` at byte {}, found `{}`", t.offset, t.text()),
                    ))
                }
                None => return Err(SpecError::syntax(at, "the argument list is not closed with `)`")),
            }
        }
    }
}

/// Whether `name` can name a layer (it becomes a `state_dict` key component).
pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 64
}

fn whole(what: &str, v: &str) -> Result<usize, String> {
    v.parse::<usize>()
        .map_err(|_| format!("{what} must be a whole number, got `{v}`"))
}

fn positive(what: &str, v: &str) -> Result<usize, String> {
    match whole(what, v)? {
        0 => Err(format!("{what} must be at least 1, got 0")),
        n => Ok(n),
    }
}

fn size2(what: &str, v: &str, min: usize) -> Result<Size2, String> {
    let (h, w) = match v.split_once(['x', 'X']) {
        Some((h, w)) => (whole(what, h)?, whole(what, w)?),
        None => {
            let n = whole(what, v)?;
            (n, n)
        }
    };
    if h < min || w < min {
        return Err(format!("{what} must be at least {min}, got `{v}`"));
    }
    Ok(Size2(h, w))
}

fn float(what: &str, v: &str) -> Result<f32, String> {
    v.parse::<f32>()
        .ok()
        .filter(|x| x.is_finite())
        .ok_or_else(|| format!("{what} must be a number, got `{v}`"))
}

fn probability(what: &str, v: &str) -> Result<f32, String> {
    let p = float(what, v)?;
    if (0.0..1.0).contains(&p) {
        Ok(p)
    } else {
        Err(format!("{what} must be in [0, 1), got {v}"))
    }
}

fn boolean(what: &str, v: &str) -> Result<bool, String> {
    match v.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!("{what} must be true or false, got `{v}`")),
    }
}

impl Args {
    /// Fails on options not in `known` and on more than `max` positional values.
    fn check(&self, kind: &str, max: usize, known: &[&str]) -> Result<(), String> {
        if self.positional.len() > max {
            return Err(format!(
                "{kind} takes at most {max} positional argument{}, got {}",
                if max == 1 { "" } else { "s" },
                self.positional.len()
            ));
        }
        for (i, (k, _)) in self.options.iter().enumerate() {
            if !known.contains(&k.as_str()) {
                return Err(if known.is_empty() {
                    format!("{kind} takes no option, got `{k}`")
                } else {
                    format!("{kind} has no option `{k}`; expected one of {}", known.join(", "))
                });
            }
            if self.options[..i].iter().any(|(k2, _)| k2 == k) {
                return Err(format!("option `{k}` given twice"));
            }
        }
        Ok(())
    }

    fn option(&self, key: &str) -> Option<&str> {
        self.options.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

fn padding(v: &str) -> Result<Padding, String> {
    match v.to_ascii_lowercase().as_str() {
        "same" => Ok(Padding::Same),
        "valid" => Ok(Padding::Explicit(Size2(0, 0))),
        _ => Ok(Padding::Explicit(size2("padding", v, 0)?)),
    }
}

fn activation(v: &str, slope: Option<&str>) -> Result<Activation, String> {
    let a = v.parse::<Activation>().map_err(|e| e.to_string())?;
    match (a, slope) {
        (Activation::LeakyRelu(_), Some(s)) => Ok(Activation::LeakyRelu(float("slope", s)?)),
        (_, Some(_)) => Err(format!("option `slope` applies to leaky_relu only, not {v}")),
        (a, None) => Ok(a),
    }
}

/// Builds the layer `kind` from its arguments (`word` is the kind as written).
fn interpret(kind: &str, word: &str, args: Args) -> Result<LayerSpec, String> {
    let p = &args.positional;
    let none = |known: &[&str]| args.check(kind, 0, known);
    let spec = match kind {
        "linear" => {
            args.check(kind, 2, &["bias"])?;
            let (in_features, out) = match p.as_slice() {
                [out] => (None, out),
                [i, out] => (Some(positive("in_features", i)?), out),
                _ => return Err("linear needs out_features: linear(OUT) or linear(IN, OUT)".into()),
            };
            LayerSpec::Linear {
                in_features,
                out_features: positive("out_features", out)?,
                bias: args
                    .option("bias")
                    .map(|v| boolean("bias", v))
                    .transpose()?
                    .unwrap_or(true),
            }
        }
        "dense" => {
            args.check(kind, 2, &["activation", "use_bias", "bias", "slope"])?;
            let units = p
                .first()
                .ok_or("dense needs units: dense(UNITS) or dense(UNITS, ACTIVATION)")?;
            let act = match (p.get(1).map(String::as_str), args.option("activation")) {
                (Some(_), Some(_)) => return Err("the activation is given twice".into()),
                (Some(a), None) | (None, Some(a)) => activation(a, args.option("slope"))?,
                (None, None) => Activation::Linear,
            };
            let use_bias = match (args.option("use_bias"), args.option("bias")) {
                (Some(_), Some(_)) => return Err("give use_bias or bias, not both".into()),
                (Some(v), None) | (None, Some(v)) => boolean("use_bias", v)?,
                (None, None) => true,
            };
            LayerSpec::Dense {
                units: positive("units", units)?,
                activation: act,
                use_bias,
            }
        }
        "conv2d" => {
            args.check(kind, 3, &["stride", "padding", "dilation", "groups", "bias"])?;
            let (in_channels, out, k) = match p.as_slice() {
                [out, k] => (None, out, k),
                [i, out, k] => (Some(positive("in_channels", i)?), out, k),
                _ => {
                    return Err(
                        "conv2d needs out_channels and kernel_size: conv2d(OUT, K) or conv2d(IN, OUT, K)".into(),
                    )
                }
            };
            LayerSpec::Conv2d {
                in_channels,
                out_channels: positive("out_channels", out)?,
                kernel_size: size2("kernel_size", k, 1)?,
                stride: args
                    .option("stride")
                    .map(|v| size2("stride", v, 1))
                    .transpose()?
                    .unwrap_or(Size2(1, 1)),
                padding: args
                    .option("padding")
                    .map(padding)
                    .transpose()?
                    .unwrap_or(Padding::Explicit(Size2(0, 0))),
                dilation: args
                    .option("dilation")
                    .map(|v| size2("dilation", v, 1))
                    .transpose()?
                    .unwrap_or(Size2(1, 1)),
                groups: args
                    .option("groups")
                    .map(|v| positive("groups", v))
                    .transpose()?
                    .unwrap_or(1),
                bias: args
                    .option("bias")
                    .map(|v| boolean("bias", v))
                    .transpose()?
                    .unwrap_or(true),
            }
        }
        "maxpool2d" | "avgpool2d" => {
            args.check(kind, 1, &["stride", "padding"])?;
            let k = size2(
                "kernel_size",
                p.first()
                    .ok_or_else(|| format!("{kind} needs a kernel size: {kind}(K)"))?,
                1,
            )?;
            let stride = args
                .option("stride")
                .map(|v| size2("stride", v, 1))
                .transpose()?
                .unwrap_or(k);
            let padding = args
                .option("padding")
                .map(|v| size2("padding", v, 0))
                .transpose()?
                .unwrap_or(Size2(0, 0));
            LayerSpec::pool2d(kind == "maxpool2d", k, stride, padding)
        }
        "adaptiveavgpool2d" => {
            args.check(kind, 1, &[])?;
            let out = p
                .first()
                .ok_or("adaptiveavgpool2d needs an output size: adaptiveavgpool2d(1)")?;
            LayerSpec::AdaptiveAvgPool2d {
                output_size: size2("output_size", out, 1)?,
            }
        }
        "globalavgpool2d" => {
            none(&[])?;
            LayerSpec::GlobalAvgPool2d
        }
        "batchnorm1d" | "batchnorm2d" => {
            none(&["eps", "momentum"])?;
            let eps = args
                .option("eps")
                .map(|v| float("eps", v))
                .transpose()?
                .unwrap_or(BATCH_NORM_EPS);
            let momentum = args
                .option("momentum")
                .map(|v| probability("momentum", v))
                .transpose()?
                .unwrap_or(BATCH_NORM_MOMENTUM);
            if eps <= 0.0 {
                return Err(format!("eps must be positive, got {eps}"));
            }
            if kind == "batchnorm1d" {
                LayerSpec::BatchNorm1d { eps, momentum }
            } else {
                LayerSpec::BatchNorm2d { eps, momentum }
            }
        }
        "layernorm" => {
            none(&["dims", "eps"])?;
            let eps = args
                .option("eps")
                .map(|v| float("eps", v))
                .transpose()?
                .unwrap_or(LAYER_NORM_EPS);
            if eps <= 0.0 {
                return Err(format!("eps must be positive, got {eps}"));
            }
            LayerSpec::LayerNorm {
                dims: args
                    .option("dims")
                    .map(|v| positive("dims", v))
                    .transpose()?
                    .unwrap_or(1),
                eps,
            }
        }
        "dropout" | "dropout2d" => {
            args.check(kind, 1, &["p"])?;
            let p = match (p.first().map(String::as_str), args.option("p")) {
                (Some(_), Some(_)) => return Err("the probability is given twice".into()),
                (Some(v), None) | (None, Some(v)) => probability("p", v)?,
                (None, None) => 0.5,
            };
            if kind == "dropout" {
                LayerSpec::Dropout { p }
            } else {
                LayerSpec::Dropout2d { p }
            }
        }
        "flatten" => {
            none(&[])?;
            LayerSpec::Flatten
        }
        "leaky_relu" | "leakyrelu" => {
            args.check(kind, 1, &["negative_slope", "slope"])?;
            let slope = match (
                p.first().map(String::as_str),
                args.option("negative_slope").or(args.option("slope")),
            ) {
                (Some(_), Some(_)) => return Err("the slope is given twice".into()),
                (Some(v), None) | (None, Some(v)) => float("negative_slope", v)?,
                (None, None) => 0.01,
            };
            LayerSpec::Activation(Activation::LeakyRelu(slope))
        }
        "relu" | "sigmoid" | "tanh" | "gelu" | "softmax" | "identity" => {
            none(&[])?;
            LayerSpec::Activation(if kind == "identity" {
                Activation::Linear
            } else {
                kind.parse::<Activation>().map_err(|e| e.to_string())?
            })
        }
        _ => return Err(format!("unknown layer `{word}`; expected one of {KINDS}")),
    };
    Ok(spec)
}

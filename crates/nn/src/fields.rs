//! What a field of a `#[derive(Module)]` struct may be: [`ModuleField`] (parameters,
//! sub-modules, and `Vec`s and `Option`s of them) and [`ModuleBuffer`] (`#[module(buffer)]`
//! fields). The derive calls these once per field with the field's name; they give PyTorch's
//! names (`conv1.weight`, `blocks.0.conv.weight`; a `None` adds nothing).

use neurite_tensor::Tensor;

use crate::module::{describe_children, prefixed, Module};

/// A field that holds parameters or sub-modules: a [`Tensor`] (one trainable parameter), any
/// [`Module`] (including [`crate::Sequential`] and `Box<dyn Module>`), or a `Vec` or `Option`
/// of those.
pub trait ModuleField {
    /// Appends the field's parameters, named under `name`.
    fn field_parameters(&self, name: &str, out: &mut Vec<(String, Tensor)>);
    /// Appends the field's buffers, named under `name`.
    fn field_buffers(&self, name: &str, out: &mut Vec<(String, Tensor)>);
    /// Forwards train/eval mode to the sub-modules in the field.
    fn field_set_training(&mut self, training: bool);
    /// Appends `(name, description)` for each sub-module in the field (parameters are not
    /// listed, as in PyTorch's repr).
    fn field_describe(&self, name: &str, out: &mut Vec<(String, String)>);
}

impl ModuleField for Tensor {
    fn field_parameters(&self, name: &str, out: &mut Vec<(String, Tensor)>) {
        out.push((name.to_string(), self.clone()));
    }
    fn field_buffers(&self, _name: &str, _out: &mut Vec<(String, Tensor)>) {}
    fn field_set_training(&mut self, _training: bool) {}
    fn field_describe(&self, _name: &str, _out: &mut Vec<(String, String)>) {}
}

impl<M: Module> ModuleField for M {
    fn field_parameters(&self, name: &str, out: &mut Vec<(String, Tensor)>) {
        out.extend(prefixed(name, self.named_parameters()));
    }
    fn field_buffers(&self, name: &str, out: &mut Vec<(String, Tensor)>) {
        out.extend(prefixed(name, self.named_buffers()));
    }
    fn field_set_training(&mut self, training: bool) {
        self.set_training(training);
    }
    fn field_describe(&self, name: &str, out: &mut Vec<(String, String)>) {
        out.push((name.to_string(), self.describe()));
    }
}

/// `Some` as its content under the same name; `None` adds nothing.
impl<T: ModuleField> ModuleField for Option<T> {
    fn field_parameters(&self, name: &str, out: &mut Vec<(String, Tensor)>) {
        if let Some(t) = self {
            t.field_parameters(name, out);
        }
    }
    fn field_buffers(&self, name: &str, out: &mut Vec<(String, Tensor)>) {
        if let Some(t) = self {
            t.field_buffers(name, out);
        }
    }
    fn field_set_training(&mut self, training: bool) {
        if let Some(t) = self {
            t.field_set_training(training);
        }
    }
    fn field_describe(&self, name: &str, out: &mut Vec<(String, String)>) {
        if let Some(t) = self {
            t.field_describe(name, out);
        }
    }
}

/// Element `i` under `name.i` (PyTorch's `nn.ModuleList` / `nn.ParameterList`); sub-modules
/// are described inside a `ModuleList(...)`.
impl<T: ModuleField> ModuleField for Vec<T> {
    fn field_parameters(&self, name: &str, out: &mut Vec<(String, Tensor)>) {
        for (i, t) in self.iter().enumerate() {
            t.field_parameters(&format!("{name}.{i}"), out);
        }
    }
    fn field_buffers(&self, name: &str, out: &mut Vec<(String, Tensor)>) {
        for (i, t) in self.iter().enumerate() {
            t.field_buffers(&format!("{name}.{i}"), out);
        }
    }
    fn field_set_training(&mut self, training: bool) {
        for t in self {
            t.field_set_training(training);
        }
    }
    fn field_describe(&self, name: &str, out: &mut Vec<(String, String)>) {
        let mut children = Vec::new();
        for (i, t) in self.iter().enumerate() {
            t.field_describe(&i.to_string(), &mut children);
        }
        if !children.is_empty() {
            out.push((name.to_string(), describe_children("ModuleList", children)));
        }
    }
}

/// A `#[module(buffer)]` field: a [`Tensor`], or a `Vec` or `Option` of them, saved with the
/// model but not trained.
pub trait ModuleBuffer {
    /// Appends the field's tensors, named under `name`.
    fn field_buffers(&self, name: &str, out: &mut Vec<(String, Tensor)>);
}

impl ModuleBuffer for Tensor {
    fn field_buffers(&self, name: &str, out: &mut Vec<(String, Tensor)>) {
        out.push((name.to_string(), self.clone()));
    }
}

impl<T: ModuleBuffer> ModuleBuffer for Option<T> {
    fn field_buffers(&self, name: &str, out: &mut Vec<(String, Tensor)>) {
        if let Some(t) = self {
            t.field_buffers(name, out);
        }
    }
}

impl<T: ModuleBuffer> ModuleBuffer for Vec<T> {
    fn field_buffers(&self, name: &str, out: &mut Vec<(String, Tensor)>) {
        for (i, t) in self.iter().enumerate() {
            t.field_buffers(&format!("{name}.{i}"), out);
        }
    }
}

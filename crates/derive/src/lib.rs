//! # neurite-derive
//!
//! `#[derive(Module)]` for neurite: from a struct's fields it writes `impl neurite_nn::Module`
//! (PyTorch `state_dict` names for parameters and buffers, train/eval forwarded to every
//! sub-module, a PyTorch-style `describe`), and the user writes only an inherent
//! `fn forward(&mut self, input: &Tensor) -> Tensor`. Use it through its re-export,
//! `neurite_nn::Module`; the documentation with examples is there.

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{parse_macro_input, Data, DeriveInput, Fields, LitStr};

/// Writes `impl neurite_nn::Module` for a struct with named fields; see `neurite_nn::Module`.
///
/// Field attributes: `#[module(buffer)]` (a non-trainable `Tensor`, `Option<Tensor>` or
/// `Vec<Tensor>` saved with the model), `#[module(skip)]` (plain configuration, e.g. a stride).
/// Container attribute: `#[module(crate = "path")]`, the path to `neurite_nn` when it is not
/// a direct dependency (e.g. `#[module(crate = "neurite::nn")]` through the facade).
#[proc_macro_derive(Module, attributes(module))]
pub fn derive_module(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand(&input).unwrap_or_else(syn::Error::into_compile_error).into()
}

/// What a field is to the derived `Module`.
enum Role {
    /// A parameter, a sub-module, or a `Vec`/`Option` of them (`neurite_nn::ModuleField`).
    Part,
    /// `#[module(buffer)]`.
    Buffer,
    /// `#[module(skip)]`.
    Skip,
}

fn expand(input: &DeriveInput) -> syn::Result<TokenStream2> {
    let krate = crate_path(input)?;
    let fields = match &input.data {
        Data::Struct(s) => match &s.fields {
            Fields::Named(named) => named.named.iter().collect::<Vec<_>>(),
            Fields::Unit => Vec::new(),
            Fields::Unnamed(_) => {
                return Err(syn::Error::new(
                    input.ident.span(),
                    "#[derive(Module)] needs named fields (they become the parameter names); \
                     tuple structs are not supported",
                ))
            }
        },
        Data::Enum(e) => {
            return Err(syn::Error::new(
                e.enum_token.span(),
                "#[derive(Module)] supports structs with named fields, not enums",
            ))
        }
        Data::Union(u) => {
            return Err(syn::Error::new(
                u.union_token.span(),
                "#[derive(Module)] supports structs with named fields, not unions",
            ))
        }
    };

    let (mut params, mut buffers, mut training, mut describe) = (vec![], vec![], vec![], vec![]);
    for field in fields {
        let ident = field.ident.as_ref().expect("named field");
        let name = ident.to_string();
        let span = field.ty.span();
        match field_role(field)? {
            Role::Skip => {}
            Role::Buffer => buffers.push(quote_spanned! {span=>
                #krate::ModuleBuffer::field_buffers(&self.#ident, #name, &mut out);
            }),
            Role::Part => {
                params.push(quote_spanned! {span=>
                    #krate::ModuleField::field_parameters(&self.#ident, #name, &mut out);
                });
                buffers.push(quote_spanned! {span=>
                    #krate::ModuleField::field_buffers(&self.#ident, #name, &mut out);
                });
                training.push(quote_spanned! {span=>
                    #krate::ModuleField::field_set_training(&mut self.#ident, training);
                });
                describe.push(quote_spanned! {span=>
                    #krate::ModuleField::field_describe(&self.#ident, #name, &mut children);
                });
            }
        }
    }

    let ty = &input.ident;
    let type_name = ty.to_string();
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let tensor = quote!(#krate::__derive::Tensor);
    // The user's inherent `forward`. Inherent methods win over trait methods, so this calls
    // the user's; without one it would name this very method, which the denied lint turns
    // into a compile error ("function cannot return without recursing") instead of a stack
    // overflow at run time.
    let forward = quote_spanned! {ty.span()=>
        #[deny(unconditional_recursion)]
        fn forward(&mut self, input: &#tensor) -> #tensor {
            <#ty #ty_generics>::forward(self, input)
        }
    };
    Ok(quote! {
        impl #impl_generics #krate::Module for #ty #ty_generics #where_clause {
            #forward

            fn named_parameters(&self) -> ::std::vec::Vec<(::std::string::String, #tensor)> {
                let mut out = ::std::vec::Vec::new();
                #(#params)*
                out
            }

            fn named_buffers(&self) -> ::std::vec::Vec<(::std::string::String, #tensor)> {
                let mut out = ::std::vec::Vec::new();
                #(#buffers)*
                out
            }

            #[allow(unused_variables)]
            fn set_training(&mut self, training: bool) {
                #(#training)*
            }

            fn describe(&self) -> ::std::string::String {
                let mut children = ::std::vec::Vec::new();
                #(#describe)*
                #krate::module::describe_children(#type_name, children)
            }
        }
    })
}

/// `#[module(crate = "...")]` on the struct, else `::neurite_nn`.
fn crate_path(input: &DeriveInput) -> syn::Result<TokenStream2> {
    let mut path = quote!(::neurite_nn);
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("module")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("crate") {
                let lit: LitStr = meta.value()?.parse()?;
                let parsed: syn::Path = lit.parse()?;
                path = quote!(#parsed);
                Ok(())
            } else {
                Err(meta.error("unknown #[module(...)] option on a struct: expected `crate = \"path\"`"))
            }
        })?;
    }
    Ok(path)
}

/// The field's `#[module(buffer)]` / `#[module(skip)]` attribute, if any.
fn field_role(field: &syn::Field) -> syn::Result<Role> {
    let mut role = Role::Part;
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("module")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("buffer") {
                role = Role::Buffer;
                Ok(())
            } else if meta.path.is_ident("skip") {
                role = Role::Skip;
                Ok(())
            } else {
                Err(meta.error("unknown #[module(...)] option on a field: expected `buffer` or `skip`"))
            }
        })?;
    }
    Ok(role)
}

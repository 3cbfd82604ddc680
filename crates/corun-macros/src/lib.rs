//! `#[corun::main]`, re-exported by the `corun` crate (its `macros`
//! feature): an `async fn main` run on `corun::asyncio`'s event loop, after
//! `corun::multiprocessing::init()`. Use it through `corun`, not this crate.

#![forbid(unsafe_code)]

use proc_macro::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Error, ItemFn, ReturnType, parse_macro_input};

/// Runs an `async fn main` on a new `corun::asyncio` event loop (Python:
/// `asyncio.run(main())` under `if __name__ == "__main__":`).
///
/// The function becomes a plain `fn main` that first calls
/// `corun::multiprocessing::init()` (when the `multiprocessing` feature is
/// on), so a worker process started from this binary serves its parent and
/// never runs the body; then runs the body with `corun::asyncio::run`,
/// which cancels the tasks left behind and closes the loop (and its
/// default executor) before `main` returns. A panic in the body is
/// `main`'s panic (exit code 101). `main` may return what a plain `main`
/// returns, a `Result` say.
///
/// It refuses, at compile time and saying why, a function that is not
/// `async`, that takes arguments (read them with `std::env::args()`,
/// after `init`) or that is generic. See the `corun` crate's docs for
/// examples.
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    let args = proc_macro2::TokenStream::from(args);
    let input = parse_macro_input!(item as ItemFn);
    let mut errors: Option<Error> = None;
    let mut refuse = |error: Error| match &mut errors {
        Some(errors) => errors.combine(error),
        None => errors = Some(error),
    };
    if !args.is_empty() {
        refuse(Error::new(args.span(), "#[corun::main] takes no arguments"));
    }
    let sig = &input.sig;
    if sig.asyncness.is_none() {
        refuse(Error::new(
            sig.fn_token.span,
            "#[corun::main] runs an `async fn`: write `async fn main()`",
        ));
    }
    if !sig.inputs.is_empty() {
        refuse(Error::new(
            sig.inputs.span(),
            "#[corun::main] takes a function without arguments: read them with \
             `std::env::args()` in its body",
        ));
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        refuse(Error::new(
            sig.generics.span(),
            "#[corun::main] takes a function that is not generic",
        ));
    }
    if let Some(errors) = errors {
        // The function as written too, so the errors above are not buried
        // under "`main` function not found".
        let errors = errors.to_compile_error();
        return quote! { #errors #input }.into();
    }

    let ItemFn {
        attrs,
        vis,
        sig,
        block,
    } = input;
    let ident = &sig.ident;
    let output = &sig.output;
    let returns = match output {
        ReturnType::Default => quote! { () },
        ReturnType::Type(_, ty) => quote! { #ty },
    };
    // The explicit `dyn Future<Output = …>` lets `?` in the body infer its
    // error type from the declared return type.
    let body = quote_spanned! {block.span()=>
        let body: ::std::pin::Pin<
            ::std::boxed::Box<dyn ::std::future::Future<Output = #returns>>,
        > = ::std::boxed::Box::pin(async move #block);
    };
    quote! {
        #(#attrs)*
        #vis fn #ident() #output {
            ::corun::__private::main_prologue();
            #body
            ::corun::__private::block_on(body)
        }
    }
    .into()
}

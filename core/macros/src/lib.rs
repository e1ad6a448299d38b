//! Attribute macros for [torchlight](https://docs.rs/torchlight): the Rust form of
//! `prometheus_async`'s `@time`, `@count_exceptions` and `@track_inprogress` decorators.
//!
//! Use them through `torchlight` with its `macros` feature (`torchlight::timed` and so
//! on). Each rewrites an `async fn`'s body into the matching wrapper of
//! `torchlight::Instrument`, so the semantics are exactly those of `Timed`,
//! `CountErrors` and `TrackInProgress` (work starts at the first poll; drop and panic
//! end the measurement exactly once). The signature, documentation and other attributes
//! stay as written.
//!
//! ```
//! use torchlight::{Counter, Gauge, Histogram, Metric};
//!
//! static REQ_TIME: Metric<Histogram> =
//!     Metric::new("req_time_seconds", "Time spent in requests.", Histogram::new());
//! static ERRORS: Metric<Counter> = Metric::new("req_errors", "Failed requests.", Counter::new());
//! static IN_FLIGHT: Metric<Gauge> = Metric::new("in_flight", "Requests in flight.", Gauge::new());
//!
//! /// Looks a user up.
//! #[torchlight::timed(REQ_TIME)]
//! #[torchlight::count_errors(ERRORS)]
//! #[torchlight::track_in_progress(IN_FLIGHT)]
//! async fn lookup(id: u32) -> Result<String, String> {
//!     if id == 0 { return Err("no such user".into()); }
//!     Ok(format!("user {id}"))
//! }
//!
//! # fn block_on<F: core::future::Future>(f: F) -> F::Output { let mut f = core::pin::pin!(f); let mut cx = core::task::Context::from_waker(core::task::Waker::noop()); loop { if let core::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } } }
//! assert_eq!(block_on(lookup(7)).as_deref(), Ok("user 7"));
//! assert!(block_on(lookup(0)).is_err());
//! assert_eq!(REQ_TIME.snapshot().count(), 2);
//! assert_eq!(ERRORS.get(), 1);
//! assert_eq!(IN_FLIGHT.get(), 0);
//! ```
//!
//! # Arguments
//!
//! The first argument is an expression naming the metric; the macro borrows it
//! (`&REQ_TIME`), so a `static`, a labelled child (`REQ_TIME.get(Labels { .. })`) or
//! anything implementing `Observe` / `Inc` / `IncDec` works. It is evaluated once per
//! call, when the call's future is first polled and before the body runs, so it may use
//! the arguments (`#[timed(REQ_TIME.get(Labels { method }))] async fn handle(method:
//! Method)`). Options follow as `name = expression`:
//!
//! - `#[timed(METRIC, clock = CLOCK)]`: read time from `CLOCK` (any `torchlight::Clock`,
//!   passed by value: write `&CLOCK` for a `static` `ManualClock`) instead of
//!   `StdClock`; required without the `std` feature.
//! - `#[count_errors(METRIC, filter = |e| ...)]`: count only the errors the closure
//!   accepts (`Instrument::count_errors_if`).
//! - `#[count_errors(METRIC, cancellation = true)]`: count a cancellation (the future
//!   dropped before it finished) as an error too (`CountErrors::count_cancellation`);
//!   combines with `filter`.
//! - `#[timed(METRIC, exemplar = || LABELS)]` and `#[count_errors(METRIC, exemplar = ||
//!   LABELS)]`: record, with each observation or count, the labels the closure returns
//!   when the call ends (usually the current trace id) as its exemplar
//!   (`Timed::exemplar`, `CountErrors::exemplar`); the metric must keep exemplars
//!   (`ExemplarHistogram`, `ExemplarCounter`).
//!
//! # Stacking
//!
//! The attributes stack. Each one wraps the body as left by the attributes below it, so
//! the attribute *nearest* the `fn` is the *outermost* wrapper. As all three start at
//! the first poll and end on completion or drop, the order shows only in the
//! nanoseconds the wrappers themselves take.
//!
//! The generated code names the crate `::torchlight`; a renamed dependency is not
//! supported.
#![forbid(unsafe_code)]

use proc_macro::TokenStream;
use proc_macro2::{Ident, Span, TokenStream as TokenStream2};
use quote::{ToTokens, quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{Expr, ItemFn, ReturnType, Token, Type};

/// Times an `async fn`: observes, in seconds, how long each call's future runs from its
/// first poll until it completes, fails, or is dropped (`Instrument::time`).
///
/// `#[timed(METRIC)]` or `#[timed(METRIC, clock = CLOCK)]`; see the
/// [crate documentation](crate).
#[proc_macro_attribute]
pub fn timed(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(Kind::Timed, args.into(), item.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Counts an `async fn`'s errors: increments the counter for each `Err` it returns (or
/// each one `filter` accepts) and for each panic in its body (`Instrument::count_errors`).
///
/// `#[count_errors(METRIC)]`, with `filter = |e| ...` to count only some errors and
/// `cancellation = true` to count a call dropped before it finished; see the
/// [crate documentation](crate).
#[proc_macro_attribute]
pub fn count_errors(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(Kind::CountErrors, args.into(), item.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Tracks an `async fn`'s calls in progress: increments the gauge when a call's future
/// is first polled and decrements it exactly once when it completes, fails, or is
/// dropped (`Instrument::track_in_progress`).
///
/// `#[track_in_progress(METRIC)]`; see the [crate documentation](crate).
#[proc_macro_attribute]
pub fn track_in_progress(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(Kind::TrackInProgress, args.into(), item.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Which wrapper an attribute applies.
#[derive(Clone, Copy)]
enum Kind {
    Timed,
    CountErrors,
    TrackInProgress,
}

impl Kind {
    fn attribute(self) -> &'static str {
        match self {
            Self::Timed => "timed",
            Self::CountErrors => "count_errors",
            Self::TrackInProgress => "track_in_progress",
        }
    }

    /// The `name = value` options the attribute takes.
    fn options(self) -> &'static [&'static str] {
        match self {
            Self::Timed => &["clock", "exemplar"],
            Self::CountErrors => &["filter", "cancellation", "exemplar"],
            Self::TrackInProgress => &[],
        }
    }

    /// The `Instrument` method that wraps a future the same way.
    fn method(self) -> &'static str {
        match self {
            Self::Timed => "time",
            Self::CountErrors => "count_errors",
            Self::TrackInProgress => "track_in_progress",
        }
    }
}

/// `METRIC` followed by optional `name = expression` pairs.
struct Args {
    metric: Expr,
    options: Vec<(syn::Ident, Expr)>,
}

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.is_empty() {
            return Err(input.error("expected the metric to update, e.g. `(REQ_TIME)`"));
        }
        let metric = input.parse()?;
        let mut options = Vec::new();
        while !input.is_empty() {
            input.parse::<Token![,]>()?;
            if input.is_empty() {
                break;
            }
            let name: syn::Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            options.push((name, input.parse()?));
        }
        Ok(Self { metric, options })
    }
}

fn expand(kind: Kind, args: TokenStream2, item: TokenStream2) -> syn::Result<TokenStream2> {
    let mut function: ItemFn = syn::parse2(item)?;
    let attribute = kind.attribute();
    if function.sig.asyncness.is_none() {
        return Err(syn::Error::new_spanned(
            function.sig.fn_token,
            format!(
                "`#[torchlight::{attribute}]` works on `async fn` only; \
                 for a function that returns a future, wrap the future instead: \
                 `fut.{method}(&METRIC)`",
                method = kind.method(),
            ),
        ));
    }
    let args: Args = syn::parse2(args).map_err(|error| {
        syn::Error::new(
            error.span(),
            format!(
                "{error}; usage: `#[torchlight::{attribute}(METRIC{})]`",
                usage_option(kind)
            ),
        )
    })?;

    let expected = kind.options();
    let mut given: Vec<(syn::Ident, Expr)> = Vec::new();
    for (name, value) in args.options {
        if given.iter().any(|(seen, _)| *seen == name) {
            let message = format!("`{name}` is given twice");
            return Err(syn::Error::new_spanned(name, message));
        }
        if !expected.iter().any(|option| name == option) {
            let takes = match expected {
                [] => "only the metric".to_owned(),
                [first, rest @ ..] => {
                    let quoted = |option: &str| format!("`{option} = ...`");
                    match rest.split_last() {
                        None => quoted(first),
                        Some((last, middle)) => {
                            let mut list = quoted(first);
                            for option in middle {
                                list.push_str(", ");
                                list.push_str(&quoted(option));
                            }
                            format!("{list} and {}", quoted(last))
                        }
                    }
                }
            };
            return Err(syn::Error::new_spanned(
                &name,
                format!("unknown option `{name}`; `#[torchlight::{attribute}]` takes {takes}"),
            ));
        }
        given.push((name, value));
    }
    let option = |wanted: &str| {
        given
            .iter()
            .find(|(name, _)| name == wanted)
            .map(|(_, value)| value)
    };

    // The metric is chosen before the body runs (at the first poll), so it may depend
    // on the arguments: `#[timed(REQ_TIME.get(Labels { method }))]`.
    let expression = args.metric;
    let metric = Ident::new("__torchlight_metric", Span::mixed_site());
    let bind_metric = quote_spanned!(expression.span()=> let #metric = &(#expression););
    let body = &function.block;
    let inner = typed_async_block(&function.sig.output, body.to_token_stream());
    let wrapped = match kind {
        Kind::Timed => match option("clock") {
            // `StdClock`, or, where torchlight is built without `std`, an error that
            // asks for the `clock` option: only torchlight knows its features.
            None => quote!(::torchlight::Instrument::time_with(
                #inner,
                #metric,
                ::torchlight::__private::default_clock!(#expression),
            )),
            Some(clock) => quote!(::torchlight::Instrument::time_with(#inner, #metric, #clock)),
        },
        Kind::CountErrors => {
            let counted = match option("filter") {
                None => quote!(::torchlight::Instrument::count_errors(#inner, #metric)),
                Some(filter) => {
                    quote!(::torchlight::Instrument::count_errors_if(#inner, #metric, #filter))
                }
            };
            match option("cancellation") {
                None => counted,
                // `CountErrors::count_cancellation` when the expression is true.
                Some(cancellation) => quote!({
                    let counted = #counted;
                    if #cancellation { counted.count_cancellation() } else { counted }
                }),
            }
        }
        Kind::TrackInProgress => {
            quote!(::torchlight::Instrument::track_in_progress(#inner, #metric))
        }
    };
    // `Timed::exemplar` / `CountErrors::exemplar`: the labels at completion.
    let wrapped = match option("exemplar") {
        None => wrapped,
        Some(source) => quote!((#wrapped).exemplar(#source)),
    };
    function.block = Box::new(syn::parse_quote!({
        #bind_metric
        #wrapped.await
    }));
    Ok(function.into_token_stream())
}

fn usage_option(kind: Kind) -> &'static str {
    match kind {
        Kind::Timed => "[, clock = CLOCK][, exemplar = || LABELS]",
        Kind::CountErrors => {
            "[, filter = |error| ...][, cancellation = true][, exemplar = || LABELS]"
        }
        Kind::TrackInProgress => "",
    }
}

/// `async move { body }`, told its output type up front when the signature names one, so
/// `?` and `.into()` in the body infer as they do in the original `async fn`.
fn typed_async_block(output: &ReturnType, body: TokenStream2) -> TokenStream2 {
    let block = quote!(async move #body);
    match output {
        ReturnType::Default => quote!(::torchlight::__private::output::<(), _>(#block)),
        ReturnType::Type(_, ty) if !contains_impl_trait(ty) => {
            quote!(::torchlight::__private::output::<#ty, _>(#block))
        }
        // `impl Trait` cannot be named inside the body; inference carries it instead.
        ReturnType::Type(..) => block,
    }
}

fn contains_impl_trait(ty: &Type) -> bool {
    struct Finder(bool);
    impl<'ast> syn::visit::Visit<'ast> for Finder {
        fn visit_type_impl_trait(&mut self, _: &'ast syn::TypeImplTrait) {
            self.0 = true;
        }
    }
    let mut finder = Finder(false);
    syn::visit::visit_type(&mut finder, ty);
    finder.0
}

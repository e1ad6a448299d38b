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
//! Each attribute's page ([`timed`], [`count_errors`], [`track_in_progress`]) says what
//! it does, what the metric argument may be, and shows each of its options (`clock`,
//! `filter`, `cancellation`, `exemplar`) in an example; torchlight's documentation
//! shows the same pages (`torchlight::timed` and so on). Without torchlight's `std`
//! feature, `#[timed]` needs `clock = …`.
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

/// Times an `async fn`: observes, in seconds, how long each call's future runs from
/// its first poll until it completes, fails, or is dropped: the body wrapped in
/// `Instrument::time` (or `Instrument::time_with` and a clock), Python
/// `prometheus_async`'s `@time`.
///
/// ```
/// use torchlight::{Histogram, Metric};
///
/// static REQ_TIME: Metric<Histogram> =
///     Metric::new("req_time_seconds", "Time spent in requests.", Histogram::new());
///
/// #[torchlight::timed(REQ_TIME)]
/// async fn lookup(id: u32) -> String {
///     format!("user {id}")
/// }
///
/// # fn block_on<F: core::future::Future>(f: F) -> F::Output { let mut f = core::pin::pin!(f); let mut cx = core::task::Context::from_waker(core::task::Waker::noop()); loop { if let core::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } } }
/// assert_eq!(block_on(lookup(7)), "user 7");
/// assert_eq!(REQ_TIME.snapshot().count(), 1);
/// ```
///
/// # The metric
///
/// The first argument is an expression naming the metric; the attribute borrows it
/// (`&METRIC`), so a `static`, a labelled child (`METRIC.get(Labels { .. })`, a
/// family's `METRIC.get_or_create([..])`) or anything implementing `Observe` works. It
/// is evaluated once per call, when the call's future is first polled and before the
/// body runs, so it may use the arguments:
/// `#[timed(BY_METHOD.get_or_create([method]))] async fn handle(method: &str)`.
///
/// The signature, documentation and other attributes stay as written; the attributes
/// stack (the one nearest the `fn` is the outermost wrapper). Without torchlight's
/// `std` feature, `#[timed]` needs `clock = …`; the others need nothing more.
///
/// # Options
///
/// ## `clock = CLOCK`
///
/// Reads time from `CLOCK`, any `torchlight::Clock` passed by value (write `&CLOCK`
/// for a `static`), instead of `StdClock`: a `ManualClock` in tests, an adapter's
/// runtime clock (tokio's, so paused time works), a tick counter on a microcontroller.
/// **Required without torchlight's `std` feature**, where there is no `StdClock`;
/// leaving it out there is a compile error that asks for it.
///
/// ```
/// use std::time::Duration;
/// use torchlight::{Histogram, ManualClock, Metric};
///
/// static REQ_TIME: Metric<Histogram> =
///     Metric::new("req_time_seconds", "Time spent in requests.", Histogram::new());
/// static CLOCK: ManualClock = ManualClock::new();
///
/// #[torchlight::timed(REQ_TIME, clock = &CLOCK)]
/// async fn lookup() {
///     CLOCK.advance(Duration::from_millis(300));
/// }
///
/// # fn block_on<F: core::future::Future>(f: F) -> F::Output { let mut f = core::pin::pin!(f); let mut cx = core::task::Context::from_waker(core::task::Waker::noop()); loop { if let core::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } } }
/// block_on(lookup());
/// assert_eq!(REQ_TIME.snapshot().sum(), 0.3);
/// ```
///
/// ## `exemplar = || LABELS`
///
/// Records with each observation, as its exemplar, the labels the closure returns
/// when the call ends (usually the current trace id; `Timed::exemplar`). The metric
/// must keep exemplars: `ExemplarHistogram` or `ExemplarNativeHistogram`. Exemplars
/// are written in OpenMetrics.
///
/// ```
/// use torchlight::{ExemplarHistogram, Metric};
///
/// static REQ_TIME: Metric<ExemplarHistogram> =
///     Metric::new("req_time_seconds", "Time spent in requests.", ExemplarHistogram::new());
///
/// #[torchlight::timed(REQ_TIME, exemplar = || [("trace_id", trace_id)])]
/// async fn lookup(trace_id: &str) {}
///
/// # fn block_on<F: core::future::Future>(f: F) -> F::Output { let mut f = core::pin::pin!(f); let mut cx = core::task::Context::from_waker(core::task::Waker::noop()); loop { if let core::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } } }
/// block_on(lookup("4bf92f35"));
/// let exemplar = (0..15).find_map(|bucket| REQ_TIME.exemplar(bucket)).expect("one exemplar");
/// assert_eq!(exemplar.labels().next(), Some(("trace_id", "4bf92f35")));
/// ```
#[proc_macro_attribute]
pub fn timed(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(Kind::Timed, args.into(), item.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Counts an `async fn`'s errors: increments the counter once for each `Err` it
/// returns and once for each panic out of its body: the body wrapped in
/// `Instrument::count_errors`, Python `prometheus_async`'s `@count_exceptions`.
///
/// ```
/// use torchlight::{Counter, Metric};
///
/// static ERRORS: Metric<Counter> = Metric::new("req_errors", "Failed requests.", Counter::new());
///
/// #[torchlight::count_errors(ERRORS)]
/// async fn lookup(id: u32) -> Result<String, String> {
///     if id == 0 {
///         return Err("no such user".into());
///     }
///     Ok(format!("user {id}"))
/// }
///
/// # fn block_on<F: core::future::Future>(f: F) -> F::Output { let mut f = core::pin::pin!(f); let mut cx = core::task::Context::from_waker(core::task::Waker::noop()); loop { if let core::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } } }
/// assert!(block_on(lookup(7)).is_ok());
/// assert!(block_on(lookup(0)).is_err());
/// assert_eq!(ERRORS.get(), 1);
/// ```
///
/// # The metric
///
/// The first argument is an expression naming the metric; the attribute borrows it
/// (`&METRIC`), so a `static`, a labelled child (`METRIC.get(Labels { .. })`, a
/// family's `METRIC.get_or_create([..])`) or anything implementing `Inc` works. It
/// is evaluated once per call, when the call's future is first polled and before the
/// body runs, so it may use the arguments:
/// `#[count_errors(BY_METHOD.get_or_create([method]))] async fn handle(method: &str)`.
///
/// The signature, documentation and other attributes stay as written; the attributes
/// stack (the one nearest the `fn` is the outermost wrapper). Without torchlight's
/// `std` feature, `#[timed]` needs `clock = …`; the others need nothing more.
///
/// # Options
///
/// ## `filter = |error| …`
///
/// Counts only the errors the closure accepts (`Instrument::count_errors_if`); a
/// panic is always counted.
///
/// ```
/// use torchlight::{Counter, Metric};
///
/// static TIMEOUTS: Metric<Counter> = Metric::new("timeouts", "Timed-out calls.", Counter::new());
///
/// #[torchlight::count_errors(TIMEOUTS, filter = |error: &String| error.contains("timeout"))]
/// async fn call(outcome: &str) -> Result<(), String> {
///     Err(outcome.to_owned())
/// }
///
/// # fn block_on<F: core::future::Future>(f: F) -> F::Output { let mut f = core::pin::pin!(f); let mut cx = core::task::Context::from_waker(core::task::Waker::noop()); loop { if let core::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } } }
/// block_on(call("timeout")).unwrap_err();
/// block_on(call("refused")).unwrap_err();
/// assert_eq!(TIMEOUTS.get(), 1);
/// ```
///
/// ## `cancellation = true`
///
/// Also counts a cancellation: the call's future dropped after its first poll and
/// before it finished (`CountErrors::count_cancellation`). Combines with `filter`.
///
/// ```
/// use std::future::Future;
/// use std::pin::pin;
/// use std::task::{Context, Waker};
/// use torchlight::{Counter, Metric};
///
/// static ABANDONED: Metric<Counter> = Metric::new("abandoned", "Calls not finished.", Counter::new());
///
/// #[torchlight::count_errors(ABANDONED, cancellation = true)]
/// async fn call() -> Result<(), ()> {
///     std::future::pending::<()>().await;
///     Ok(())
/// }
///
/// {
///     let mut future = pin!(call());
///     let _ = future.as_mut().poll(&mut Context::from_waker(Waker::noop()));
/// } // dropped unfinished
/// assert_eq!(ABANDONED.get(), 1);
/// ```
///
/// ## `exemplar = || LABELS`
///
/// Records with each count, as its exemplar, the labels the closure returns when the
/// call ends (`CountErrors::exemplar`). The metric must keep exemplars:
/// `ExemplarCounter`.
///
/// ```
/// use torchlight::{ExemplarCounter, Metric};
///
/// static ERRORS: Metric<ExemplarCounter> =
///     Metric::new("req_errors", "Failed requests.", ExemplarCounter::new());
///
/// #[torchlight::count_errors(ERRORS, exemplar = || [("trace_id", trace_id)])]
/// async fn call(trace_id: &str) -> Result<(), ()> {
///     Err(())
/// }
///
/// # fn block_on<F: core::future::Future>(f: F) -> F::Output { let mut f = core::pin::pin!(f); let mut cx = core::task::Context::from_waker(core::task::Waker::noop()); loop { if let core::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } } }
/// block_on(call("4bf92f35")).unwrap_err();
/// let exemplar = ERRORS.exemplar().expect("the failure's exemplar");
/// assert_eq!(exemplar.labels().next(), Some(("trace_id", "4bf92f35")));
/// ```
#[proc_macro_attribute]
pub fn count_errors(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(Kind::CountErrors, args.into(), item.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Tracks an `async fn`'s calls in progress: increments the gauge when a call's future
/// is first polled and decrements it exactly once when it completes, fails, or is
/// dropped: the body wrapped in `Instrument::track_in_progress`, Python
/// `prometheus_async`'s `@track_inprogress`.
///
/// ```
/// use torchlight::{Gauge, Metric};
///
/// static IN_FLIGHT: Metric<Gauge> = Metric::new("in_flight", "Requests in flight.", Gauge::new());
///
/// #[torchlight::track_in_progress(IN_FLIGHT)]
/// async fn lookup() -> i64 {
///     IN_FLIGHT.get()
/// }
///
/// # fn block_on<F: core::future::Future>(f: F) -> F::Output { let mut f = core::pin::pin!(f); let mut cx = core::task::Context::from_waker(core::task::Waker::noop()); loop { if let core::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } } }
/// assert_eq!(block_on(lookup()), 1, "counted while it runs");
/// assert_eq!(IN_FLIGHT.get(), 0);
/// ```
///
/// # The metric
///
/// The first argument is an expression naming the metric; the attribute borrows it
/// (`&METRIC`), so a `static`, a labelled child (`METRIC.get(Labels { .. })`, a
/// family's `METRIC.get_or_create([..])`) or anything implementing `IncDec` works. It
/// is evaluated once per call, when the call's future is first polled and before the
/// body runs, so it may use the arguments:
/// `#[track_in_progress(BY_METHOD.get_or_create([method]))] async fn handle(method: &str)`.
///
/// The signature, documentation and other attributes stay as written; the attributes
/// stack (the one nearest the `fn` is the outermost wrapper). Without torchlight's
/// `std` feature, `#[timed]` needs `clock = …`; the others need nothing more.
///
/// # Options
///
/// None.
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

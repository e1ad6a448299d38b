//! Metrics labelled by values known at compile time, stored densely: no hashing, no
//! allocation, no lock.
//!
//! A [`LabelValue`] is an enum whose variants are the label's possible values; a
//! [`LabelSet`] is a struct of them, one field per label. Each set maps to a dense
//! index (mixed radix over its fields, the first field varying fastest), and a
//! [`Labelled`] keeps one metric per index in an array. Declare both with
//! [`label_value!`](crate::label_value) and [`label_set!`](crate::label_set).

use core::fmt;
use core::marker::PhantomData;

use crate::collect::{Collect, MetricType, Series};
use crate::sample::{EncodeLabels, Encoder};

/// One label's possible values, as a fieldless enum (or `bool`).
pub trait LabelValue: Copy + 'static {
    /// The exposed value of each variant, by index.
    const VALUES: &'static [&'static str];

    /// This value's position in [`VALUES`](Self::VALUES).
    fn index(self) -> usize;

    /// The value at `index`.
    ///
    /// # Panics
    ///
    /// If `index >= VALUES.len()`.
    fn from_index(index: usize) -> Self;

    /// The exposed value.
    fn as_str(self) -> &'static str {
        Self::VALUES[self.index()]
    }
}

impl LabelValue for bool {
    const VALUES: &'static [&'static str] = &["false", "true"];

    fn index(self) -> usize {
        usize::from(self)
    }

    fn from_index(index: usize) -> Self {
        index != 0
    }
}

/// A combination of label values known at compile time.
pub trait LabelSet: EncodeLabels + Copy + 'static {
    /// The label names, in exposition order.
    const NAMES: &'static [&'static str];
    /// How many distinct sets there are.
    const CARDINALITY: usize;

    /// This set's dense index, `< CARDINALITY`.
    fn index(self) -> usize;

    /// The set at `index`.
    ///
    /// # Panics
    ///
    /// If `index >= CARDINALITY`.
    fn from_index(index: usize) -> Self;
}

/// Declares an enum of label values and implements [`LabelValue`] for it.
///
/// ```
/// torchlight::label_value! {
///     /// The HTTP method.
///     pub enum Method { Get = "GET", Post = "POST" }
/// }
/// use torchlight::LabelValue;
/// assert_eq!(Method::Post.as_str(), "POST");
/// ```
#[macro_export]
macro_rules! label_value {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $($(#[$variant_meta:meta])* $variant:ident = $value:literal),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        $vis enum $name {
            $($(#[$variant_meta])* $variant),+
        }

        impl $crate::LabelValue for $name {
            const VALUES: &'static [&'static str] = &[$($value),+];

            fn index(self) -> usize {
                self as usize
            }

            fn from_index(index: usize) -> Self {
                const ALL: &[$name] = &[$($name::$variant),+];
                ALL[index]
            }
        }
    };
}

/// Declares a struct of [`LabelValue`] fields and implements [`LabelSet`] for it; the
/// field names are the label names.
///
/// ```
/// use torchlight::{Counter, Format, Labelled, Metric, Registry};
///
/// torchlight::label_value! { pub enum Method { Get = "GET", Post = "POST" } }
/// torchlight::label_value! { pub enum Class { Ok = "2xx", Client = "4xx", Server = "5xx" } }
/// torchlight::label_set! { pub struct Route { pub method: Method, pub class: Class } }
///
/// static RESPONSES: Metric<Labelled<Route, Counter, 6>> =
///     Metric::new("responses", "Responses sent.", Labelled::new([const { Counter::new() }; 6]));
///
/// RESPONSES.get(Route { method: Method::Post, class: Class::Server }).inc();
///
/// let registry = Registry::new();
/// registry.register(&RESPONSES)?;
/// let mut text = String::new();
/// registry.encode(&mut text, Format::Text)?;
/// assert!(text.contains("responses_total{method=\"POST\",class=\"5xx\"} 1\n"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[macro_export]
macro_rules! label_set {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $($(#[$field_meta:meta])* $field_vis:vis $field:ident : $ty:ty),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        $vis struct $name {
            $($(#[$field_meta])* $field_vis $field: $ty),+
        }

        impl $crate::LabelSet for $name {
            const NAMES: &'static [&'static str] = &[$(::core::stringify!($field)),+];
            const CARDINALITY: usize = 1 $(* <$ty as $crate::LabelValue>::VALUES.len())+;

            fn index(self) -> usize {
                let mut index = 0;
                let mut stride = 1;
                $(
                    index += $crate::LabelValue::index(self.$field) * stride;
                    stride *= <$ty as $crate::LabelValue>::VALUES.len();
                )+
                let _ = stride;
                index
            }

            fn from_index(index: usize) -> Self {
                let mut rest = index;
                $(
                    let len = <$ty as $crate::LabelValue>::VALUES.len();
                    let $field = <$ty as $crate::LabelValue>::from_index(rest % len);
                    rest /= len;
                )+
                let _ = rest;
                Self { $($field),+ }
            }
        }

        impl $crate::EncodeLabels for $name {
            fn encode(&self, labels: &mut $crate::LabelEncoder<'_>) -> ::core::fmt::Result {
                $(labels.label(::core::stringify!($field), $crate::LabelValue::as_str(self.$field))?;)+
                Ok(())
            }
        }
    };
}

/// One metric per [`LabelSet`], in an array indexed by the set.
///
/// `N` must equal `L::CARDINALITY`; [`new`](Self::new) checks it, which in a `static`
/// is a compile-time error. See [`label_set!`](crate::label_set) for an example.
pub struct Labelled<L, M, const N: usize> {
    cells: [M; N],
    labels: PhantomData<fn() -> L>,
}

impl<L: LabelSet, M, const N: usize> Labelled<L, M, N> {
    /// One metric per label set, `cells[i]` for the set whose index is `i`; typically
    /// `[const { Counter::new() }; N]`.
    ///
    /// # Panics
    ///
    /// If `N != L::CARDINALITY` (a compile error in a `static`).
    #[must_use]
    pub const fn new(cells: [M; N]) -> Self {
        assert!(
            N == L::CARDINALITY,
            "Labelled<L, M, N> needs N == L::CARDINALITY"
        );
        Self {
            cells,
            labels: PhantomData,
        }
    }

    /// The metric for `labels`.
    #[inline]
    #[must_use]
    pub fn get(&self, labels: L) -> &M {
        &self.cells[labels.index()]
    }

    /// Every label set with its metric, in index order.
    pub fn iter(&self) -> impl Iterator<Item = (L, &M)> {
        self.cells
            .iter()
            .enumerate()
            .map(|(index, cell)| (L::from_index(index), cell))
    }
}

impl<L, M: fmt::Debug, const N: usize> fmt::Debug for Labelled<L, M, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Labelled")
            .field("cells", &self.cells)
            .finish()
    }
}

impl<L: LabelSet, M: Series, const N: usize> Collect for Labelled<L, M, N> {
    fn metric_type(&self) -> MetricType {
        M::TYPE
    }

    fn label_names(&self) -> &[&'static str] {
        L::NAMES
    }

    fn encode(&self, encoder: &mut Encoder<'_>) -> fmt::Result {
        self.iter()
            .try_for_each(|(labels, cell)| cell.encode_series(&labels, encoder))
    }

    /// Every child exists from the start, so all get the registration's timestamp.
    fn set_created(&self, created: Option<core::time::Duration>) {
        for cell in &self.cells {
            cell.set_created(created);
        }
    }
}
